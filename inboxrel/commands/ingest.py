"""Commands for IMAP ingestion: `ingest`, `status`, `schedule`, and `account add` / `account test`.

The work happens in :mod:`inboxrel.pipelines.ingest`; these commands turn options into one call, print
the result, and turn the library's named errors into exit statuses (see `inboxrel ingest --help`).
"""

from __future__ import annotations

import re

import click

from inboxrel.clikit import App, BarProgress, emit, format_option, pass_app
from inboxrel.commands import evidence
from inboxrel.commands import sources as source_commands
from inboxrel.errors import InboxrelError, NotFoundError, UsageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def _accounts(settings, names) -> list:
    """The configured IMAP accounts named on the command line (all of them when none is named)."""
    configured = {n: a for n, a in settings.accounts.items() if a.host}
    if not configured:
        raise UsageError(f"no IMAP account in {settings.config_path}: add one with "
                         f"`inboxrel account add NAME --host imap.example.com --username you@example.com "
                         f"--password-command 'pass show mail'`")
    if not names:
        return [configured[n] for n in sorted(configured)]
    unknown = [n for n in names if n not in configured]
    if unknown:
        raise NotFoundError(f"no IMAP account named {unknown[0]!r} in {settings.config_path}; "
                            f"configured: {', '.join(sorted(configured))}")
    return [configured[n] for n in dict.fromkeys(names)]


def _log_file(settings):
    return settings.log_file or settings.data_dir / "inboxrel.log"


def _open_log(settings):
    """Send the library's log (logger ``inboxrel``) to the log file; returns a function that detaches it."""
    import logging

    logger = logging.getLogger("inboxrel")
    path = _log_file(settings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        from logging.handlers import RotatingFileHandler

        # a nightly job for years: keep the log bounded (1 MB, and three older files)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        click.echo(f"warning: cannot write the log file {path} ({exc.strerror}); set log_file in the config",
                   err=True)
        return logger, lambda: None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)

    def detach():
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()

    return logger, detach


# -- ingest ---------------------------------------------------------------------------------------------

@click.command("ingest")
@click.argument("names", nargs=-1, metavar="[ACCOUNT]...")
@click.option("--full", is_flag=True, help="Read every folder again from its first message (still no duplicates).")
@click.option("--no-signals", is_flag=True, help="Skip conversation-evidence extraction.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success (for cron); errors still go to stderr.")
@format_option("text", "json", default="text")
@pass_app
def ingest(app: App, names, full, no_signals, quiet, fmt):
    """Fetch new mail from your IMAP accounts, read-only and incrementally.

    Reads INBOX, the sent folder(s) and your other folders (not Junk, Trash or Drafts; include/exclude
    patterns in the config override that). Only header fields are fetched, plus the text of messages
    inside the body window (default: the last 365 days). Nothing on the server is ever changed: folders
    are opened read-only and no flag is touched. A run that is killed or loses its connection resumes
    where it stopped next time. Errors go to stderr and to the log file (log_file in the config, default
    inboxrel.log in the data dir).

    \b
    Exit status:
      0   done
      3   partial: some folders or accounts failed, the rest was saved
      69  server unreachable (network, TLS certificate, timeouts after retries)
      75  another inboxrel run holds the store: try again later
      77  login refused, or no password could be obtained

    \b
    Examples:
      inboxrel ingest                      every configured account
      inboxrel ingest work --quiet         one account, silent unless something fails (cron)
      inboxrel ingest --format json        a summary for scripts
      inboxrel ingest --full               re-read every folder (never duplicates)
    """
    import os

    from inboxrel.pipelines.ingest import ingest as run_ingest

    logger, detach = _open_log(app.settings)
    try:
        accounts = _accounts(app.settings, names)
        with app.lock(create=True):  # before anything touches the store: a second run changes nothing
            engine = app.engine(create=True)
            after = None if no_signals else evidence.signal_stage(app)
            logger.info("ingest started: %s%s", ", ".join(a.name for a in accounts), " (full)" if full else "")
            with BarProgress(enabled=not quiet and fmt == "text") as bar:
                summary = run_ingest(engine, accounts, now=app.now, environ=os.environ, full=full,
                                     store_bodies=app.settings.store_bodies, progress=bar, after_batch=after,
                                     signals=after is not None, region=app.settings.default_region,
                                     deadline=app.settings.ingest_deadline or None)
                if after is not None:
                    after.finish(engine)
            # the calendars in the config ride along, so the one nightly line covers them too
            calendars, calendar_errors = source_commands.sync_for_ingest(app, engine, names)
        line = _summary_line(summary)
        logger.info("ingest finished: %s", line)
        if fmt == "json":
            from inboxrel.report.render import render_json

            emit(render_json({**summary.as_dict(), "calendars": calendars}))
        elif not quiet:
            for acc in summary.accounts:
                for f in acc.folders:
                    if f.unchanged and not f.error:
                        continue
                    emit(f"  {acc.account}: {f.name}: " + (f"FAILED: {f.error}" if f.error else _folder_text(f)))
                if acc.discovered:
                    emit(f"  {acc.account}: your addresses (discovered; `inboxrel account show` says why): "
                         f"{', '.join(acc.discovered)}")
            emit(line)
            for cal_line in source_commands.sync_lines(calendars):
                emit(cal_line)
        err = summary.error() or source_commands.calendar_error(calendar_errors)
        if err is not None:
            raise err
    except InboxrelError as exc:
        logger.error("%s (exit status %d)", exc, exc.exit_code)
        raise
    finally:
        detach()


