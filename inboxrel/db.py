"""The store: an engine from a URL (SQLite by default, PostgreSQL by URL), migrations, and the write lock."""

from __future__ import annotations

import hashlib
import os
import re
from contextlib import contextmanager
from pathlib import Path

from inboxrel.errors import LockedError, StoreError, StoreMissingError, StoreVersionError

_REVISION_LINE = re.compile(r"""^(down_revision|revision)\s*=\s*['"]?([\w-]+|None)['"]?\s*$""", re.M)


def _head_revision() -> str:
    """The newest migration, read from the revision files' own lines (Alembic is not loaded for this).

    Revisions are added by hand, each chained to the newest one present; reading the head from the files
    means adding one needs no second edit here. tests/test_migrations.py checks it agrees with Alembic.
    """
    revs, downs = set(), set()
    for path in (Path(__file__).parent / "migrations" / "versions").glob("*.py"):
        found = dict(m.groups() for m in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")))
        if "revision" in found:
            revs.add(found["revision"])
            downs.add(found.get("down_revision"))
    heads = sorted(revs - downs)
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads ({', '.join(heads)}): chain each new "
                           f"revision to the newest one")
    return heads[0]


# The newest migration; a store at this revision opens without loading Alembic at all.
HEAD_REVISION = _head_revision()

# The key of the PostgreSQL advisory lock a writer holds for its whole run (one per database: every URL
# and every machine reaching that database takes the same lock).
PG_LOCK_KEY = int.from_bytes(hashlib.sha1(b"inboxrel store write lock").digest()[:8], "big", signed=True)


def normalize_url(db: str) -> str:
    """A database URL from what a user writes: a plain file path means SQLite, ``postgres://`` PostgreSQL."""
    db = db.strip()
    if "://" not in db:
        return f"sqlite:///{Path(db).expanduser()}"
    scheme, rest = db.split("://", 1)
    if scheme in ("postgres", "postgresql"):  # as libpq, Heroku and most hosts write it
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite" and rest.startswith("/~"):
        return f"sqlite:///{Path(rest[1:]).expanduser()}"
    return db


def _sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        rest = url[len("sqlite:///"):]
        if rest and rest != ":memory:":
            return Path(rest)
    return None


def build_engine(url: str, *, create: bool = True):
    """Create an engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    from sqlalchemy import create_engine, event

    path = _sqlite_path(url)
    if path is not None:
        if create:
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
        raise StoreError(f"cannot use database URL {redact_url(url)!r}: {exc}; "
                         f"use a file path, sqlite:///PATH or postgresql://USER@HOST/DB") from None


def current_revision(engine) -> str | None:
    """The store's schema revision, or None for an empty database (other errors are raised)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _alembic_config():
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


def known_revisions() -> list[str]:
    """Every revision this build's migrations know, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def migrate(engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic; upgrades only add, never drop data."""
    from alembic import command

    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def _store_name(url: str) -> str:
    path = _sqlite_path(url)
    return str(path) if path is not None else redact_url(url)


def _missing(url: str) -> StoreMissingError:
    return StoreMissingError(f"no inboxrel store at {_store_name(url)}: check --db (or INBOXREL_DB), "
                             f"or create one with `inboxrel import` or `inboxrel demo`")


def open_store(url: str, *, create: bool = True):
    """Return an engine for a store at the newest schema, creating or upgrading it when needed.

    With ``create=False`` (every command that does not write mail) a missing store is
    :class:`StoreMissingError` and nothing is created, not even the folder. A store whose schema is newer
    than this build is :class:`StoreVersionError`: it is never touched.
    """
    from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError

    path = _sqlite_path(url)
    if path is not None:
        _check_sqlite_file(path, url, create)
    engine = build_engine(url, create=create)
    try:
        rev = current_revision(engine)
        if rev != HEAD_REVISION:
            if rev is None and not create:
                raise _missing(url)
            if rev is not None and rev not in known_revisions():
                from inboxrel import __version__

                raise StoreVersionError(
                    f"the store at {_store_name(url)} has schema revision {rev}, newer than this inboxrel "
                    f"{__version__} knows (up to {HEAD_REVISION}): upgrade inboxrel, or pass --db for another store"
                )
            migrate(engine)
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise store_error(exc, url) from None
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the store at {_store_name(url)}: {exc}") from None
    return engine


