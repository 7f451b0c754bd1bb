"""The config is checked on load against one schema: errors name the file, line, key, value and what is
allowed; unknown keys get a "did you mean"; every key is in the README's config reference."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.config import load_settings
from inboxrel.config_schema import line_of, reference_rows
from inboxrel.errors import ConfigError
from tests.conftest import ROOT


def _load(tmp_path, text: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, "sqlite:///" + str(tmp_path / "s.db"))


@pytest.mark.parametrize("text, needles", [
    ('store_bodies = "no"\n', [":1:", "store_bodies", '"no"', "true or false"]),
    ('accounts = 5\n', [":1:", "accounts", "5", "table"]),
    ('body_window_days = "abc"\n', [":1:", "body_window_days", '"abc"', "whole number of at least 0"]),
    ('db = "x"\n\n[accounts.work]\nhost = "h"\nport = "abc"\n', [":5:", "[accounts.work] port", '"abc"', "1 to 65535"]),
    ('[accounts.work]\nport = 70000\n', [":2:", "port", "70000", "65535"]),
    ('[accounts.work]\ntls = "yes"\n', [":2:", "tls", '"yes"', '"starttls"']),
    ('[accounts.work]\nkeyring = "true"\n', [":2:", "keyring", "true or false"]),
    ('default_region = "Germany"\n', [":1:", "default_region", "two-letter"]),
    ('stor_bodies = false\n', [":1:", 'unknown key "stor_bodies"', 'did you mean "store_bodies"']),
    ('[accounts.work]\nhots = "imap.example.com"\n', [":2:", 'unknown key "hots"', 'did you mean "host"']),
    ('[thresholds]\nheavy_min_mesages = 3\n', [":2:", "unknown key 'heavy_min_mesages'",
                                                'did you mean "heavy_min_messages"']),
    ('[thresholds]\n\ncooling_ratio = "lots"\n', [":3:", "cooling_ratio", "number"]),
    ('[thresholds]\nlearned_cadence_max_days = 500\nlearned_cadence_min_days = 10\noverdue_factor = 0.5\n',
     [":4:", "overdue_factor", "0.5"]),
    ('policy = "automated"\n', [":1:", "policy", "list"]),
    ('call_min_seconds = -5\n', [":1:", "call_min_seconds", "-5"]),
    ('policy = ["automated", "nope"]\n', [":1:", "policy", "nope"]),
    ('[[rules]]\nname = 5\n', [":1:", "[[rules]]", "name"]),
    ('[[calendars]]\nname = "w"\nurl = "https://dav.example/"\ntimeout = "abc"\n',
     [":4:", "[[calendars]] #1 timeout", '"abc"', "whole number"]),
    ('[[calendars]]\nname = "w"\nurl = "https://dav.example/"\n[[calendars]]\nname = "v"\nurll = "x"\n',
     [":6:", 'unknown key "urll"', 'did you mean "url"']),
])
def test_bad_values_name_the_key_its_line_the_value_and_what_is_allowed(tmp_path, text, needles):
    with pytest.raises(ConfigError) as exc:
        _load(tmp_path, text)
    message = str(exc.value)
    assert "\n" not in message
    assert str(tmp_path / "config.toml") in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_good_config_loads_with_its_values(tmp_path):
    s = _load(tmp_path, """
store_bodies = false
default_region = "DE"
body_window_days = 30

[accounts.work]
host = "imap.example.com"
port = 993
me = "me@example.com"
timeout = 12.5

[thresholds]
heavy_min_messages = 12
default_cadence_days = "45d"
""")
    assert s.store_bodies is False
    assert s.default_region == "DE"
    acct = s.accounts["work"]
    assert (acct.port, acct.me, acct.body_window_days, acct.timeout) == (993, ["me@example.com"], 30, 12.5)


def test_thresholds_are_checked_together(tmp_path):
    """A minimum above the default maximum is fine when the maximum is raised in the same file."""
    s = _load(tmp_path, "[thresholds]\nlearned_cadence_min_days = 400\nlearned_cadence_max_days = 500\n")
    assert s.thresholds["learned_cadence_min_days"] == 400


def test_db_is_accepted_as_users_write_it(tmp_path):
    assert load_settings(None, str(tmp_path / "x.db")).db_url == \
        f"sqlite:///{tmp_path / 'x.db'}"
    assert load_settings(None, "postgres://me@db.example/mail").db_url == "postgresql+psycopg://me@db.example/mail"
    assert load_settings(None, "postgresql://me@db.example/mail").db_url == "postgresql+psycopg://me@db.example/mail"


def test_the_cli_shows_one_line_and_exit_2(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[accounts.work]\nport = "abc"\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(path), "--db", f"sqlite:///{tmp_path / 's.db'}", "people"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "port" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "s.db").exists()


def test_line_of_finds_keys_in_tables_and_arrays_of_tables():
    text = 'a = 1\n[accounts."my work"]\nport = 1\n[[calendars]]\nurl = "x"\n[[calendars]]\nurl = "y"\n'
    assert line_of(text, ("a",)) == 1
    assert line_of(text, ("accounts", "my work", "port")) == 3
    assert line_of(text, ("calendars", 1, "url")) == 7


def test_every_config_key_is_in_the_readme_reference():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Configuration reference"):]
    rows = {line.split("|")[1].strip(): line for line in section.splitlines() if line.startswith("| `")}
    for key, _kind, default, _what in reference_rows():
        assert f"`{key}`" in rows, f"config key {key} is not in the README's configuration reference"
        shown = default if default == "-" else f"`{default}`"
        assert f"| {shown} |" in rows[f"`{key}`"], f"README: the default of {key} is {default}"
