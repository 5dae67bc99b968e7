"""Old and Chinese Office formats → Office Open XML with LibreOffice: DOC/WPS/RTF → DOCX, XLS/ET → XLSX.

Each conversion runs ``soffice --headless --convert-to`` in a fresh temporary directory with a profile
of its own (``-env:UserInstallation``), so concurrent conversions never share one. The profile is seeded
before the first start so that the document cannot do anything but be read:

* macros never run (``MacroSecurityLevel`` 3, ``DisableMacrosExecution``);
* links are never updated, untrusted referer links (remote images) are blocked, and LibreOffice's proxy
  points at a closed local port (the ``*_proxy`` variables too): nothing is fetched from the network;
* ``--norestore --nolockcheck --nodefault``: no recovery dialog, no lock files, no start centre.

The whole process group is killed when ``converter_timeout_s`` runs out (``soffice`` is a launcher
whose children would otherwise survive) and the directory, profile included, is removed afterwards.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from nianbao.parser.errors import UnusableInput
from nianbao.parser.settings import ParserSettings
from nianbao.shared.errors import PermanentError

TARGETS = {"doc": "docx", "wps": "docx", "rtf": "docx", "xls": "xlsx", "et": "xlsx"}
"""Which Office Open XML format each convertible suffix becomes."""
_ALLOWED_TARGETS = {"docx", "xlsx", "doc", "xls", "rtf", "pdf"}  # doc/xls/pdf: the fixture writers go the other way
_SUFFIX = re.compile(r"^[a-z0-9]{1,8}$")
_CLOSED_PROXY = ("127.0.0.1", 9)  # the discard port: nothing listens, a fetch fails at once
_PROXY_VARIABLES = ("http_proxy", "https_proxy", "ftp_proxy", "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY")
_LOG_LIMIT = 2_000


class ConverterMissing(PermanentError):
    """The converter (LibreOffice) is not installed: the document's format cannot be read here."""

    def __init__(self, command: str) -> None:
        super().__init__(f"the document converter {command!r} is not installed")
        self.command = command


def target_for(suffix: str) -> str | None:
    """``"docx"`` for ``.doc``/``.wps``/``.rtf``, ``"xlsx"`` for ``.xls``/``.et``, else None."""
    return TARGETS.get(suffix.lower().lstrip("."))


def convert(data: bytes, source_suffix: str, target: str, settings: ParserSettings) -> bytes:
    """Convert ``data`` (a ``source_suffix`` file, e.g. ``".doc"``) to ``target`` (``"docx"``,
    ``"xlsx"``); :class:`ConverterMissing` without LibreOffice, ``UnusableInput("conversion_failed")``
    when it fails, times out or writes nothing, ``UnusableInput("too_large")`` for oversized output."""
    suffix = source_suffix.lower().lstrip(".")
    if not _SUFFIX.match(suffix) or target not in _ALLOWED_TARGETS:
        raise ValueError(f"cannot convert .{suffix} to {target!r}")
    if len(data) > settings.max_document_bytes:
        raise UnusableInput("too_large", f"the document has {len(data)} bytes, over {settings.max_document_bytes}")
    command = shutil.which(settings.converter_command)
    if command is None:
        raise ConverterMissing(settings.converter_command)
    with tempfile.TemporaryDirectory(prefix="nianbao-convert-") as tmp:
        root = Path(tmp)
        source = root / f"input.{suffix}"
        source.write_bytes(data)
        outdir = root / "out"
        outdir.mkdir()
        profile = root / "profile"
        _seed_profile(profile)
        log = root / "log.txt"
        argv = [command, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
                "--nolockcheck", "--nodefault", "--nologo", "--convert-to", target, "--outdir", str(outdir),
                str(source)]  # fmt: skip
        _run(argv, cwd=root, log=log, timeout_s=settings.converter_timeout_s)
        produced = [p for p in outdir.iterdir() if p.is_file()]
        if not produced:
            detail = log.read_text("utf-8", "replace")[-_LOG_LIMIT:].strip() if log.exists() else ""
            raise UnusableInput("conversion_failed", f"LibreOffice wrote no .{target} for the .{suffix}: {detail}")
        size = produced[0].stat().st_size
        if size > settings.max_decompressed_bytes:
            raise UnusableInput("too_large", f"the converted .{target} has {size} bytes")
        return produced[0].read_bytes()


def _run(argv: list[str], *, cwd: Path, log: Path, timeout_s: float) -> None:
    """Run the converter in a process group of its own; kill the whole group on a timeout, and in any case
    once it is done (a launcher's children must not outlive the conversion)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(cwd),
        "TMPDIR": str(cwd),
        "LANG": "C.UTF-8",
        "SAL_USE_VCLPLUGIN": "svp",
        **dict.fromkeys(_PROXY_VARIABLES, "http://{}:{}".format(*_CLOSED_PROXY)),
    }
    with log.open("wb") as out:
        try:
            process = subprocess.Popen(
                argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        except OSError as exc:  # found by which() but not executable, or removed meanwhile
            raise UnusableInput("conversion_failed", f"the converter could not start: {exc}") from exc
        try:
            code = process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _kill_group(process)
            raise UnusableInput("conversion_failed", f"LibreOffice took longer than {timeout_s:g} s") from None
        finally:
            _kill_group(process)
    if code != 0:
        detail = log.read_text("utf-8", "replace")[-_LOG_LIMIT:].strip()
        raise UnusableInput("conversion_failed", f"LibreOffice exited with {code}: {detail}")


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group may be gone already
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _seed_profile(profile: Path) -> None:
    """A user profile whose settings LibreOffice reads at its first start."""
    user = profile / "user"
    user.mkdir(parents=True)
    host, port = _CLOSED_PROXY
    items = [
        ("/org.openoffice.Office.Common/Security/Scripting", "MacroSecurityLevel", "3"),
        ("/org.openoffice.Office.Common/Security/Scripting", "DisableMacrosExecution", "true"),
        ("/org.openoffice.Office.Common/Security/Scripting", "BlockUntrustedRefererLinks", "true"),
        ("/org.openoffice.Office.Writer/Content/Update", "Link", "2"),
        ("/org.openoffice.Office.Calc/Content/Update", "Link", "2"),
        ("/org.openoffice.Office.Common/Misc", "UseLocking", "false"),
        ("/org.openoffice.Office.Common/Misc", "FirstRun", "false"),
        ("/org.openoffice.Setup/Office", "ooSetupInstCompleted", "true"),
        ("/org.openoffice.Inet/Settings", "ooInetProxyType", "1"),
        ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyName", host),
        ("/org.openoffice.Inet/Settings", "ooInetHTTPProxyPort", str(port)),
        ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyName", host),
        ("/org.openoffice.Inet/Settings", "ooInetHTTPSProxyPort", str(port)),
        ("/org.openoffice.Inet/Settings", "ooInetFTPProxyName", host),
        ("/org.openoffice.Inet/Settings", "ooInetFTPProxyPort", str(port)),
        ("/org.openoffice.Inet/Settings", "ooInetNoProxy", ""),
    ]
    body = "\n".join(
        f'<item oor:path="{path}"><prop oor:name="{name}" oor:op="fuse"><value>{value}</value></prop></item>'
        for path, name, value in items
    )
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n' + body + "\n</oor:items>\n",
        encoding="utf-8",
    )
