"""Docs that match: the README's configuration reference is exactly what the settings classes declare."""

from __future__ import annotations

import re

from nianbao.app.config_doc import markdown_table, setting_docs

from support import REPO_ROOT


def test_readme_settings_table_matches_the_code() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", readme, re.S)
    assert match, "README lost its settings markers"
    assert match.group(1) == markdown_table(), "regenerate with: uv run nianbao config --markdown"


def test_every_setting_has_a_description() -> None:
    assert [d.env for d in setting_docs() if not d.description] == []


def test_readme_starts_with_the_two_fresh_machine_commands() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert first_block
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["uv run nianbao demo", "uv run pytest"]
    ci = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "\nuv run pytest\n" in ci  # CI runs exactly the README's test command
