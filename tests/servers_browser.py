"""Headless Chromium for the HTML report tests, driven by Selenium through the Debian chromedriver.

The browser runs with a fresh profile, no network features, no GPU and no sandbox (CI runs as root).
On a developer machine without Chromium the tests skip; in CI (``CI=true``) that is a failure.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

CHROMIUM = ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,2000")


def _first(paths, name: str) -> str | None:
    for p in paths:
        if Path(p).exists():
            return p
    return shutil.which(name)


@pytest.fixture(scope="session")
def browser():
    """A Selenium WebDriver for headless Chromium; browser console messages are kept (get_log)."""
    from tests.conftest import unavailable

    chromium, driver_path = _first(CHROMIUM, "chromium"), _first(CHROMEDRIVER, "chromedriver")
    if not chromium or not driver_path:
        unavailable("headless Chromium is not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
    except ImportError:
        unavailable("selenium is not installed (pip install -e '.[test]')")
    profile = tempfile.mkdtemp(prefix="irchrome")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for arg in ARGS:
        opts.add_argument(arg)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=driver_path), options=opts)
    except Exception as exc:  # the browser or driver would not start: say why
        shutil.rmtree(profile, ignore_errors=True)
        unavailable(f"headless Chromium did not start: {str(exc).splitlines()[0]}")
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