def _check_sqlite_file(path: Path, url: str, create: bool) -> None:
    """Refuse, before SQLite touches it, a path that is no store: missing or empty (without ``create``),
    a folder, or a file that is not an SQLite database (never overwritten or "repaired")."""
    from inboxrel.errors import StoreDamagedError

    try:
        st = path.stat()
    except FileNotFoundError:
        if not create:
            raise _missing(url) from None
        return
    except OSError as exc:
        raise StoreError(f"cannot open the store at {path}: {exc.strerror}") from None
    if not path.is_file():
        raise StoreError(f"the store {path} is not a file; pass --db with a file path")
    if st.st_size == 0:
        if not create:
            raise _missing(url)
        return
    try:
        with open(path, "rb") as fh:
            magic = fh.read(16)
    except OSError as exc:
        raise StoreError(f"cannot read the store at {path}: {exc.strerror}") from None
    if magic != b"SQLite format 3\x00":
        raise StoreDamagedError(f"{path} is not an SQLite database (damaged, or not an inboxrel store): check "
                                f"--db, or restore the store from a backup")


def store_error(exc: Exception, url: str) -> StoreError:
    """The named error for a database failure while opening the store (damaged, read-only, unreachable)."""
    from inboxrel.errors import DiskError, StoreDamagedError

    orig = getattr(exc, "orig", exc)
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = text.lower()
    where = _store_name(url)
    if "not a database" in low or "malformed" in low or "no such table" in low or "no such column" in low:
        return StoreDamagedError(f"the store at {where} is damaged ({text}): restore it from a backup, "
                                 f"or move it away and import your mail again")
    if "readonly" in low or "read-only" in low:
        return DiskError(f"the store at {where} is read-only ({text}): make it writable, or pass --db")
    if "disk is full" in low or "no space" in low:
        return DiskError(f"the disk holding the store at {where} is full: free some space and run again")
    return StoreError(f"cannot open the store at {where}: {text}")


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


def lock_path(url: str, data_dir: Path) -> Path | None:
    """The lock file of a SQLite store: next to the file's real path (symlinks and relative paths resolved).

    None for PostgreSQL, which is locked in the database itself (:func:`store_lock`).
    """
    path = _sqlite_path(url)
    if path is not None:
        real = Path(os.path.realpath(path.expanduser()))
        return real.with_name(real.name + ".lock")
    return None


@contextmanager
def store_lock(url: str, data_dir: Path | None = None):
    """Hold the store's write lock; a second writer gets :class:`LockedError` at once.

    SQLite: a lock file next to the store's real path, so a symlink or another spelling of the path takes
    the same lock. PostgreSQL: a session advisory lock held in the database for the run, so two URLs to
    one database (``localhost``, ``127.0.0.1``) and writers on different machines exclude each other.
    """
    path = lock_path(url, data_dir or Path("."))
    if path is None:
        with _pg_lock(url):
            yield
        return
    from filelock import FileLock, Timeout

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(path))
        lock.acquire(timeout=0)
    except Timeout:
        raise LockedError(
            f"another inboxrel run is writing to this store (lock {path}); wait for it to finish"
        ) from None
    except OSError as exc:
        from inboxrel.errors import DiskError

        raise DiskError(f"cannot take the store's lock {path}: {exc.strerror}; make the folder writable, "
                        f"or pass --db") from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def _pg_lock(url: str):
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    try:
        engine = create_engine(url, poolclass=NullPool)
    except ModuleNotFoundError:
        raise StoreError("PostgreSQL needs the driver: pip install 'inboxrel[postgres]'") from None
    try:
        conn = engine.connect()
    except DBAPIError as exc:
        engine.dispose()
        raise store_error(exc, url) from None
    try:
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar()
        conn.commit()  # a session lock: it outlives the transaction, held until released or disconnected
        if not got:
            raise LockedError(f"another inboxrel run is writing to this store ({redact_url(url)}, perhaps from "
                              f"another machine); wait for it to finish")
        try:
            yield
        finally:
            try:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
                conn.commit()
            except DBAPIError:
                pass  # the connection is gone, and the lock with it
    finally:
        conn.close()
        engine.dispose()