def _folder_text(f) -> str:
    parts = [f"{f.new} new", f"{f.duplicates} already known", f"{f.quarantined} quarantined"]
    if f.gone:
        parts.append(f"{f.gone} gone")
    if f.flags_changed:
        parts.append(f"{f.flags_changed} flag changes")
    if f.bodies:
        parts.append(f"{f.bodies} bodies")
    if f.rescanned:
        parts.append("re-read: UIDVALIDITY changed")
    return ", ".join(parts)


def _summary_line(summary) -> str:
    folders = [f for a in summary.accounts for f in a.folders]
    unchanged = sum(1 for f in folders if f.unchanged)
    failed = sum(1 for f in folders if f.error) + sum(1 for a in summary.accounts if a.error and not a.folders)
    text = (f"ingested {summary.total('new')} new messages, {summary.total('duplicates')} already known, "
            f"{summary.total('quarantined')} quarantined, {summary.total('gone')} gone, "
            f"{summary.total('flags_changed')} flag changes; {len(folders)} folders ({unchanged} unchanged")
    text += f", {failed} failed)" if failed else ")"
    return text + f" in {len(summary.accounts)} account(s), {summary.seconds:.1f} s"


# -- status ---------------------------------------------------------------------------------------------

@click.command("status")
@click.argument("names", nargs=-1, metavar="[ACCOUNT]...")
@format_option("table", "json")
@pass_app
def status(app: App, names, fmt):
    """Per account and folder: the last successful sync, message counts and the last error.

    A cron job that fails silently shows here: look at "last success" and "last error".

    \b
    Examples:
      inboxrel status
      inboxrel status work --format json | jq '.[0].last_error'
    """
    from inboxrel.errors import StoreError
    from inboxrel.pipelines.ingest import sync_status

    try:
        engine = app.engine(create=False)
    except StoreError:
        engine = None
    rows = sync_status(engine, app.settings.accounts, names)
    if names and not rows:
        raise NotFoundError(f"no account named {names[0]!r} in the store or the config")
    if fmt == "json":
        from inboxrel.report.render import render_json

        emit(render_json(rows))
        return
    # the calendars come after the accounts (`inboxrel calendar list --format json` for scripts)
    calendar_lines = [] if names else source_commands.status_lines(engine)
    if not rows:
        emit("no accounts yet: add one with `inboxrel account add NAME --host ...`")
        for cal_line in calendar_lines:
            emit(cal_line)
        return
    for acc in rows:
        head = f"{acc['account']} ({acc['kind']}): {acc['messages']} messages; last success " \
               f"{acc['last_success_at'] or 'never'}"
        if acc["last_error"]:
            head += f"; last error {acc['last_error_at']}: {acc['last_error']}"
        emit(head)
        for f in acc["folders"]:
            line = (f"  {f['folder']:<32} {f['kind']:<8} {f['messages']:>7} msgs {f['gone']:>5} gone  "
                    f"last success {f['last_success_at'] or 'never'}")
            if f["last_error"]:
                line += f"  ERROR {f['last_error_at']}: {f['last_error']}"
            emit(line)
    for cal_line in calendar_lines:
        emit(cal_line)


