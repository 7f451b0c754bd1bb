"""The store: migrations match the models, re-opening keeps data, PostgreSQL and SQLite behave alike."""

from __future__ import annotations

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
