"""Tables follow the terminal's width (COLUMNS honoured): narrow ones wrap and leave out the least important
columns, wide ones are as they always were (140 columns at most)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.report.render import render_table

# each table's headers that a narrow terminal must still show, and those it may leave out
TABLES = {
    "people": (["Name", "Email", "Sent", "Recv"], ["Threads", "2-way", "Auto"]),
    "evidence": (["When", "Kind", "Person", "Sentence"], ["Conf", "Source", "Medium"]),
    "threads": (["Last", "Subject", "Awaiting"], ["Days"]),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables")
    url = f"sqlite:///{root / 'store.db'}"
    result = CliRunner().invoke(cli, ["--db", url, "demo", "--path", str(root / "Maildir")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return url


def _run(url, command, columns=None):
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": ""}
    result = CliRunner(env=env).invoke(cli, ["--db", url, command], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _header(out: str) -> str:
    lines = out.splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("┃"))  # the header row, until its rule
    j = next(n for n in range(i, len(lines)) if lines[n].startswith("┡"))
    return " ".join(lines[i:j])


@pytest.mark.parametrize("command", sorted(TABLES))
def test_a_narrow_terminal_gets_a_table_that_fits_with_what_matters(store, command):
    must, optional = TABLES[command]
    wide = _run(store, command)
    assert max(len(line) for line in wide.splitlines()) > 80  # too wide for 80 columns as it was
    assert all(h in _header(wide) for h in must + optional)
    narrow = _run(store, command, 80)
    assert max(len(line) for line in narrow.splitlines()) <= 80, narrow
    head = _header(narrow)
    assert all(f" {h} " in head for h in must), head  # whole, never cut in the middle of a word
    if command != "threads":  # its Last from is left out; people's Email and evidence's Person stay
        emails = {w for line in wide.splitlines() for w in line.split() if "@" in w and len(w) > 3}
        assert emails and all(e in narrow for e in emails)  # an address is never cut either
    assert not all(h in head for h in optional)


@pytest.mark.parametrize("command", sorted(TABLES))
def test_a_wide_terminal_is_unchanged(store, command):
    assert _run(store, command, 300) == _run(store, command, 140) == _run(store, command)


def test_columns_go_least_important_first_and_the_rest_wrap():
    rows = [{"name": "Alexandra Konstantinopoulou-Smythe", "email": "alexandra@example.org", "sent": 3,
             "received": 4, "threads": 5, "two_way_threads": 1, "automated": False}]
    cols = list(rows[0])
    heads = ["Name", "Email", "Sent", "Recv", "Threads", "2-way", "Auto"]
    assert all(h in render_table(rows, cols, heads, width=140) for h in heads)
    out = render_table(rows, cols, heads, width=80)  # the longest words need 83 with every column
    assert "2-way" not in out and "Auto" not in out and "Threads" in out  # 2-way and Auto went first
    assert max(len(line) for line in out.splitlines()) <= 80 and "Konstantinopoulou-Smythe" in out
    out = render_table(rows, cols, heads, width=40)  # nothing more to leave out: words wrap, then fold
    assert max(len(line) for line in out.splitlines()) <= 40 and "Recv" in out and "Threads" not in out