# -- schedule -------------------------------------------------------------------------------------------

@click.command("schedule")
@click.option("--at", "at", default="03:30", show_default=True, metavar="HH:MM",
              help="Time of day for the nightly run (local time).")
@format_option("text", "cron", "systemd", default="text")
@pass_app
def schedule(app: App, at, fmt):
    """Print a crontab line and a systemd service + timer for the nightly ingest and report.

    The job runs `inboxrel ingest --quiet` and, when that succeeds, writes the HTML report. Cron mails
    you whatever a job prints, and --quiet prints nothing unless something failed.

    \b
    Examples:
      inboxrel schedule                          # both forms, with instructions
      inboxrel schedule --format cron | crontab -    # replaces your crontab!
      (crontab -l; inboxrel schedule --format cron) | crontab -
      inboxrel schedule --at 05:15 --format systemd
    """
    from inboxrel.schedule import build_schedule

    m = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)$", at)
    if not m:
        raise UsageError(f"--at {at!r} is not a time of day: use HH:MM, e.g. 03:30")
    out = build_schedule(hour=int(m.group(1)), minute=int(m.group(2)), data_dir=app.settings.data_dir,
                         config=app._config, db=app._db)
    if fmt == "cron":
        emit(out["cron"])
    elif fmt == "systemd":
        emit(f"# ~/.config/systemd/user/inboxrel.service\n{out['service']}\n"
             f"# ~/.config/systemd/user/inboxrel.timer\n{out['timer']}")
    else:
        emit("# cron: run `crontab -e` and add this line\n" + out["cron"] + "\n")
        emit("# or systemd (user units): save these two files, then run\n"
             "#   systemctl --user daemon-reload && systemctl --user enable --now inboxrel.timer\n"
             "#   loginctl enable-linger $USER     # so it runs while you are logged out\n")
        emit(f"# ~/.config/systemd/user/inboxrel.service\n{out['service']}\n"
             f"# ~/.config/systemd/user/inboxrel.timer\n{out['timer']}")


# -- account add / test ---------------------------------------------------------------------------------

@click.command("add")
@click.argument("name")
@click.option("--host", required=True, help="IMAP server, e.g. imap.fastmail.com.")
@click.option("--port", type=click.IntRange(1, 65535), help="Default: 993 for ssl, 143 for starttls.")
@click.option("--username", help="Login name (default: the first --me address).")
@click.option("--tls", type=click.Choice(["ssl", "starttls"]), default="ssl", show_default=True,
              help="ssl: TLS from the start (port 993); starttls: upgrade a plain connection (port 143).")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, resolve_path=True),
              help="PEM file of the CA (or self-signed certificate) to trust instead of the system CAs.")
@click.option("--password-env", metavar="VAR", help="Read the password from environment variable VAR.")
@click.option("--password-command", metavar="CMD",
              help="Run CMD (no shell) and use the first line it prints, e.g. 'pass show mail'.")
@click.option("--keyring", "use_keyring", is_flag=True,
              help="Use the system keyring (asks for the password now when run in a terminal).")
@click.option("--oauth2-token-command", metavar="CMD",
              help="Run CMD for an OAuth2 access token and log in with XOAUTH2 (Gmail, Microsoft 365).")
@click.option("--me", multiple=True, metavar="ADDRESS", help="One of my addresses in this account (repeatable).")
@click.option("--include", multiple=True, metavar="PATTERN",
              help="Read only folders matching PATTERN (shell-style, e.g. 'Projects/*'; repeatable).")
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Never read folders matching PATTERN.")
@click.option("--body-window", type=click.IntRange(0), metavar="DAYS",
              help="Fetch message text only for mail from the last DAYS days (default 365; 0 = never).")
