"""What every command shares: the application context, error handling, output options and progress bars.

Kept apart from ``cli.py`` so command modules (``inboxrel/commands/*``) can use it without circular imports.
Heavy libraries (SQLAlchemy, rich, spaCy) are imported inside functions, so ``inboxrel --help`` stays fast.
"""

from __future__ import annotations

import sys
from datetime import datetime
from functools import cached_property

import click

from inboxrel.errors import AmbiguousError, InboxrelError


class App:
    """Settings, the fixed "now" and the store, created on first use by a command."""

    def __init__(self, db: str | None, config: str | None, now: str | None):
        self._db = db
        self._config = config
        self._now = now
        self._engine = None

    @cached_property
    def settings(self):
        from inboxrel.config import load_settings
        from inboxrel.signals.text import set_max_text_bytes

        settings = load_settings(self._config, self._db)
        set_max_text_bytes(settings.max_text_bytes)  # before any worker is forked: they inherit it
        return settings

    @cached_property
    def now(self) -> datetime:
        from inboxrel.clock import parse_datetime, utcnow

        if not self._now:
            return utcnow()
        from inboxrel.errors import UsageError

        now = parse_datetime(self._now)
        if not 1971 <= now.year <= 9998:  # windows and cadences count years back and forth from it
            raise UsageError(f"--now {self._now}: give a date between 1971 and 9998")
        return now

    def engine(self, *, create: bool = False):
        """The store, migrated to the newest schema. Only the commands that write mail (``import``,
        ``ingest``, ``demo``) pass ``create=True``; any other on a missing store says it does not exist."""
        if self._engine is None:
            from inboxrel.db import open_store

            self._engine = open_store(self.settings.db_url, create=create)
        return self._engine

    def settings_for_writing(self):
        """The settings to add an account or a calendar to; a --config file not there yet is made by the write."""
        from pathlib import Path

        if self._config and not Path(self._config).expanduser().exists():
            from inboxrel.config import Settings, default_db_url

            return Settings(config_path=Path(self._config).expanduser(), db_url=self._db or default_db_url())
        return self.settings

    def lock(self, *, create: bool = False):
        """The store's write lock; without ``create`` the store must exist (no lock file for a misspelt --db)."""
        from inboxrel.db import store_lock

        if not create:
            self.engine()
        return store_lock(self.settings.db_url, self.settings.data_dir)


pass_app = click.make_pass_decorator(App)


class InboxrelGroup(click.Group):
    """A click group that turns expected errors into one line on stderr and a non-zero exit status."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except AmbiguousError as exc:
            click.echo(f"Error: {_safe(str(exc))}", err=True)
            for cand in exc.candidates:
                click.echo(f"  {_safe(str(cand))}", err=True)
            ctx.exit(exc.exit_code)
        except InboxrelError as exc:
            click.echo(f"Error: {_safe(str(exc))}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted; everything saved before this point is kept.", err=True)
            ctx.exit(130)
        except BrokenPipeError:
            ctx.exit(0)
        except Exception as exc:  # a full disk, a damaged or read-only store: one line, not a traceback
            from inboxrel.db import machine_fault

            fault = machine_fault(exc, _db_url(ctx))
            if fault is None:
                raise
            click.echo(f"Error: {_safe(str(fault))}", err=True)
            ctx.exit(fault.exit_code)

    def list_commands(self, ctx):  # keep the order commands were added in, grouped by purpose
        return list(self.commands)


def _db_url(ctx) -> str | None:
    app = ctx.obj
    try:
        return app.settings.db_url if isinstance(app, App) else None
    except InboxrelError:
        return None


def format_option(*choices: str, default: str = "table"):
    return click.option("--format", "fmt", type=click.Choice(choices), default=default, show_default=True,
                        help="Output format.")


def _safe(text: str) -> str:
    from inboxrel.report.render import terminal_safe

    return terminal_safe(text)


def emit(text: str) -> None:
    """Print command output; no control or bidi-override character from mail reaches the terminal."""
    click.echo(_safe(text.rstrip("\n")))


def is_terminal() -> bool:
    return sys.stderr.isatty()


class BarProgress:
    """A rich progress bar per folder on stderr; silent when stderr is not a terminal or when quiet."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and is_terminal()
        self._progress = None
        self._task = None
        self._wait = None  # the line saying what the run waits for, until a folder starts

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self._progress = Progress(TextColumn("{task.description:<30}"), BarColumn(), MofNCompleteColumn(),
                                      TimeRemainingColumn(), console=Console(stderr=True), transient=False)
            self._progress.start()
        return self

    def __exit__(self, *exc):
        if self._progress:
            self._progress.stop()

    def folder_start(self, name: str, total: int | None) -> None:
        if self._progress:
            from rich.markup import escape

            from inboxrel.report.render import display

            self._end_wait()
            self._task = self._progress.add_task(escape(display(name)[-30:]), total=total)

    def _end_wait(self) -> None:
        if self._progress and self._wait is not None:  # the run is moving again
            self._progress.remove_task(self._wait)
            self._wait = None

    def advance(self, n: int) -> None:
        if self._progress and self._task is not None:
            self._end_wait()
            self._progress.advance(self._task, n)

    def waiting(self, what: str) -> None:
        """One line saying what the run waits for (connecting, logging in, a retry's pause)."""
        if self._progress:
            from rich.markup import escape

            from inboxrel.report.render import display

            if self._wait is None:
                self._wait = self._progress.add_task(escape(display(what, 120)), total=None)
            else:
                self._progress.update(self._wait, description=escape(display(what, 120)))

    def folder_done(self, summary) -> None:
        if self._progress and self._task is not None:
            self._end_wait()
            task = next(t for t in self._progress.tasks if t.id == self._task)
            self._progress.update(self._task, total=task.completed)
            self._task = None
