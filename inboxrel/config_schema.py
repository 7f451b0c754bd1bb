"""The config file's one schema: every key, its type, default and what is allowed, checked on load.

A bad value or an unknown key is a :class:`ConfigError` naming the file, the line, the key, the value and
what is allowed (unknown keys with a "did you mean"). Types are strict: TOML has real booleans and
numbers, so ``store_bodies = "no"`` or ``port = "abc"`` is an error, never a guess. The README's config
reference is this schema (``reference_rows``; a test keeps them in step).

The schema is a plain table rather than pydantic models: pydantic (installed with spaCy) takes 0.15-0.25 s
to import and build its models, a third of what a whole `inboxrel suggest` costs, and paid on every command.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inboxrel.errors import ConfigError


@dataclass(frozen=True)
class Key:
    """One config key: its kind, default, what it means and the bounds its value must keep."""

    name: str
    kind: str  # bool | int | number | string | strings (string or list) | list | choice | region | table | tables | array
    default: Any
    meaning: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def allowed(self) -> str:
        """What a value of this key must be, in words."""
        if self.kind == "bool":
            return "true or false, without quotes"
        if self.kind in ("int", "number"):
            what = "a whole number" if self.kind == "int" else "a number"
            if self.low is not None and self.high is not None:
                return f"{what} from {_num(self.low)} to {_num(self.high)}, without quotes"
            if self.low is not None:
                low = "above 0" if self.name == "timeout" else f"of at least {_num(self.low)}"
                return f"{what} {low}, without quotes"
            return f"{what}, without quotes"
        if self.kind == "string":
            return "a string in quotes"
        if self.kind == "strings":
            return 'a string or a list of strings, e.g. ["a@example.com", "b@example.com"]'
        if self.kind == "list":
            return 'a list of strings, e.g. ["a", "b"]'
        if self.kind == "choice":
            quoted = [f'"{c}"' for c in self.choices]
            return ", ".join(quoted[:-1]) + " or " + quoted[-1]
        if self.kind == "region":
            return 'a two-letter country code in quotes, e.g. "US" or "DE"'
        if self.kind == "tables":
            return f"[{self.name}.NAME] tables"
        if self.kind == "array":
            return f"[[{self.name}]] tables"
        return f"a [{self.name}] table"

    def check(self, value: Any) -> bool:
        """Whether ``value`` is allowed."""
        kind = self.kind
        if kind == "bool":
            return isinstance(value, bool)
        if kind in ("int", "number"):
            if isinstance(value, bool) or not isinstance(value, (int, float) if kind == "number" else int):
                return False
            if self.low is not None and (value < self.low or (self.name == "timeout" and value <= 0)):
                return False
            return self.high is None or value <= self.high
        if kind == "string":
            return isinstance(value, str)
        if kind == "strings":
            return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        if kind == "list":
            # policy: the rules engine checks it with its own words (see _check_rules)
            return self.name == "policy" or (isinstance(value, list) and all(isinstance(v, str) for v in value))
        if kind == "choice":
            return value in self.choices
        if kind == "region":
            return isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2}", value) is not None
        if kind in ("table", "tables"):
            return isinstance(value, dict) and (kind == "table" or all(isinstance(v, dict) for v in value.values()))
        if kind == "array":
            return isinstance(value, list) and all(isinstance(v, dict) for v in value)
        raise AssertionError(kind)


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else str(x)


ACCOUNT_SCHEMA: dict[str, Key] = {k.name: k for k in (
    Key("host", "string", None, "IMAP server name"),
    Key("port", "int", None, "IMAP port (default 993 with ssl, 143 otherwise)", 1, 65535),
    Key("username", "string", None, "login name on the server"),
    Key("tls", "choice", "ssl", "how the connection is encrypted", choices=("ssl", "starttls", "none")),
    Key("ca_file", "string", None, "a CA certificate file (PEM) for a private server"),
    Key("password_env", "string", None, "name of the environment variable holding the password"),
    Key("password_command", "string", None, "a command whose first output line is the password"),
    Key("keyring", "bool", False, "read the password from the system keyring"),
    Key("oauth2_token_command", "string", None, "a command printing an OAuth2 access token"),
    Key("me", "strings", [], "my addresses in this account"),
    Key("include", "list", [], "folder patterns to read (default: all)"),
    Key("exclude", "list", [], "folder patterns to skip"),
    Key("body_window_days", "int", None, "bodies are fetched for mail this recent, in days (default: the "
        "top-level value)", 0),
    Key("body_max_bytes", "int", None, "bytes of a body kept at most (default: the top-level value)", 0),
    Key("default_region", "region", None, "country for phone numbers without a code (default: the top-level value)"),
    Key("timeout", "number", None, "seconds without an answer from the server before a retry (default 60)", 0),
    Key("header_fetch", "choice", "whole", "\"fields\" fetches only the header fields read, for a slow link",
        choices=("whole", "fields")),
)}

TOP_SCHEMA: dict[str, Key] = {k.name: k for k in (
    Key("db", "string", None, "a file path, sqlite:///PATH or postgresql://USER@HOST/DB (postgres:// too); "
        "default: inboxrel.db in the data directory"),
    Key("store_bodies", "bool", True, "keep message bodies in the store (false: analyse, then drop them)"),
    Key("default_region", "region", "US", "country for phone numbers without a country code"),
    Key("log_file", "string", None, "a file `inboxrel ingest` appends its log to"),
    Key("body_window_days", "int", 365, "IMAP bodies are fetched for mail this recent, in days", 0),
    Key("body_max_bytes", "int", 256 * 1024, "bytes of a body kept at most, for every source (IMAP fetches no more; "
        "a local import stores no more)", 0),
    Key("max_text_bytes", "int", 100_000, "characters of a body's text the evidence stages read at most (the "
        "start of the body; the rest of a huge message is never analysed)", 0),
    Key("call_min_seconds", "int", 60, "answered calls shorter than this are attempts", 0),
    Key("ingest_deadline", "int", 0, "seconds an `inboxrel ingest` waits for its servers in all (connections, "
        "logins, retries) before the accounts left fail as unreachable; 0: no limit", 0),
    Key("accounts", "tables", {}, "one [accounts.NAME] table per account (keys: accounts.NAME.*)"),
    Key("thresholds", "table", {}, "numbers the built-in rules compare against (keys: thresholds.*)"),
    Key("rules", "array", [], "your own rules: name, description, when, action, priority, reason"),
    Key("policy", "list", None, "the rules in force, in order (default: the built-in policy)"),
    Key("calendars", "array", [], "one [[calendars]] table per CalDAV calendar or CardDAV address book "
        "(keys: calendars[].*)"),
)}


def _show(value: Any) -> str:
    """A value as it would be written in TOML (shortened)."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return json.dumps(value, ensure_ascii=False, default=str)[:80]
    except (TypeError, ValueError):
        return repr(value)[:80]


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?")


