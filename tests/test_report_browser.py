"""The HTML report opened in headless Chromium: what renders, and that hostile mail stays text.

The store holds the known-answer scenario plus tests/fixtures/rules/hostile, whose display name, subject
and body carry `</script><script>`, `<img onerror>` and `<!--`.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from inboxrel.cli import cli
from inboxrel.db import open_store
from inboxrel.pipelines.importer import import_path
from tests.conftest import FIXTURES
from tests.rules_mail import CAROL, FRANK, ME, NOW, add_interaction, import_scenario

pytestmark = pytest.mark.browser

HOSTILE_SUBJECT = '</script><script>window.pwned=1</script><img src=x onerror="window.pwned=2"> <!-- [/] {x}'
HOSTILE_NAME = '<img src=x onerror="window.pwned=3">Mallory'


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, dict]:
    base = tmp_path_factory.mktemp("html")
    url = f"sqlite:///{base / 'store.db'}"
    engine = open_store(url)
    import_scenario(engine, base / "mail")
    import_path(engine, FIXTURES / "rules" / "hostile", now=NOW, account="test", me=[ME])
    add_interaction(engine, FRANK, "past", NOW - timedelta(days=200), medium="phone",
                    sentence="Good to catch up on the phone today <script>window.pwned=5</script>")
    # passed, and too unsure to count as a probable conversation (0.7 x 0.8 < 0.6): a marker only
    add_interaction(engine, CAROL, "planned", NOW - timedelta(days=20), medium="video", confidence=0.7)
    add_interaction(engine, CAROL, "request", None, medium="phone", direction="to_me", sentence="Call me?",
                    seen=NOW - timedelta(days=3))
    engine.dispose()
    (base / "config.toml").write_text("")
    args = ["--db", url, "--config", str(base / "config.toml"), "--now", NOW.isoformat(), "report"]
    out = base / "report.html"
    result = CliRunner().invoke(cli, args + ["--format", "html", "--output", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(CliRunner().invoke(cli, args + ["--format", "json"], catch_exceptions=False).output)
    return out, data


@pytest.fixture(scope="module")
def page(browser, report):
    path, _ = report
    browser.get(path.as_uri())
    return browser


def js(driver, script: str):
    return driver.execute_script(script)


def test_file_is_self_contained(report):
    path, _ = report
    text = path.read_text(encoding="utf-8")
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in text
    assert text.count("<script") == 2  # the JSON data and the one inline script
    assert HOSTILE_SUBJECT not in text  # never raw
    assert "\\u003c/script\\u003e" in text  # the embedded JSON escaped '<' and '>'


def test_page_renders_the_call_list_and_charts(page, report):
    _, data = report
    assert page.title == "inboxrel report 2024-05-02 to 2024-06-01"
    assert js(page, "return document.documentElement.getAttribute('data-ready')") == "yes"  # our script ran
    names = js(page, "return [...document.querySelectorAll('.person h3')].map(e => e.firstChild.textContent)")
    assert names == [f"{r['rank']}. {r['name']}" for r in data["call_list"]]
    assert [r["email"] for r in data["call_list"]] == [CAROL, "mallory@evil.example", FRANK, "erin@waiting.example"]
    # one volume chart per person, bars for the months with mail, markers for conversations
    assert js(page, "return document.querySelectorAll('.person svg.volume').length") == 4
    carol_bars = js(page, "return document.querySelectorAll('.person:nth-of-type(1) svg.volume rect').length")
    chart = data["charts"]["people"][0]
    assert carol_bars == sum(1 for s in chart["sent"] if s) + sum(1 for r in chart["received"] if r)
    assert js(page, "return document.querySelectorAll('svg.volume circle.talk').length") == 1  # Frank's call
    assert js(page, "return document.querySelectorAll('svg.volume circle.planned').length") == 1  # Carol's plan
    points = js(page, "return document.querySelectorAll('#circle-chart circle.pt').length")
    assert points == len(data["charts"]["circle"]) == 6
    assert js(page, "return document.querySelectorAll('#circle-chart circle.suggested').length") == 4
    rects = js(page, "return [...document.querySelectorAll('svg')].map(s => s.getBoundingClientRect().height)")
    assert all(h > 100 for h in rects)  # drawn, not collapsed
    body = page.find_element("tag name", "body").text
    for heading in ("Call list", "Most written", "New people", "Cooling relationships",
                    "Threads awaiting your reply", "Conversation evidence found", "Sync health"):
        assert heading in body
    assert "personal email fell to 1 in the last 90 days from a usual 20 (down 95%" in body


def test_hostile_mail_is_shown_as_text_and_never_runs(page):
    assert js(page, "return window.pwned") is None
    assert js(page, "return document.querySelectorAll('img').length") == 0
    assert js(page, "return document.scripts.length") == 2
    body = page.find_element("tag name", "body").text
    assert HOSTILE_SUBJECT in body  # in the starters and the awaiting table, literally
    assert HOSTILE_NAME in body
    cells = js(page, "return [...document.querySelectorAll('table.awaiting td')].map(td => td.textContent)")
    assert HOSTILE_SUBJECT in cells
    data = js(page, "return JSON.parse(document.getElementById('report-data').textContent)")
    assert data["call_list"][1]["starters"] == [HOSTILE_SUBJECT]
    errors = [e for e in page.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []  # no script refused by the page's CSP, nothing failed


def test_filter_box_filters_the_call_list(page):
    box = page.find_element("id", "filter")
    box.send_keys("carol")
    visible = js(page, "return [...document.querySelectorAll('.person')].filter(e => e.style.display !== 'none')"
                       ".map(e => e.querySelector('h3').firstChild.textContent)")
    assert visible == ["1. Carol Colleague"]
    assert page.find_element("id", "shown").text == "1 of 4 shown"
    box.clear()
    box.send_keys("zzz")
    assert page.find_element("id", "shown").text == "0 of 4 shown"
