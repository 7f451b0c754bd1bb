"""Commands for evidence sources outside the mailbox: CalDAV calendars (`inboxrel calendar ...`).

The work is done in ``inboxrel.sources``; these commands only translate options and errors.
"""

from __future__ import annotations

import re

import click

from inboxrel.clikit import App, InboxrelGroup, emit, format_option, pass_app
from inboxrel.errors import PartialError, UsageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@click.group("calendar", cls=InboxrelGroup)
def calendar_group():
    """CalDAV calendars, read-only: meetings with people become conversation evidence.

    \b
    Examples:
      inboxrel calendar add work --url https://dav.example.com/u/work/ --username u --password-env DAV_PW
      inboxrel calendar test work
      inboxrel calendar sync              # also run by `inboxrel ingest`
      inboxrel calendar list
    """


@calendar_group.command("add")
@click.argument("name")
@click.option("--url", help="The calendar collection's CalDAV URL (https; http only for loopback).")
@click.option("--username", help="Login name on the CalDAV server.")
@click.option("--ics-url", metavar="URL",
              help="Instead: a published/secret ICS address (a secret: kept only in the config file).")
@click.option("--password-env", metavar="VAR", help="Read the password from environment variable VAR.")
@click.option("--password-command", metavar="CMD",
              help="Run CMD (no shell); its first output line is the password (e.g. 'pass show dav').")
@click.option("--keyring", "use_keyring", is_flag=True,
              help="The password is in the system keyring (service inboxrel/calendar/NAME).")
@click.option("--oauth2-token-command", metavar="CMD", help="Run CMD; it prints an OAuth2 bearer token.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, resolve_path=True),
              help="Trust this CA certificate (a self-hosted server).")
@click.option("--past-days", type=click.IntRange(1), default=365, show_default=True,
              help="Expand recurring events this far back.")
@click.option("--future-days", type=click.IntRange(1), default=31, show_default=True,
              help="... and this far ahead.")
@click.option("--replace", is_flag=True, help="Overwrite a calendar of the same name.")
@pass_app
def calendar_add(app: App, name, url, username, ics_url, password_env, password_command, use_keyring,
                 oauth2_token_command, ca_file, past_days, future_days, replace):
    """Add CalDAV calendar NAME to the config file (the password itself is never written).

    Choose exactly one password source, as for `inboxrel account add`. The calendar is only ever
    read: a sync sends PROPFIND, REPORT and GET requests, never a change.

    \b
    Examples:
      inboxrel calendar add work --url https://dav.example.com/u/work/ --username u --password-env DAV_PW
      inboxrel calendar add home --url https://cloud.example.org/remote.php/dav/calendars/me/personal/ \\
          --username me --password-command 'pass show nextcloud'
      inboxrel calendar add local --url http://127.0.0.1:5232/me/cal/ --username me --keyring
      inboxrel calendar add google --ics-url 'https://calendar.google.com/calendar/ical/.../private-.../basic.ics'

    With --ics-url (Google's "secret address in iCal format", Outlook's published calendar) no
    username or password is needed: the URL itself is the secret. It is written only to the config
    file (mode 0600) and never shown: messages and `calendar list` name its host only.
    """
    if ics_url:
        if url or username or password_env or password_command or use_keyring or oauth2_token_command:
            raise UsageError("--ics-url needs no --url, --username or password source: the address is the secret")
        _add_source(app, "ics", name, ics_url, None, None, None, False, None, ca_file, replace,
                    past_days=past_days, future_days=future_days)
        return
    if not url or not username:
        raise UsageError("give --url and --username (a CalDAV calendar), or --ics-url (a subscription address)")
    _add_source(app, "caldav", name, url, username, password_env, password_command, use_keyring,
                oauth2_token_command, ca_file, replace, past_days=past_days, future_days=future_days)