@click.option("--replace", is_flag=True, help="Overwrite an account of the same name.")
@pass_app
def account_add(app: App, name, host, port, username, tls, ca_file, password_env, password_command, use_keyring,
                oauth2_token_command, me, include, exclude, body_window, replace):
    """Add IMAP account NAME to the config file (the password itself is never written).

    Choose exactly one password source. A password command suits cron best: it runs with no shell and
    its first output line is the password (like mbsync's PassCmd).

    \b
    Examples:
      inboxrel account add work --host imap.example.com --username me@example.com \\
          --password-command 'pass show mail/work' --me me@example.com
      inboxrel account add home --host 127.0.0.1 --port 10993 --ca-file ~/dovecot.pem \\
          --username me --keyring
      inboxrel account add gmail --host imap.gmail.com --username me@gmail.com \\
          --oauth2-token-command 'oauth2l fetch --scope https://mail.google.com/'
      inboxrel account test work              # then check what it sees
    """
    from inboxrel.config import AccountConfig, save_settings
    from inboxrel.pipelines.parse import normalize_address

    if not _NAME.match(name):
        raise UsageError(f"account name {name!r}: use letters, digits, '.', '_' and '-' (e.g. work)")
    settings = app.settings_for_writing()
    if name in settings.accounts and not replace:
        raise UsageError(f"account {name!r} already exists in {settings.config_path}: pass --replace to overwrite it")
    sources = [s for s in (password_env, password_command, use_keyring or None, oauth2_token_command) if s]
    if len(sources) != 1:
        raise UsageError("give exactly one of --password-env, --password-command, --keyring, "
                         "--oauth2-token-command")
    mine = []
    for m in me:
        email = normalize_address(m)
        if not email:
            raise UsageError(f"--me {m!r} is not an email address")
        mine.append(email)
    username = username or (mine[0] if mine else None)
    if not username:
        raise UsageError("give --username (or --me, whose first address is then the username)")
    acct = AccountConfig(name=name, host=host, port=port, username=username, tls=tls, ca_file=ca_file,
                         password_env=password_env, password_command=password_command, keyring=use_keyring,
                         oauth2_token_command=oauth2_token_command, me=mine, include=list(include),
                         exclude=list(exclude),
                         body_window_days=body_window if body_window is not None else settings.body_window_days,
                         body_max_bytes=settings.body_max_bytes)
    if use_keyring:
        import sys

        from inboxrel.secrets import keyring_service, save_keyring_password

        if sys.stdin.isatty():
            password = click.prompt(f"Password for {username} at {host} (kept in the system keyring)",
                                    hide_input=True)
            save_keyring_password(acct, password)
        else:
            emit(f"store the password with: keyring set {keyring_service(acct)} {username}")
    settings.accounts[name] = acct
    save_settings(settings)
    emit(f"account {name} written to {settings.config_path}; check it with `inboxrel account test {name}`")



@click.command("test")
@click.argument("name")
@format_option("table", "json")
@pass_app
def account_test(app: App, name, fmt):
    """Log in to account NAME, list the folders a sync reads (and why others are skipped), log out.

    Exits 77 when the login is refused and 69 when the server cannot be reached, like `inboxrel ingest`.

    \b
    Examples:
      inboxrel account test work
      inboxrel account test work --format json
    """
    import os

    from inboxrel.pipelines.ingest import check_account

    (acct,) = _accounts(app.settings, [name])
    out = check_account(acct, environ=os.environ)
    if fmt == "json":
        from inboxrel.report.render import render_json

        emit(render_json(out))
        return
    emit(f"logged in to {out['host']} as {out['username']} (password from {out['auth']}); "
         f"server supports {', '.join(out['capabilities']) or 'none of CONDSTORE, QRESYNC, SPECIAL-USE'}")
    for f in out["folders"]:
        what = "read" if f["read"] else f"skip ({f['reason']})"
        count = "-" if f["messages"] is None else str(f["messages"])
        emit(f"  {f['folder']:<36} {f['special_use'] or '':<10} {count:>8} msgs  {what}")
    emit(f"{sum(1 for f in out['folders'] if f['read'])} folders would be read; logged out")


COMMANDS = [ingest, status, schedule]
ACCOUNT_COMMANDS = [account_add, account_test]
