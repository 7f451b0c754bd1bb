"""Settings: the TOML config file plus command-line overrides, passed down as one object.

The library never reads ``os.environ``; the CLI resolves ``INBOXREL_DB`` / ``INBOXREL_CONFIG`` and passes
the results in. The config never holds a password: only where to get one (env var, command, keyring).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inboxrel.db import normalize_url
from inboxrel.errors import ConfigError

APP = "inboxrel"

ACCOUNT_KEYS = {
    "host", "port", "username", "tls", "ca_file", "password_env", "password_command", "keyring",
    "oauth2_token_command", "me", "include", "exclude", "body_window_days", "body_max_bytes", "default_region",
    "timeout", "header_fetch",
}
TOP_KEYS = {"db", "store_bodies", "default_region", "accounts", "rules", "policy", "thresholds", "log_file",
            "body_window_days", "body_max_bytes", "max_text_bytes",
            "call_min_seconds",  # answered calls shorter than this are attempts (inboxrel.sources.calllog)
            "ingest_deadline",  # seconds an ingest waits for its servers in all (0: no limit)
            "calendars"}  # [[calendars]]: CalDAV sources, see CALENDAR_KEYS


def default_config_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP))


def default_db_url() -> str:
    return f"sqlite:///{default_data_dir() / 'inboxrel.db'}"


@dataclass
class AccountConfig:
    """One IMAP account as written in ``[accounts.NAME]``."""

    name: str
    host: str | None = None
    port: int | None = None
    username: str | None = None
    tls: str = "ssl"
    ca_file: str | None = None
    password_env: str | None = None
    password_command: str | None = None
    keyring: bool = False
    oauth2_token_command: str | None = None
    me: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    body_window_days: int = 365
    body_max_bytes: int = 256 * 1024
    default_region: str | None = None
    timeout: int | None = None  # seconds without an answer from the IMAP server before a retry (default 60)
    # "whole": each message's whole header (cheapest for the server); "fields": only the fields inboxrel
    # reads, about a quarter of the bytes, for a slow or metered link (see README, "Speed")
    header_fetch: str = "whole"

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in sorted(ACCOUNT_KEYS):
            value = getattr(self, key)
            if value in (None, [], False) or (key, value) == ("header_fetch", "whole"):  # unset, or the default
                continue
            out[key] = value
        return out


# -- [[calendars]]: CalDAV calendars read by `inboxrel calendar sync` and `inboxrel ingest` ---------------
# name and url are required; the secret options are those of an IMAP account (the secret itself is never
# in the file); past_days/future_days bound the window recurring events are expanded in.
CALENDAR_KEYS = {"name", "url", "username", "password_env", "password_command", "keyring",
                 "oauth2_token_command", "ca_file", "timeout", "past_days", "future_days",
                 "kind"}  # "caldav" (default), "carddav" (an address book) or "ics" (a subscription URL, a secret)


@dataclass
class CalendarConfig:
    """One CalDAV calendar as written in a ``[[calendars]]`` table."""

    name: str
    url: str
    username: str | None = None
    password_env: str | None = None
    password_command: str | None = None
    keyring: bool = False
    oauth2_token_command: str | None = None
    ca_file: str | None = None
    timeout: int = 60
    past_days: int = 365
    future_days: int = 31
    kind: str = "caldav"

    def to_toml(self) -> dict[str, Any]:
        defaults = CalendarConfig(name="", url="")
        return {k: getattr(self, k) for k in sorted(CALENDAR_KEYS)
                if k in ("name", "url") or getattr(self, k) not in (None, False, getattr(defaults, k))}


def calendars_from(raw: dict[str, Any], path: Path) -> dict[str, CalendarConfig]:
    """The ``[[calendars]]`` tables of a config, by name; a bad one is a :class:`ConfigError`."""
    tables = raw.get("calendars", [])
    if not isinstance(tables, list):
        raise ConfigError(f"{path}: calendars must be an array of tables ([[calendars]])")
    out: dict[str, CalendarConfig] = {}
    for n, table in enumerate(tables, 1):
        if not isinstance(table, dict) or not table.get("name") or not table.get("url"):
            raise ConfigError(f"{path}: [[calendars]] number {n} needs a name and a url")
        bad = set(table) - CALENDAR_KEYS
        if bad:
            raise ConfigError(f"{path}: unknown key {sorted(bad)[0]!r} in calendar {table['name']!r}; "
                              f"allowed: {', '.join(sorted(CALENDAR_KEYS))}")
        if table["name"] in out:
            raise ConfigError(f"{path}: two calendars are named {table['name']!r}: rename one")
        if table.get("kind", "caldav") not in ("caldav", "carddav", "ics"):
            raise ConfigError(f"{path}: calendar {table['name']!r}: kind must be \"caldav\", \"carddav\" or \"ics\"")
        for key, value in table.items():
            kind = {"keyring": bool, "timeout": int, "past_days": int, "future_days": int}.get(key, str)
            if not isinstance(value, kind) or (kind is int and (isinstance(value, bool) or value < 1)):
                want = {bool: "true or false", int: "a whole number above 0", str: "a string"}[kind]
                raise ConfigError(f"{path}: calendar {table['name']!r}: {key} must be {want}, not {value!r}")
        out[table["name"]] = CalendarConfig(**table)
    return out


@dataclass
class Settings:
    """Everything a library call may need to know about the user's choices."""

    config_path: Path
    db_url: str
    store_bodies: bool = True
    default_region: str = "US"
    log_file: Path | None = None
    accounts: dict[str, AccountConfig] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    policy: list[str] | None = None
    body_window_days: int = 365
    body_max_bytes: int = 256 * 1024
    max_text_bytes: int = 100_000
    ingest_deadline: int = 0
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def calendars(self) -> dict[str, CalendarConfig]:
        return calendars_from(self.raw, self.config_path)

    @property
    def data_dir(self) -> Path:
        if self.db_url.startswith("sqlite:///"):
            return Path(self.db_url[len("sqlite:///"):]).parent
        return default_data_dir()


