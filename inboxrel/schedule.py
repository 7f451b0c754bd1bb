"""The nightly job as a crontab line and a systemd service + timer (text only; nothing is installed)."""

from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path

_SYSTEMD_PLAIN = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


def find_executable() -> list[str]:
    """The words that start inboxrel from cron's bare environment: an absolute path, never a bare name."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "inboxrel" and argv0.exists():
        return [str(argv0.absolute())]
    found = shutil.which("inboxrel")
    if found:
        return [str(Path(found).absolute())]
    return [sys.executable, "-m", "inboxrel"]


def build_schedule(*, hour: int, minute: int, data_dir: Path, config: str | None = None, db: str | None = None,
                   executable: list[str] | None = None) -> dict[str, str]:
    """{'cron': line, 'service': unit text, 'timer': unit text} for `ingest --quiet && report` at hour:minute."""
    base = list(executable or find_executable())
    if config:
        base += ["--config", str(Path(config).expanduser().absolute())]
    if db:
        base += ["--db", db]
    ingest = base + ["ingest", "--quiet"]
    report = base + ["report", "--format", "html", "--output", str(Path(data_dir) / "report.html")]
    cron = f"{minute} {hour} * * * {shlex.join(ingest)} && {shlex.join(report)}"
    # A oneshot service runs its ExecStart lines in order and stops at the first that fails: the `&&` of cron.
    service = ("[Unit]\nDescription=inboxrel: fetch new mail (read-only) and write the report\n"
               "After=network-online.target\nWants=network-online.target\n\n"
               "[Service]\nType=oneshot\n"
               f"ExecStart={_systemd_join(ingest)}\nExecStart={_systemd_join(report)}\n")
    timer = ("[Unit]\nDescription=Run inboxrel every night\n\n"
             f"[Timer]\nOnCalendar=*-*-* {hour:02d}:{minute:02d}:00\nPersistent=true\nRandomizedDelaySec=10min\n\n"
             "[Install]\nWantedBy=timers.target\n")
    return {"cron": cron, "service": service, "timer": timer}


def _systemd_join(words: list[str]) -> str:
    out = []
    for w in words:
        w = w.replace("%", "%%")  # systemd expands %-specifiers in ExecStart
        if _SYSTEMD_PLAIN.match(w):
            out.append(w)
        else:
            out.append('"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return " ".join(out)
