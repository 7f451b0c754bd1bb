"""CalDAV sync cost against a real Radicale on loopback: first sync, a no-change sync, and a sync after one
event changed, for a calendar of N objects (a third of them weekly series), plus an Android call log of M
calls. Run: python bench/bench_calendar.py [--events 600] [--calls 20000]"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.servers_dav import PASSWORD, Radicale  # noqa: E402
from tests.test_caldav_sync import ics  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=600)
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    from inboxrel.config import CalendarConfig
    from inboxrel.db import open_store
    from inboxrel.sources.caldav import sync_calendar
    from inboxrel.sources.calllog import import_calls

    now = datetime(2024, 5, 25, 12, tzinfo=timezone.utc)
    base = Path(tempfile.mkdtemp(prefix="benchcal"))
    engine = open_store(f"sqlite:///{base / 'store.db'}", create=True)
    dav = Radicale().start()
    try:
        user = dav.user()
        dav.calendar(user, "work")
        t = time.monotonic()
        for i in range(args.events):
            rrule = "FREQ=WEEKLY" if i % 3 == 0 else None
            dav.put(user, "work", f"e{i}.ics", ics(f"e{i}", f"202{3 + i % 2}{(i % 12) + 1:02d}{(i % 27) + 1:02d}T150000Z",
                                                   rrule=rrule, summary=f"event {i}"))
        seed = time.monotonic() - t
        cal = CalendarConfig(name="work", url=f"{dav.url}/{user}/work/", username=user, password_env="PW")
        env = {"PW": PASSWORD}
        for label in ("first sync", "no-change sync", "one event changed"):
            if label == "one event changed":
                dav.put(user, "work", "e1.ics", ics("e1", "20240520T150000Z", summary="moved"))
            t = time.monotonic()
            out = sync_calendar(engine, cal, now=now, environ=env)
            print(f"{label:<20} {time.monotonic() - t:6.2f} s  changed {out['changed']:>4}  unchanged "
                  f"{out['unchanged']:>4}  occurrences {out['occurrences']}")
        print(f"(seeding {args.events} objects over HTTP took {seed:.1f} s)")
    finally:
        dav.stop()
    lines = ["<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>", f'<calls count="{args.calls}">']
    for i in range(args.calls):
        lines.append(f'  <call number="+1713555{i % 10000:04d}" duration="{i % 900}" date="{1700000000000 + i * 60000}" '
                     f'type="{1 + i % 3}" presentation="1" readable_date="" contact_name="(Unknown)" />')
    lines.append("</calls>")
    path = base / "calls.xml"
    path.write_text("\n".join(lines))
    t = time.monotonic()
    out = import_calls(engine, path, now=now)
    print(f"call log: {out['calls']} calls read and matched in {time.monotonic() - t:.2f} s "
          f"({out['calls'] / (time.monotonic() - t):,.0f} calls/s; none match a person in this empty store)")


if __name__ == "__main__":
    main()