def _split_dotted(name: str) -> tuple:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', name)
    return tuple(a or b or c for a, b, c in parts)


def line_of(text: str, loc: tuple) -> int | None:
    """The line (1-based) where ``loc`` is written in the TOML ``text``: the key's line, else its table's."""
    loc = tuple(loc)
    table: tuple = ()
    counts: dict[tuple, int] = {}
    table_line = None
    for n, line in enumerate(text.splitlines(), 1):
        m = _HEADER.match(line)
        if m:
            name = _split_dotted(m.group(2))
            if m.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                table = (*name, counts[name])
            else:
                table = name
            if table == loc and table_line is None:
                table_line = n
            continue
        km = re.match(r'^\s*(?:"([^"]+)"|([A-Za-z0-9_-]+))\s*=', line)
        if km:
            key = km.group(1) or km.group(2)
            if (*table, key) == loc:
                return n
            if len(loc) > len(table) + 1 and (*table, key) == loc[:len(table) + 1] and table_line is None:
                table_line = n  # an inline table or array holds the bad value
    return table_line


def _did_you_mean(key: str, allowed) -> str:
    close = difflib.get_close_matches(str(key), list(allowed), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""


def _fail(path: Path, text: str, loc: tuple, message: str) -> ConfigError:
    line = line_of(text, loc)
    return ConfigError(f"{path}:{line}: {message}" if line else f"{path}: {message}")


def _unknown(path: Path, text: str, loc: tuple, section: str, allowed) -> ConfigError:
    key = loc[-1]
    return _fail(path, text, loc, f"unknown key \"{key}\" {section}{_did_you_mean(key, allowed)} "
                                  f"(allowed: {', '.join(allowed)})")


def _bad(path: Path, text: str, loc: tuple, where: str, value: Any, key: Key) -> ConfigError:
    return _fail(path, text, loc, f"{where} must be {key.allowed()}, not {_show(value)} — {key.meaning}")


def validate_config(raw: dict, path: Path, text: str, *, top_keys=(), account_keys=()) -> None:
    """Check ``raw`` (the parsed file) against the schema; the first problem is a :class:`ConfigError`.

    Keys in ``top_keys`` / ``account_keys`` that the schema does not describe yet are left to the code that
    reads them (a section being added); every other unknown key is an error.
    """
    top_ok = set(TOP_SCHEMA) | set(top_keys)
    acct_ok = set(ACCOUNT_SCHEMA) | set(account_keys)
    for name, value in raw.items():
        key = TOP_SCHEMA.get(name)
        if key is None:
            if name not in top_ok:
                raise _unknown(path, text, (name,), "at the top level", list(TOP_SCHEMA))
            continue
        if not key.check(value):
            raise _bad(path, text, (name,), name, value, key)
    for acct, table in raw.get("accounts", {}).items():
        for name, value in table.items():
            key = ACCOUNT_SCHEMA.get(name)
            if key is None:
                if name not in acct_ok:
                    raise _unknown(path, text, ("accounts", acct, name), f"in [accounts.{acct}]", list(ACCOUNT_SCHEMA))
                continue
            if not key.check(value):
                raise _bad(path, text, ("accounts", acct, name), f"[accounts.{acct}] {name}", value, key)
    _check_thresholds(raw.get("thresholds", {}), path, text)
    _check_calendars(raw.get("calendars", []), path, text)
    _check_rules(raw, path, text)


def _check_thresholds(thresholds: dict, path: Path, text: str) -> None:
    from inboxrel.rules.thresholds import DEFAULTS, build_thresholds

    for key in thresholds:
        if key not in DEFAULTS:
            line = line_of(text, ("thresholds", key))
            at = f"{path}:{line}" if line else str(path)
            raise ConfigError(f"{at}: [thresholds]: unknown key {key!r}{_did_you_mean(key, DEFAULTS)} "
                              f"(allowed: {', '.join(DEFAULTS)})")
    marker = "\x00"
    try:
        build_thresholds(thresholds, marker)
    except ConfigError as exc:
        message = str(exc).removeprefix(marker + ": ")
        named = next((k for k in thresholds if re.match(rf"\W*{re.escape(k)}\b", message)), None)
        line = line_of(text, ("thresholds", named) if named else ("thresholds",))
        raise ConfigError(f"{path}:{line}: [thresholds] {message}" if line else
                          f"{path}: [thresholds] {message}") from None


def _check_rules(raw: dict, path: Path, text: str) -> None:
    """``[[rules]]`` and ``policy``, checked by the rules engine itself (only when the file has them)."""
    if "rules" not in raw and "policy" not in raw:
        return
    from types import SimpleNamespace

    from inboxrel.rules.policy import build_policy

    line = line_of(text, ("rules", 0)) or line_of(text, ("policy",))
    where = f"{path}:{line}" if line else str(path)
    build_policy(SimpleNamespace(config_path=where, thresholds=raw.get("thresholds", {}),
                                 rules=raw.get("rules", []), policy=raw.get("policy")))


# What each [[calendars]] key means (the keys and defaults are inboxrel.config.CalendarConfig's own).
CALENDAR_MEANINGS = {
    "name": "the calendar's name in inboxrel (required)",
    "url": "the calendar collection's URL (required)",
    "username": "login name on the server",
    "password_env": "name of the environment variable holding the password",
    "password_command": "a command whose first output line is the password",
    "keyring": "read the password from the system keyring",
    "oauth2_token_command": "a command printing an OAuth2 access token",
    "ca_file": "a CA certificate file (PEM) for a private server",
    "timeout": "seconds without an answer from the server before giving up",
    "past_days": "recurring events are expanded this many days back",
    "future_days": "... and this many days ahead",
    "kind": "caldav (a calendar) or carddav (an address book)",
}


def calendar_schema() -> dict[str, Key]:
    """The [[calendars]] keys as :class:`Key` rows, read from ``CalendarConfig`` (empty before it exists)."""
    import dataclasses

    from inboxrel import config

    cls = getattr(config, "CalendarConfig", None)
    keys = getattr(config, "CALENDAR_KEYS", None)
    if cls is None or not keys:
        return {}
    out = {}
    for f in dataclasses.fields(cls):
        if f.name not in keys:
            continue
        ann = str(f.type)
        kind = "bool" if ann.startswith("bool") else "int" if ann.startswith("int") else "string"
        default = f.default if f.default is not dataclasses.MISSING else None
        low = 1 if f.name == "timeout" else (0 if kind == "int" else None)
        out[f.name] = Key(f.name, kind, default, CALENDAR_MEANINGS.get(f.name, "see `inboxrel calendar add --help`"),
                          low)
    return out


def _check_calendars(calendars: list, path: Path, text: str) -> None:
    from inboxrel import config

    keys = getattr(config, "CALENDAR_KEYS", None)
    if not keys:
        return
    schema = calendar_schema()
    for i, table in enumerate(calendars):
        for key, value in table.items():
            if key not in keys:
                line = line_of(text, ("calendars", i, key))
                raise ConfigError(f"{path}:{line or '?'}: unknown key \"{key}\" in [[calendars]] #{i + 1}"
                                  f"{_did_you_mean(key, keys)} (allowed: {', '.join(sorted(keys))})")
            spec = schema.get(key)
            if spec is not None and not spec.check(value):
                raise _bad(path, text, ("calendars", i, key), f"[[calendars]] #{i + 1} {key}", value, spec)


def reference_rows() -> list[tuple[str, str, str, str]]:
    """(key, type, default, meaning and what is allowed) for every key, for the README's config reference."""
    from inboxrel.rules.thresholds import DEFAULTS

    def rows(schema: dict[str, Key], prefix: str):
        out = []
        for key in schema.values():
            d = key.default
            shown = "-" if d is None else ("[]" if d == [] else ("{}" if d == {} else _show(d)))
            kind = {"strings": "string or list", "list": "list of strings", "choice": " / ".join(key.choices),
                    "region": "string (country code)", "tables": "tables", "array": "array of tables",
                    "int": "integer", "bool": "boolean"}.get(key.kind, key.kind)
            if key.low is not None or key.high is not None:
                kind += (f" {_num(key.low)}..{_num(key.high)}" if key.high is not None else
                         " > 0" if key.name == "timeout" else f" >= {_num(key.low)}")
            out.append((prefix + key.name, kind, shown, key.meaning))
        return out

    out = rows(TOP_SCHEMA, "") + rows(ACCOUNT_SCHEMA, "accounts.NAME.") + rows(calendar_schema(), "calendars[].")
    for name, (default, kind, what) in DEFAULTS.items():
        out.append((f"thresholds.{name}", {"days": "days or duration", "int": "integer"}.get(kind, "number"),
                    _show(default), what))
    return out