def _add_source(app: App, kind, name, url, username, password_env, password_command, use_keyring,
                oauth2_token_command, ca_file, replace, **extra):
    """Write a ``[[calendars]]`` table of ``kind`` caldav|carddav (`calendar add`, `carddav add`)."""
    from inboxrel.config import CalendarConfig, save_settings
    from inboxrel.sources.caldav import check_url

    if not _NAME.match(name):
        raise UsageError(f"calendar name {name!r}: use letters, digits, '.', '_' and '-' (e.g. work)")
    try:
        check_url(url, f"calendar {name!r}")
    except UsageError as exc:
        if kind == "ics":  # the message quotes the URL: not a secret one
            raise UsageError(f"calendar {name!r}: the --ics-url must be an https:// address") from exc
        raise
    sources = [s for s in (password_env, password_command, use_keyring or None, oauth2_token_command) if s]
    if len(sources) != 1 and kind != "ics":
        raise UsageError("give exactly one of --password-env, --password-command, --keyring, --oauth2-token-command")
    settings = app.settings_for_writing()
    calendars = settings.calendars
    if name in calendars and not replace:
        raise UsageError(f"calendar {name!r} already exists in {settings.config_path}: pass --replace to overwrite it")
    cal = CalendarConfig(name=name, url=url, username=username, password_env=password_env,
                         password_command=password_command, keyring=use_keyring,
                         oauth2_token_command=oauth2_token_command, ca_file=ca_file, kind=kind, **extra)
    if use_keyring:
        import sys

        from inboxrel.secrets import keyring_service, save_keyring_password
        from inboxrel.sources.caldav import _secret_holder

        holder = _secret_holder(cal)
        if sys.stdin.isatty():
            save_keyring_password(holder, click.prompt(f"Password for {username} (kept in the system keyring)",
                                                       hide_input=True))
        else:
            emit(f"store the password with: keyring set {keyring_service(holder)} {username}")
    calendars[name] = cal
    settings.raw["calendars"] = [c.to_toml() for c in calendars.values()]
    save_settings(settings)
    what, cmd = ("address book", "carddav") if kind == "carddav" else ("calendar", "calendar")
    emit(f"{what} {name} written to {settings.config_path}; check it with `inboxrel {cmd} test {name}`")




@calendar_group.command("list")
@format_option("table", "json")
@pass_app
def calendar_list(app: App, fmt):
    """The configured calendars with their last sync (the password source is named, never the password).

    \b
    Examples:
      inboxrel calendar list
      inboxrel calendar list --format json
    """
    from inboxrel.errors import StoreError
    from inboxrel.sources.caldav import _safe, calendar_status

    try:
        engine = app.engine(create=False)
    except StoreError:
        engine = None
    state = {r["calendar"]: r for r in calendar_status(engine)}
    rows = []
    for name, cal in sorted(app.settings.calendars.items()):
        secret = ("password_env " + cal.password_env if cal.password_env else "password_command" if
                  cal.password_command else "keyring" if cal.keyring else "oauth2_token_command"
                  if cal.oauth2_token_command else "none")
        s = state.get(name, {})
        if cal.kind == "ics":
            from inboxrel.sources.ics_url import redact

            shown, secret = redact(cal.url), "the URL itself"
        else:
            shown = _safe(cal.url)
        rows.append({"calendar": name, "kind": cal.kind, "url": shown, "username": cal.username, "secret": secret,
                     "items": s.get("items", 0), "last_ok_at": s.get("last_ok_at"),
                     "last_error": s.get("last_error"), "last_error_at": s.get("last_error_at")})
    if fmt == "json":
        from inboxrel.report.render import render_json

        emit(render_json(rows))
        return
    if not rows:
        emit("no calendars yet: add one with `inboxrel calendar add NAME --url URL --username U --password-env VAR`")
    for r in rows:
        who = f"as {r['username']} ({r['secret']})" if r["username"] else f"({r['secret']} is the secret)"
        line = (f"{r['calendar']}: {r['url']} {who}; {r['items']} items; "
                f"last success {r['last_ok_at'] or 'never'}")
        if r["last_error"]:
            line += f"; last error {r['last_error_at']}: {r['last_error']}"
        emit(line)


@calendar_group.command("test")
@click.argument("name")
@format_option("text", "json", default="text")
@pass_app
def calendar_test(app: App, name, fmt):
    """Log in to calendar NAME and count its objects, saving nothing.

    Exits 77 when the login is refused and 69 when the server cannot be reached.

    \b
    Examples:
      inboxrel calendar test work
      inboxrel calendar test work --format json
    """
    _test(app, name, fmt)


def _test(app: App, name, fmt):
    import os

    from inboxrel.sources.caldav import check_calendar

    cal = _one(app, name)
    out = check_calendar(cal, os.environ)
    if fmt == "json":
        from inboxrel.report.render import render_json

        emit(render_json(out))
        return
    if cal.kind == "carddav":
        emit(f"read {out['url']} as {out['username']}: the address book holds {out['objects']} cards")
        return
    if cal.kind == "ics":
        emit(f"read {out['url']}: the subscription holds {out['objects']} events (by UID)")
        return
    emit(f"read {out['url']} as {out['username']}: {out['display_name'] or 'calendar'} holds {out['objects']} "
         f"objects; incremental sync {'supported' if out['sync_token'] else 'by ETags (no sync token)'}")


def _one(app: App, name: str):
    calendars = app.settings.calendars
    if name not in calendars:
        raise UsageError(f"no calendar named {name!r} in the config; `inboxrel calendar list` shows them")
    return calendars[name]


