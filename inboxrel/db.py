"""The store: an engine from a URL (SQLite by default, PostgreSQL by URL), migrations, and the write lock."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path

from inboxrel.errors import LockedError, StoreError

# The newest migration; a store at this revision opens without loading Alembic at all.
HEAD_REVISION = "0002"


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        if rest and rest != ":memory:":
            return Path(rest)
    return None


def build_engine(url: str):
    """Create an engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    from sqlalchemy import create_engine, event

    path = _sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the store's folder {path.parent}: {exc.strerror}; pass --db") from None
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA cache_size=-65536")
            # checkpoint the WAL every ~40 MB rather than every 4 MB: a big sync rewrites the same index
            # pages batch after batch, and each checkpoint copies them into the database file again
            cur.execute("PRAGMA wal_autocheckpoint=10000")
            cur.close()

        return engine
    if url.startswith("postgresql"):
        try:
            return create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError:
            raise StoreError("PostgreSQL needs the driver: pip install 'inboxrel[postgres]'") from None
    try:
        return create_engine(url)
    except Exception as exc:  # bad URL
        raise StoreError(f"cannot use database URL: {exc}") from None


def current_revision(engine) -> str | None:
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def migrate(engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic; upgrades only add, never drop data."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def open_store(url: str, *, create: bool = True):
    """Return an engine for a store at the newest schema, creating or upgrading it when needed."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    engine = build_engine(url)
    try:
        rev = current_revision(engine)
        if rev != HEAD_REVISION:
            if rev is None and not create:
                raise StoreError(f"no inboxrel store at {redact_url(url)}: run `inboxrel import` or `inboxrel demo` first")
            migrate(engine)
    except OperationalError as exc:
        raise StoreError(f"cannot open the store at {redact_url(url)}: {exc.orig}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot open the store at {redact_url(url)}: {exc}") from None
    return engine


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def lock_path(url: str, data_dir: Path) -> Path:
    path = _sqlite_path(url)
    if path is not None:
        return path.with_name(path.name + ".lock")
    digest = hashlib.sha1(redact_url(url).encode()).hexdigest()[:16]
    return data_dir / f"store-{digest}.lock"


@contextmanager
def store_lock(url: str, data_dir: Path):
    """Hold the store's write lock; a second writer gets :class:`LockedError` at once."""
    from filelock import FileLock, Timeout

    path = lock_path(url, data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise LockedError(
            f"another inboxrel run is writing to this store (lock {path}); wait for it to finish"
        ) from None
    try:
        yield
    finally:
        lock.release()
