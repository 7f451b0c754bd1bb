"""Schema upgrades: a store at every earlier revision, and one made by an early build of 0001, reaches head
with its data in place; a store newer than the code is refused in one line.

The revisions come from the migration history itself (``known_revisions()``), so a new revision is covered
here without touching this file.
"""

from __future__ import annotations

import importlib.util
from datetime import date, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from click.testing import CliRunner
from sqlalchemy import MetaData, Table, create_engine, func, inspect, select, text

from inboxrel.cli import cli
from inboxrel.db import HEAD_REVISION, build_engine, current_revision, known_revisions, migrate, open_store
from inboxrel.errors import StoreVersionError
from inboxrel.models import metadata
from inboxrel.models import summary as summary_models
from inboxrel.pipelines.importer import import_path
from tests.conftest import FIXTURES

REVISIONS = known_revisions()
# revision 0001 as the build of 26 November 03:46 (commit c1af4ba) wrote it, before it was edited in place
EARLY_0001 = FIXTURES / "migrations" / "0001_initial_schema_c1af4ba.py.txt"
# columns only the early build made; kept on upgrade (an upgrade never drops data), unused by the models
EARLY_EXTRA_COLUMNS = {("addresses", "first_seen"), ("addresses", "last_seen")}
# derived tables (inboxrel/models/summary.py) may be emptied by an upgrade: they are rebuilt from the mail
DERIVED_TABLES = {t.name for t in vars(summary_models).values() if isinstance(t, Table)}


def test_head_revision_constant_is_the_newest_migration():
    assert REVISIONS[-1] == HEAD_REVISION
    assert REVISIONS[0] == "0001" and len(REVISIONS) == len(set(REVISIONS))


def _value(col, n: int):
    """A value of the column's type, distinct per row number ``n``."""
    try:
        kind = col.type.python_type
    except NotImplementedError:
        kind = str
    if kind is bool:
        return bool(n % 2)
    if kind is int:
        return n
    if kind is float:
        return n + 0.5
    if kind is datetime:
        return datetime(2020, 1, n, 12, 30)
    if kind is date:
        return date(2020, 1, n)
    if kind is bytes:
        return b"x%d" % n
    length = getattr(col.type, "length", None) or 40
    return f"v{n}-{col.name}"[:length]


def _fill(conn, rows_per_table: int = 2) -> dict[str, list[dict]]:
    """One synthetic row per number in every table the schema at this revision has, parents first."""
    meta = MetaData()
    meta.reflect(conn)
    written: dict[str, list[dict]] = {}
    for table in meta.sorted_tables:
        if table.name == "alembic_version":
            continue
        rows = []
        for n in range(1, rows_per_table + 1):
            row = {}
            for col in table.columns:
                if col.foreign_keys:
                    row[col.name] = n  # row n of the parent, written before (sorted_tables)
                else:
                    row[col.name] = _value(col, n)
            rows.append(row)
        conn.execute(table.insert(), rows)
        written[table.name] = rows
    return written


def _naive(v):
    return v.replace(tzinfo=None) if isinstance(v, datetime) else v


def _assert_rows_kept(conn, written: dict[str, list[dict]]) -> None:
    meta = MetaData()
    meta.reflect(conn)
    for name, rows in written.items():
        assert name in meta.tables, f"table {name} was dropped by an upgrade"
        table = meta.tables[name]
        for col in {c for r in rows for c in r}:
            assert col in table.c, f"column {name}.{col} was dropped by an upgrade"
        got = [dict(r._mapping) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]
        if name in DERIVED_TABLES and not got:
            continue  # emptied, to be rebuilt from the messages on the next read
        assert len(got) == len(rows), f"{name}: {len(rows)} rows before the upgrade, {len(got)} after"
        for before, after in zip(rows, got):
            assert {k: _naive(after[k]) for k in before} == before, name


def _schema_diff(conn, allowed_extra=frozenset()) -> list:
    diff = compare_metadata(MigrationContext.configure(conn), metadata)
    return [d for d in diff if not (d[0] == "remove_column" and (d[2], d[3].name) in allowed_extra)]


@pytest.mark.parametrize("start", REVISIONS[:-1] or ["(only one revision)"])
def test_a_store_at_each_earlier_revision_upgrades_with_its_data(db_url, start):
    if start not in REVISIONS:
        pytest.skip("no earlier revision yet")
    engine = build_engine(db_url)
    migrate(engine, start)
    assert current_revision(engine) == start
    with engine.begin() as conn:
        written = _fill(conn)
    engine.dispose()

    engine = open_store(db_url, create=False)  # what any command does with an old store
    assert current_revision(engine) == HEAD_REVISION
    with engine.connect() as conn:
        _assert_rows_kept(conn, written)
        assert _schema_diff(conn) == []