@calendar_group.command("sync")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--full", is_flag=True, help="List every object again instead of asking what changed.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success; errors still go to stderr.")
@format_option("text", "json", default="text")
@pass_app
def calendar_sync(app: App, names, full, quiet, fmt):
    """Read what changed in the calendars (all, or the NAMEs) and update the evidence.

    Incremental: only new or changed events are downloaded, and a deleted or cancelled event takes its
    evidence with it. Recurring events are expanded from past_days back to future_days ahead. A
    failing calendar never stops the others.

    \b
    Exit status: 0 done; 2 bad config; 3 some calendars failed (the others were saved);
    69 unreachable; 77 login refused (when the only calendar synced failed).

    \b
    Examples:
      inboxrel calendar sync
      inboxrel calendar sync work --format json
      inboxrel calendar sync --full
    """
    _sync_command(app, names, full, quiet, fmt, "caldav")


def _sync_command(app: App, names, full, quiet, fmt, kind):
    results, errors = run_sync(app, names, full=full, kind=kind)
    if fmt == "json":
        from inboxrel.report.render import render_json

        emit(render_json(results))
    elif not quiet and not (len(results) == len(errors) == 1):  # a lone failure is the error line itself
        for line in sync_lines(results):
            emit(line)
    raise_worst(results, errors)


def run_sync(app: App, names=(), *, full: bool = False, kind: str = "caldav"):
    """Sync the calendars (caldav: CalDAV and ICS subscriptions) or address books (carddav) under the
    store's lock; (results, errors)."""
    import os

    from inboxrel.sources.caldav import sync_calendars

    kinds = ("caldav", "ics") if kind == "caldav" else (kind,)
    sources = {n: c for n, c in app.settings.calendars.items() if c.kind in kinds}
    with app.lock():
        return sync_calendars(app.engine(), sources, tuple(names), now=app.now, environ=os.environ, full=full,
                              region=app.settings.default_region)


def sync_lines(results) -> list[str]:
    out = []
    for r in results:
        if "error" in r:
            out.append(f"  calendar {r['calendar']}: FAILED: {r['error']}")
            continue
        if r.get("kind") == "carddav":
            out.append(f"  address book {r['calendar']}: {r['changed']} new or changed, {r['deleted']} gone, "
                       f"{r['unchanged']} unchanged; {r['linked']} contacts linked to people, {r['merged']} merges"
                       + (f"; {r['skipped']} unreadable skipped" if r["skipped"] else "") + f" ({r['seconds']} s)")
            for p in r["problems"][:10]:
                out.append(f"    skipped {p['href']}: {p['reason']}")
            continue
        if r.get("not_modified"):
            out.append(f"  calendar {r['calendar']}: not modified since the last sync ({r['seconds']} s)")
            continue
        out.append(f"  calendar {r['calendar']}: {r['changed']} new or changed, {r['deleted']} gone, "
                   f"{r['unchanged']} unchanged; {r['occurrences']} meetings with people"
                   + (f"; {r['skipped']} unreadable skipped" if r["skipped"] else "") + f" ({r['seconds']} s)")
        for p in r["problems"][:10]:
            out.append(f"    skipped {p['href']}: {p['reason']}")
    return out


def status_lines(engine) -> list[str]:
    """One line per synced calendar for `inboxrel status`."""
    from inboxrel.sources.caldav import calendar_status

    out = []
    for r in calendar_status(engine):
        line = f"calendar {r['calendar']}: {r['items']} items; last success {r['last_ok_at'] or 'never'}"
        if r["last_error"]:
            line += f"; last error {r['last_error_at']}: {r['last_error']}"
        out.append(line)
    return out


def sync_for_ingest(app: App, engine, account_names) -> tuple[list, list]:
    """`inboxrel ingest`'s calendar step, under the lock it already holds: every configured calendar
    when no account was named, none otherwise. (results, errors)."""
    import os

    from inboxrel.sources.caldav import sync_calendars

    calendars = app.settings.calendars
    if account_names or not calendars:
        return [], []
    return sync_calendars(engine, calendars, (), now=app.now, environ=os.environ, region=app.settings.default_region)


def calendar_error(errors):
    """The error `ingest` exits with when its mail was fine but calendars failed (3: partial)."""
    if not errors:
        return None
    return PartialError(f"{len(errors)} calendar(s) failed, the mail and the other calendars were saved: "
                        f"{errors[0]}")


def raise_worst(results, errors) -> None:
    if not errors:
        return
    if len(errors) == len(results) == 1:
        raise errors[0]
    raise PartialError(f"{len(errors)} of {len(results)} calendars failed: {errors[0]}")


# -- carddav --------------------------------------------------------------------------------------------

@click.group("carddav", cls=InboxrelGroup)
def carddav_group():
    """CardDAV address books, read-only: the cards of `import-contacts`, kept in step every night.

    \b
    Examples:
      inboxrel carddav add friends --url https://dav.example.com/u/contacts/ --username u --password-env DAV_PW
      inboxrel carddav test friends
      inboxrel carddav sync               # also run by `inboxrel ingest`
    """


