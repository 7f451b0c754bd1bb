"""The no-change fast path of ``inboxrel import``: is every folder under a path unchanged since last time?

Answered with the standard library's sqlite3 alone, before SQLAlchemy (about half a second to import on a
small machine) is loaded, so a nightly re-import of an unchanged mailbox costs little more than process
start. Any doubt (another database, an older schema, a new folder) answers None and the full import runs.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from inboxrel.db import HEAD_REVISION, _sqlite_path
from inboxrel.pipelines.local import discover_folders


def unchanged_folders(db_url: str, path: str | Path, account: str) -> list[str] | None:
    """Names of the folders under ``path`` when all are unchanged in ``account``'s store, else None."""
    db_path = _sqlite_path(db_url)
    if db_path is None or not db_path.exists():
        return None
    folders = discover_folders(path)  # raises SourceError for a bad path, as the full import would
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error:
        return None
    try:
        if conn.execute("SELECT version_num FROM alembic_version").fetchone() != (HEAD_REVISION,):
            return None
        rows = conn.execute(
            "SELECT f.name, f.source_state FROM folders f JOIN accounts a ON a.id = f.account_id WHERE a.name = ?",
            (account,),
        ).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    stored = dict(rows)
    for folder in folders:
        if stored.get(folder.name) is None or stored[folder.name] != folder.state():
            return None
    return [f.name for f in folders]
