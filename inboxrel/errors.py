"""Exceptions raised by the inboxrel library.

Every expected failure has a named subclass of :class:`InboxrelError` whose message tells the user what to
do next. The CLI turns them into one-line errors with the subclass's ``exit_code``; anything else is a bug.
"""


class InboxrelError(Exception):
    """Base class for every error inboxrel expects and reports without a traceback."""

    exit_code = 2


class UsageError(InboxrelError):
    """Raised when an argument or option value cannot be used (bad duration, bad date, unknown format)."""


class SourceError(InboxrelError):
    """Raised when a local mail path is missing, unreadable or in no format inboxrel knows."""


class ConfigError(InboxrelError):
    """Raised when the TOML config file is unreadable or has a bad key or value."""


class StoreError(InboxrelError):
    """Raised when the database cannot be opened, created or migrated."""


class StoreMissingError(StoreError):
    """Raised when a command that only reads (or annotates) the store finds no store at the URL: a misspelt --db."""


class StoreVersionError(StoreError):
    """Raised when the store's schema revision is newer than this build knows; the store is left untouched."""

    exit_code = 65  # EX_DATAERR


class StoreDamagedError(StoreError):
    """Raised when the store file is not a database, is truncated or corrupted, or lacks one of its tables."""

    exit_code = 65  # EX_DATAERR


class DiskError(InboxrelError):
    """Raised when the machine refuses a write: a full disk, a read-only filesystem or store, no permission."""

    exit_code = 74  # EX_IOERR


class NotFoundError(InboxrelError):
    """Raised when a person, account or record named on the command line does not exist."""


class AmbiguousError(InboxrelError):
    """Raised when a person reference matches several people; ``candidates`` lists them."""

    def __init__(self, message, candidates=()):
        super().__init__(message)
        self.candidates = list(candidates)


class LockedError(InboxrelError):
    """Raised when another inboxrel process holds the store's write lock."""

    exit_code = 75  # EX_TEMPFAIL: cron may simply try again later


class AuthError(InboxrelError):
    """Raised when the IMAP server rejects the credentials, or no credential can be obtained."""

    exit_code = 77  # EX_NOPERM


class UnreachableError(InboxrelError):
    """Raised when the IMAP server cannot be reached (DNS, refused, TLS failure, timeouts after retries)."""

    exit_code = 69  # EX_UNAVAILABLE


class PartialError(InboxrelError):
    """Raised when a sync finished but some folders failed; the others were saved."""

    exit_code = 3
