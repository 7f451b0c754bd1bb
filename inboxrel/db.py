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
            if rev is None and path is not None:
                _check_foreign_sqlite(engine, path)
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
            header = fh.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read the store at {path}: {exc.strerror}") from None
    if header[:16] != b"SQLite format 3\x00":
        raise StoreDamagedError(f"{path} is not an SQLite database (damaged, or not an inboxrel store): check "
                                f"--db, or restore the store from a backup")
    # A truncated file answers some queries from the pages it still has; its header says how long it was
    # (the page count is valid when "version-valid-for" equals the change counter).
    if len(header) == 100 and header[92:96] == header[24:28]:
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        expected = int.from_bytes(header[28:32], "big") * page_size
        if st.st_size < expected:
            raise StoreDamagedError(f"the store at {path} is truncated ({st.st_size:,} of {expected:,} bytes): "
                                    f"restore it from a backup, or move it away and import your mail again")


def _check_foreign_sqlite(engine, path: Path) -> None:
    """A SQLite file with tables but no schema revision is damaged (its catalogue) or another program's."""
    from sqlalchemy import text

    from inboxrel.errors import StoreDamagedError

    with engine.connect() as conn:
        tables = conn.execute(text("SELECT count(*) FROM sqlite_master")).scalar()
        if not tables:
            return
        check = conn.execute(text("PRAGMA quick_check(1)")).scalar()
    if check != "ok":
        raise StoreDamagedError(f"the store at {path} is damaged ({check}): restore it from a backup, or move "
                                f"it away and import your mail again")
    raise StoreDamagedError(f"{path} is an SQLite database but not an inboxrel store (it has no schema "
                            f"revision): check --db; inboxrel never writes into another program's database")


def store_error(exc: Exception, url: str, *, opening: bool = True) -> StoreError:
    """The named error for a database failure (damaged, read-only, full, busy, unreachable)."""
    from inboxrel.errors import DiskError, StoreDamagedError

    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = text.lower()
    where = _store_name(url)
    if ("not a database" in low or "malformed" in low or "no such table" in low or "no such column" in low
            or "does not exist" in low and ("relation" in low or "column" in low)):
        return StoreDamagedError(f"the store at {where} is damaged ({text}): restore it from a backup, "
                                 f"or move it away and import your mail again")
    if "disk is full" in low or "no space" in low or "could not extend" in low or "quota" in low:
        return DiskError(f"the disk holding the store at {where} is full: free some space and run again "
                         f"(nothing half-written was kept)")
    if "disk i/o error" in low or "input/output" in low:
        return DiskError(f"the disk failed while reading or writing the store at {where} ({text}): check the "
                         f"disk, then run again")
    if "database is locked" in low:
        return LockedError(f"the store at {where} is busy in another program ({text}); try again later")
    path = _sqlite_path(url) if url else None
    if path is not None and ("unable to open database file" in low or "readonly" in low) and _read_only_fs(path):
        return DiskError(f"the store at {where} is on a read-only filesystem: remount it read-write, or pass "
                         f"--db with a store elsewhere")
    if "readonly" in low or "read-only" in low:
        return DiskError(f"the store at {where} cannot be written ({text}): make it and its folder writable "
                         f"(a read-only filesystem?), or pass --db")
    if "unable to open database file" in low:
        return DiskError(f"cannot open the store at {where} ({text}): check that its folder exists and is "
                         f"writable, or pass --db")
    verb = "open" if opening else "use"
    return StoreError(f"cannot {verb} the store at {where}: {text}")


def _read_only_fs(path: Path) -> bool:
    folder = path.parent if not path.is_dir() else path
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def machine_fault(exc: BaseException, url: str | None):
    """The one-line error for a failure of the machine rather than of inboxrel, else None.

    A database error (full disk, read-only or damaged store, a dropped table), a filesystem refusal
    (ENOSPC, EROFS, EACCES, EIO) or a date beyond what the calendar arithmetic holds. The CLI shows it with
    its documented exit status instead of a traceback.
    """
    import errno

    from inboxrel.errors import DiskError, UsageError

    if type(exc).__module__.startswith("sqlalchemy") or type(exc).__module__ == "sqlite3":
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, DBAPIError) or type(exc).__module__ == "sqlite3":
            return store_error(exc, url or "the store", opening=False)
        return None
    if isinstance(exc, OSError) and exc.errno is not None:
        what = f" ({exc.filename})" if exc.filename else ""
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            return DiskError(f"the disk is full{what}: free some space and run again")
        if exc.errno == errno.EROFS:
            return DiskError(f"the filesystem is read-only{what}: pass --db (or --path) on a writable one")
        if exc.errno in (errno.EACCES, errno.EPERM):
            return DiskError(f"permission denied{what}: make it writable, or pass another path")
        if exc.errno == errno.EIO:
            return DiskError(f"the disk failed{what}: check it, then run again")
        return None
    if isinstance(exc, OverflowError):
        return UsageError("a date is out of range (is --now or --since in the year 1 or 9999?): give a date "
                          "between 1971 and 9998")
    return None


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
