"""The store: migrations match the models, re-opening keeps data, PostgreSQL and SQLite behave alike."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from inboxrel.db import HEAD_REVISION, current_revision, migrate, open_store
from inboxrel.errors import LockedError, StoreError
from inboxrel.models import messages, metadata
from inboxrel.pipelines.importer import import_path
from tests.conftest import FIXTURES


def test_migrations_create_exactly_the_models(db_url):
    engine = open_store(db_url)
    assert current_revision(engine) == HEAD_REVISION
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_upgrading_again_keeps_the_data(db_url, now):
    engine = open_store(db_url)
    import_path(engine, FIXTURES / "mail" / "small", now=now, me=["alice@example.org"])
    migrate(engine)  # a second upgrade to head is a no-op
    engine2 = open_store(db_url)
    with engine2.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar() == 9


def test_unreachable_database_is_a_clear_error():
    import pytest

    with pytest.raises(StoreError, match="cannot open the store at postgresql"):
        open_store("postgresql+psycopg://nobody:secret@127.0.0.1:1/none")


def test_password_never_shown(tmp_path):
    import pytest

    with pytest.raises(StoreError) as exc:
        open_store("postgresql+psycopg://nobody:hunter2@127.0.0.1:1/none")
    assert "hunter2" not in str(exc.value)


def test_second_writer_is_refused(tmp_path):
    import pytest

    from inboxrel.db import store_lock

    url = f"sqlite:///{tmp_path / 's.db'}"
    with store_lock(url, tmp_path):
        with pytest.raises(LockedError, match="another inboxrel run"):
            with store_lock(url, tmp_path):
                pass


def _index_names(conn) -> set[str]:
    from sqlalchemy import inspect

    insp = inspect(conn)
    return {ix["name"] for table in ("messages", "participants", "locations", "threads", "addresses")
            for ix in insp.get_indexes(table)}


def test_first_import_builds_the_secondary_indexes_once_at_the_end(db_url, now, monkeypatch):
    """Into a small store the deferred indexes are absent while batches are written and all there after;
    into a bigger one they stay all along."""
    from inboxrel.pipelines import save
    from inboxrel.pipelines.save import DEFERRED_INDEXES

    engine = open_store(db_url)
    during: list[set[str]] = []

    def after_batch(conn, saved):  # runs inside each batch's transaction
        during.append(_index_names(conn))

    import_path(engine, FIXTURES / "mail" / "small", now=now, me=["alice@example.org"], after_batch=after_batch)
    assert during and all(not names & set(DEFERRED_INDEXES) for names in during)
    with engine.connect() as conn:
        assert set(DEFERRED_INDEXES) <= _index_names(conn)
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []

    during.clear()
    monkeypatch.setattr(save, "BULK_MAX_STORED", 5)  # the store now holds 9 messages: "big"
    import_path(engine, FIXTURES / "signals" / "mail", now=now, account="second", after_batch=after_batch)
    assert during and all(set(DEFERRED_INDEXES) <= names for names in during)


def test_an_import_that_fails_half_way_still_leaves_every_index(db_url, now, monkeypatch):
    from inboxrel.pipelines import importer

    engine = open_store(db_url)

    def broken(*args, **kwargs):
        raise RuntimeError("the disk went away")

    monkeypatch.setattr(importer, "_import_folder", broken)
    with pytest.raises(RuntimeError):
        import_path(engine, FIXTURES / "mail" / "small", now=now, me=["alice@example.org"])
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