def _early_0001_upgrade(conn) -> None:
    spec = importlib.util.spec_from_loader("early_0001", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(EARLY_0001.read_text(encoding="utf-8"), str(EARLY_0001), "exec"), module.__dict__)
    ctx = MigrationContext.configure(conn, opts={"render_as_batch": True})
    with Operations.context(ctx):
        module.upgrade()
    conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
    conn.execute(text("INSERT INTO alembic_version VALUES ('0001')"))


def _copy_common(src_conn, dst_conn) -> dict[str, int]:
    """Copy every row of ``src`` into the tables and columns ``dst`` also has; rows per table."""
    src, dst = MetaData(), MetaData()
    src.reflect(src_conn)
    dst.reflect(dst_conn)
    counts = {}
    for table in src.sorted_tables:
        if table.name == "alembic_version" or table.name not in dst.tables:
            continue
        target = dst.tables[table.name]
        cols = [c.name for c in table.columns if c.name in target.c]
        rows = [dict(zip(cols, r)) for r in src_conn.execute(select(*[table.c[c] for c in cols]))]
        if rows:
            dst_conn.execute(target.insert(), rows)
        counts[table.name] = len(rows)
    return counts


def test_a_store_made_by_the_early_build_of_0001_is_brought_up_and_answers(db_url, tmp_path, now):
    """The early 0001 lacked summary_state, person_days, person_totals and the accounts' sync columns:
    such a store said "0001" and crashed `suggest` and `report` on every run. Real imported mail is copied
    into one, then every reading command runs on it."""
    donor = open_store(f"sqlite:///{tmp_path / 'donor.db'}")
    import_path(donor, FIXTURES / "mail" / "small", now=now, me=["alice@example.org"])

    engine = build_engine(db_url)
    with engine.begin() as conn:
        _early_0001_upgrade(conn)
        assert not inspect(conn).has_table("summary_state")
        with donor.connect() as src:
            counts = _copy_common(src, conn)
    engine.dispose()
    assert counts["messages"] == 9

    engine = open_store(db_url, create=False)
    with engine.connect() as conn:
        assert current_revision(engine) == HEAD_REVISION
        assert _schema_diff(conn, EARLY_EXTRA_COLUMNS) == []
        assert conn.execute(select(func.count()).select_from(metadata.tables["messages"])).scalar() == 9
    engine.dispose()
    for args in (["people"], ["stats"], ["suggest"], ["report"], ["threads"], ["status"]):
        result = CliRunner().invoke(cli, ["--db", db_url, "--now", "2002-01-05", *args])
        assert result.exit_code == 0, (args, result.output, result.exception)


def test_a_store_newer_than_the_code_is_refused_in_one_line(sqlite_url):
    engine = open_store(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(StoreVersionError, match=rf"revision 9999, newer than .* \(up to {HEAD_REVISION}\)"):
        open_store(sqlite_url)
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "people"])
    assert result.exit_code == 65
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "9999" in lines[0] and HEAD_REVISION in lines[0], result.output
    # the store is untouched
    check = create_engine(sqlite_url)
    with check.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"


def test_the_early_0001_fixture_is_what_git_history_holds():
    """The fixture is a byte-for-byte copy of the early build's revision (when the history is at hand)."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    try:
        old = subprocess.run(["git", "-C", str(root), "show", "c1af4ba:inboxrel/migrations/versions/0001_initial_schema.py"],
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history here (an sdist or a shallow clone)")
    assert old == EARLY_0001.read_bytes()


# 0001 was rewritten in place three times before the rule was set; revision 0003 repairs what that did.
EDITED_BEFORE_THE_RULE = {"0001_initial_schema.py": {"c1af4ba", "d0799a8", "1702408"}}


def test_a_landed_migration_is_never_edited():
    """Each revision file has exactly one commit (the one adding it), and no uncommitted change."""
    import subprocess

    root = Path(__file__).resolve().parents[1]
    versions = root / "inboxrel" / "migrations" / "versions"

    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout

    try:
        git("rev-parse", "HEAD")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("no git history here (an sdist or a shallow clone)")
    for path in sorted(versions.glob("*.py")):
        rel = path.relative_to(root).as_posix()
        commits = git("log", "--format=%h", "--abbrev=7", "--", rel).split()
        if not commits:
            continue  # being added: not landed yet
        allowed = EDITED_BEFORE_THE_RULE.get(path.name, set())
        later = [c for c in commits[:-1] if c[:7] not in allowed]
        assert not later, f"{rel} was edited after it landed ({', '.join(later)}): add a new revision instead"
        assert not git("diff", "HEAD", "--", rel), f"{rel} has changed since it landed: add a new revision instead"