@carddav_group.command("add")
@click.argument("name")
@click.option("--url", required=True, help="The address book's CardDAV URL (https; http only for loopback).")
@click.option("--username", required=True, help="Login name on the CardDAV server.")
@click.option("--password-env", metavar="VAR", help="Read the password from environment variable VAR.")
@click.option("--password-command", metavar="CMD",
              help="Run CMD (no shell); its first output line is the password (e.g. 'pass show dav').")
@click.option("--keyring", "use_keyring", is_flag=True,
              help="The password is in the system keyring (service inboxrel/calendar/NAME).")
@click.option("--oauth2-token-command", metavar="CMD", help="Run CMD; it prints an OAuth2 bearer token.")
@click.option("--ca-file", type=click.Path(exists=True, dir_okay=False, resolve_path=True),
              help="Trust this CA certificate (a self-hosted server).")
@click.option("--replace", is_flag=True, help="Overwrite a source of the same name.")
@pass_app
def carddav_add(app: App, name, url, username, password_env, password_command, use_keyring, oauth2_token_command,
                ca_file, replace):
    """Add CardDAV address book NAME to the config ([[calendars]] with kind = "carddav").

    \b
    Examples:
      inboxrel carddav add friends --url https://dav.example.com/u/contacts/ --username u --password-env DAV_PW
      inboxrel carddav add icloud --url https://contacts.icloud.com/123/carddavhome/card/ \\
          --username me@icloud.com --password-command 'pass show icloud-app-password'
    """
    _add_source(app, "carddav", name, url, username, password_env, password_command, use_keyring,
                oauth2_token_command, ca_file, replace)


@carddav_group.command("test")
@click.argument("name")
@format_option("text", "json", default="text")
@pass_app
def carddav_test(app: App, name, fmt):
    """Log in to address book NAME and count its cards, saving nothing (exit 77 / 69 like IMAP).

    \b
    Examples:
      inboxrel carddav test friends
    """
    _test(app, name, fmt)


@carddav_group.command("sync")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--full", is_flag=True, help="Download every card again.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success; errors still go to stderr.")
@format_option("text", "json", default="text")
@pass_app
def carddav_sync(app: App, names, full, quiet, fmt):
    """Read what changed in the address books (all, or the NAMEs) and update people from the cards.

    Only new or changed cards are downloaded; a card deleted on the server is dropped (a merge it
    caused stays until `inboxrel people undo`). Exit status as for `calendar sync`.

    \b
    Examples:
      inboxrel carddav sync
      inboxrel carddav sync friends --format json
    """
    _sync_command(app, names, full, quiet, fmt, "carddav")


# -- import-contacts ---------------------------------------------------------------------------------------

@click.command("import-contacts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", metavar="NAME", default="vcf", show_default=True,
              help="Name of this address book (cards are keyed by source and UID).")
@format_option("text", "json", default="text")
@pass_app
def import_contacts_cmd(app: App, file, source, fmt):
    """Import an address book exported as vCard (.vcf): Google Contacts, Apple Contacts, Android.

    Each card is linked to the person its email addresses belong to. A card that lists addresses of
    several people merges them (the card is the evidence; `inboxrel people history` shows it and
    `inboxrel people undo` takes it back). The card's name wins over names seen in mail, its phone
    numbers (with their labels: mobile, work, home) go to the person and are matched first by
    `import-calls`, and birthdays and anniversaries are kept for the `occasion` rule. A card that
    cannot be read is reported with its line and skipped. Re-importing the same file changes nothing;
    a card none of whose addresses has mail yet is linked by a later import.

    \b
    Examples:
      inboxrel import-contacts ~/Downloads/contacts.vcf          # Google Contacts: Export > vCard
      inboxrel import-contacts "All Contacts.vcf" --source apple # Apple Contacts: File > Export > vCard
      inboxrel import-contacts contacts.vcf --format json
    """
    from inboxrel.sources.contacts import import_contacts

    with app.lock():
        out = import_contacts(app.engine(), file, now=app.now, source=source, region=app.settings.default_region)
    if fmt == "json":
        from inboxrel.report.render import render_json

        emit(render_json(out))
        return
    emit(f"{out['cards']} contacts read: {out['linked']} linked to people ({out['merged']} merges, "
         f"{out['addresses_added']} addresses added, {out['numbers']} new numbers), {out['unlinked']} without mail "
         f"yet, {out['birthdays']} birthdays, {out['skipped']} cards skipped")
    for m in out["merges"]:
        emit(f"  merged (#{m['event']}): {m['reason']}")
    for p in out["problems"]:
        click.echo(f"  skipped the card at line {p['line']}: {p['reason']}", err=True)


COMMANDS = [calendar_group, carddav_group, import_contacts_cmd]