def _account_from(name: str, table: Any, path: Path, settings_defaults: dict) -> AccountConfig:
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [accounts.{name}] must be a table")
    bad = set(table) - ACCOUNT_KEYS
    if bad:
        raise ConfigError(f"{path}: unknown key {sorted(bad)[0]!r} in [accounts.{name}]; "
                          f"allowed: {', '.join(sorted(ACCOUNT_KEYS))}")
    acct = AccountConfig(name=name, **{**settings_defaults, **table})
    if acct.tls not in ("ssl", "starttls", "none"):
        raise ConfigError(f"{path}: [accounts.{name}] tls must be \"ssl\" or \"starttls\", not {acct.tls!r}")
    if acct.header_fetch not in ("whole", "fields"):
        raise ConfigError(f"{path}: [accounts.{name}] header_fetch must be \"whole\" or \"fields\", "
                          f"not {acct.header_fetch!r}")
    if isinstance(acct.me, str):
        acct.me = [acct.me]
    return acct


def load_settings(config_path: str | Path | None = None, db_url: str | None = None) -> Settings:
    """Read the config file (missing is fine) and apply the ``--db`` override."""
    path = Path(config_path) if config_path else default_config_path()
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            text = path.read_text(encoding="utf-8")
            raw = tomllib.loads(text)
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config {path} is not valid TOML: {exc}; fix the file or pass --config") from None
        from inboxrel.config_schema import validate_config

        validate_config(raw, path, text, top_keys=TOP_KEYS, account_keys=ACCOUNT_KEYS)
    elif config_path:
        raise ConfigError(f"config file {path} does not exist; create it or drop --config")
    bad = set(raw) - TOP_KEYS
    if bad:
        raise ConfigError(f"{path}: unknown top-level key {sorted(bad)[0]!r}; allowed: {', '.join(sorted(TOP_KEYS))}")
    defaults = {k: raw[k] for k in ("body_window_days", "body_max_bytes") if k in raw}
    accounts = {name: _account_from(name, table, path, defaults) for name, table in raw.get("accounts", {}).items()}
    settings = Settings(
        config_path=path,
        db_url=normalize_url(db_url or raw.get("db") or default_db_url()),
        store_bodies=bool(raw.get("store_bodies", True)),
        default_region=str(raw.get("default_region", "US")),
        log_file=Path(raw["log_file"]).expanduser() if raw.get("log_file") else None,
        accounts=accounts,
        thresholds=dict(raw.get("thresholds", {})),
        rules=list(raw.get("rules", [])),
        policy=raw.get("policy"),
        body_window_days=int(raw.get("body_window_days", 365)),
        body_max_bytes=int(raw.get("body_max_bytes", 256 * 1024)),
        max_text_bytes=int(raw.get("max_text_bytes", 100_000)),
        ingest_deadline=int(raw.get("ingest_deadline", 0)),
        raw=raw,
    )
    return settings


def save_settings(settings: Settings) -> None:
    """Write the config back, keeping keys this version does not manage."""
    import tomli_w

    raw = dict(settings.raw)
    raw["accounts"] = {name: acct.to_toml() for name, acct in sorted(settings.accounts.items())}
    settings.config_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = settings.config_path.with_suffix(".tmp")
    tmp.write_text(tomli_w.dumps(raw), encoding="utf-8")
    tmp.chmod(0o600)
    tmp.replace(settings.config_path)
