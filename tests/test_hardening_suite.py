"""The test suite keeps off the user's machine: its own data and config folders, skip reasons shown, and
in CI a missing corpus or server is a failure, never a skip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests import conftest
from tests.conftest import ROOT, USER_DIRS


def test_the_default_data_and_config_folders_are_the_suites_own():
    from inboxrel.config import default_config_path, default_data_dir, load_settings

    assert default_data_dir().is_relative_to(USER_DIRS)
    assert default_config_path().is_relative_to(USER_DIRS)
    assert load_settings().db_url == f"sqlite:///{default_data_dir() / 'inboxrel.db'}"


def test_a_child_process_sees_the_same_folders():
    out = subprocess.run([sys.executable, "-c", "from inboxrel.config import default_data_dir as d; print(d())"],
                         capture_output=True, text=True, cwd=ROOT, check=True).stdout.strip()
    assert Path(out).is_relative_to(USER_DIRS)


@pytest.mark.postgres
def test_postgresql_writers_leave_no_lock_file(pg_url):
    from inboxrel.config import default_data_dir
    from inboxrel.db import open_store, store_lock

    open_store(pg_url).dispose()
    with store_lock(pg_url, default_data_dir()):
        pass
    assert not list(default_data_dir().glob("store-*.lock"))  # the lock is in the database


def test_a_missing_corpus_fails_in_ci_and_skips_with_its_reason_elsewhere(monkeypatch):
    monkeypatch.setattr(conftest, "CI", True)
    with pytest.raises(pytest.fail.Exception, match="required in CI: .*corpora"):
        conftest.unavailable("../shared/data (the shared corpora) is missing")
    monkeypatch.setattr(conftest, "CI", False)
    with pytest.raises(pytest.skip.Exception, match="corpora"):
        conftest.unavailable("../shared/data (the shared corpora) is missing")


def test_skip_reasons_are_in_the_summary():
    import tomllib

    opts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]["addopts"]
    assert "-rs" in opts.split()
