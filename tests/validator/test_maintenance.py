"""`revalidate` after a rule change: findings are updated in place, never duplicated, history kept."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from nianbao.shared.db import session_scope, upgrade
from nianbao.shared.models import FINDING_ALL, Report, ReportVersion
from nianbao.shared.record import Finding, Record, request_keys
from nianbao.validator.maintenance import revalidate
from nianbao.validator.rules import RULES_VERSION, evaluate
from nianbao.validator.settings import ValidatorSettings
from nianbao.validator.store import store_validated


def _record() -> Record:
    values: dict[str, int | float | None] = dict.fromkeys(request_keys("gen2019"), 0)
    # 自然人: 3 new + 0 carried in = 2 granted (results_total 2) + 0 carried out -> balance fails by 1
    values.update({"new.natural": 3, "new.total": 3, "granted.natural": 2, "granted.total": 2,
                   "results_total.natural": 2, "results_total.total": 2})  # fmt: skip
    return Record(title="示例县2019年政府信息公开工作年度报告", agency={"name": "示例县人民政府"}, year={"value": 2019},
                  generation={"value": "gen2019"}, tables={"requests": values})  # fmt: skip


@pytest.mark.parametrize("backend", ["sqlite_url", "postgres_url"])
def test_revalidate_replaces_old_rule_output_without_duplicates(backend: str, request: pytest.FixtureRequest) -> None:
    url: str = request.getfixturevalue(backend)
    upgrade(url)
    record = _record()
    # What an older rules version said: a rule that no longer exists, and balance passing.
    old = [Finding(rule="requests.retired_rule", severity="warn", status="fail", where=None),
           Finding(rule="requests.balance", severity="error", status="pass", where="natural")]  # fmt: skip
    with session_scope(url) as session:
        store_validated(session, site_id="s", url="http://x.gov.cn/a.html", raw_key="e" * 64, record=record,
                        findings=old, rules_version="old-rules", blank_policy={})  # fmt: skip
    settings = ValidatorSettings(database_url=url)
    stats = revalidate(settings)
    assert (stats.considered, stats.revalidated, stats.changed, stats.errors) == (1, 1, 1, [])
    expected = {(f.rule, f.where or "", f.status) for f in evaluate(record).findings}
    with session_scope(url) as session:
        rows = session.execute(select(FINDING_ALL)).all()
        assert {(r.rule, r.location, r.status) for r in rows} == expected
        assert ("requests.balance", "natural", "fail") in expected
        assert len(rows) == len({(r.rule, r.location) for r in rows})
        assert session.exec(select(Report)).one().rules_version == RULES_VERSION
        assert session.exec(select(func.count()).select_from(ReportVersion)).one() == 2  # old and new verdicts
        count = len(rows)
    again = revalidate(settings)  # nothing stale any more
    assert again.revalidated == 0
    forced = revalidate(settings, only_stale=False)
    assert (forced.revalidated, forced.changed) == (1, 0)
    with session_scope(url) as session:
        assert session.exec(select(func.count()).select_from(FINDING_ALL)).one() == count
