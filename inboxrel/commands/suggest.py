"""Commands for the call list and the reports: `suggest`, `explain`, `report`, `rules`, and the feedback
that changes the next suggestion: `snooze`, `dismiss`, `ignore`, `circle add|list|remove`.

The work happens in :mod:`inboxrel.report.suggest`, :mod:`inboxrel.report.summary` and
:mod:`inboxrel.feedback`; heavy imports stay inside the functions so `inboxrel --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path

import click

from inboxrel.clikit import App, emit, format_option, is_terminal, pass_app

now_option = click.option("--now", "now_opt", metavar="DATETIME",
                          help="Pretend it is this time (ISO 8601); same as the global --now.")


def _now(app: App, now_opt: str | None):
    from inboxrel.clock import parse_datetime

    return parse_datetime(now_opt) if now_opt else app.now


def _policy(app: App):
    from inboxrel.rules.policy import build_policy

    return build_policy(app.settings)


def _store(app: App, now):
    """The store, with its derived per-day tables brought up to date (cheap when nothing changed)."""
    from inboxrel.report.volume import refresh_summary

    engine = app.engine(create=False)
    refresh_summary(engine, now=now)
    return engine


def _write(text: str, output: str | None) -> None:
    if output:
        from inboxrel.errors import UsageError

        path = Path(output)
        try:
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        except OSError as exc:
            raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    else:
        emit(text)


@click.command()
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="At most N people (default 10, or suggest_limit in [thresholds]).")
@format_option("table", "json", "csv", "markdown", "ics")
@now_option
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of standard output.")
@pass_app
def suggest(app: App, limit, fmt, now_opt, output):
    """Whom to call this week, and why: the call list, best first.

    Ranks the people you are heavy on email with and overdue to talk to (see `inboxrel rules`) by a
    score that weighs email load, days overdue, reciprocity and how long you have corresponded. Each
    entry gives the reasons, the last conversation, thread subjects to talk about and a good time to
    call in their own time zone. Snoozed, ignored and automated senders never appear, nor anyone with a
    call or meeting already planned.

    \b
    Examples:
      inboxrel suggest
      inboxrel suggest --limit 5 --format json | jq '.[0].reasons'
      inboxrel suggest --format ics --output calls.ics     # one VTODO per person
      inboxrel suggest --now 2001-12-01 --format markdown
    """
    from inboxrel.report.suggest import build_suggestions
    from inboxrel.report.text import render_suggestions

    now = _now(app, now_opt)
    policy = _policy(app)
    with _store(app, now).connect() as conn:
        rows = build_suggestions(conn, now, policy, limit=limit)
    _write(render_suggestions(rows, fmt, now=now), output)


@click.command()
@click.argument("person")
@format_option("table", "json")
@now_option
@pass_app
def explain(app: App, person, fmt, now_opt):
    """Why PERSON is (or is not) on the call list: every metric, every piece of evidence with its
    source, and each rule's verdict with the numbers it compared.

    PERSON is an address, a name or a unique prefix of either.

    \b
    Examples:
      inboxrel explain alice@example.com
      inboxrel explain "Alice Smith" --format json
    """
    from inboxrel.report.render import render_json
    from inboxrel.report.suggest import explain_person
    from inboxrel.report.text import render_explain

    now = _now(app, now_opt)
    policy = _policy(app)
    with _store(app, now).connect() as conn:
        data = explain_person(conn, person, now, policy)
    emit(render_json(data) if fmt == "json" else render_explain(data))


@click.command()
@click.option("--since", default="30d", show_default=True, metavar="DURATION|DATE",
              help="Start of the period: a duration back from now (30d, 8w, 6m) or a date.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="People in the call list.")
@format_option("table", "json", "markdown", "html")
@now_option
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (the HTML report is one self-contained file).")
@pass_app
def report(app: App, since, limit, fmt, now_opt, output):
    """The period's summary: mail in and out, the most-written and new people, cooling relationships,
    the call list, threads awaiting your reply, conversation evidence found, and sync health.

    The HTML report is one file with no outside resources: charts of each person's email volume with
    conversation markers, and of the whole circle's email load against days since the last conversation.
    The nightly job runs `inboxrel ingest` and then this (see `inboxrel schedule`).

    \b
    Examples:
      inboxrel report
      inboxrel report --since 7d --format markdown
      inboxrel report --format html --output ~/inboxrel-report.html
      inboxrel report --since 2001-10-01 --now 2002-01-05 --format json
    """
    from inboxrel.clock import parse_datetime, parse_duration
    from inboxrel.errors import UsageError
    from inboxrel.report.summary import build_report

    now = _now(app, now_opt)
    try:
        start = now - parse_duration(since)
    except UsageError:
        try:
            start = parse_datetime(since)
        except UsageError:
            raise UsageError(f"--since {since!r}: give a duration such as 30d, 8w, 6m, or a date such as "
                             f"2001-10-01") from None
    policy = _policy(app)
    with _store(app, now).connect() as conn:
        rep = build_report(conn, now, policy, since=start, limit=limit, charts=fmt in ("html", "json"))
    if fmt == "html":
        from inboxrel.report.html import render_html

        text = render_html(rep, heavy=policy.th.heavy_min_messages, cadence=policy.th.default_cadence_days)
        if not output:
            raise UsageError("--format html needs --output FILE (one self-contained page)")
    else:
        from inboxrel.report.text import render_report

        text = render_report(rep, fmt)
    _write(text, output)
    if output and fmt == "html" and is_terminal():  # silent under cron: a nightly job mails any output
        click.echo(f"wrote {output} ({len(rep['call_list'])} people to call)", err=True)


@click.command()
@format_option("table", "json", "markdown")
@pass_app
def rules(app: App, fmt):
    """The rules in force, in policy order, with what each does (your config can change them).

    \b
    Config (TOML):
      policy = ["automated", "ignored", "heavy-email-overdue-call", "quiet-client"]
      [thresholds]
      heavy_min_messages = 12
      [[rules]]
      name = "quiet-client"
      when = ["sent_365d >= 20", "received_30d == 0"]
      reason = "{sent_365d} emails to them this year, nothing back in 30 days"

    \b
    Examples:
      inboxrel rules
      inboxrel rules --format markdown
    """
    from inboxrel.report.text import render_rules

    emit(render_rules(_policy(app).table(), fmt))


# -- feedback ---------------------------------------------------------------------------------------------

@click.command()
@click.argument("person")
@click.option("--days", type=click.IntRange(min=1), default=14, show_default=True, help="How long to leave them out.")
@now_option
@pass_app
def snooze(app: App, person, days, now_opt):
    """Leave PERSON out of the call list for N days.

    \b
    Example:
      inboxrel snooze alice@example.com --days 30
    """
    from inboxrel.feedback import save_snooze

    with app.lock():
        out = save_snooze(app.engine(), person, days, _now(app, now_opt))
    emit(f"snoozed {out['person']} until {out['until'][:10]}")


@click.command()
@click.argument("person")
@click.option("--reason", required=True, type=click.Choice(["talked", "not-a-relationship", "seasonal"]),
              help="talked: log a conversation now; not-a-relationship: never suggest again; "
                   "seasonal: a long cadence (365 days, or --cadence).")
@click.option("--cadence", metavar="DURATION", help="With --reason seasonal: the cadence (e.g. 180d, 6m).")
@click.option("--medium", type=click.Choice(["phone", "video", "in_person", "unspecified"]), default="unspecified",
              show_default=True, help="With --reason talked: how you talked.")
@click.option("--note", help="With --reason talked: a note kept with the conversation.")
@now_option
@pass_app
def dismiss(app: App, person, reason, cadence, medium, note, now_opt):
    """Take PERSON off the call list, saying why.

    \b
    Examples:
      inboxrel dismiss alice@example.com --reason talked --medium phone
      inboxrel dismiss newsletter-ish@example.com --reason not-a-relationship
      inboxrel dismiss "Bob Ski Club" --reason seasonal --cadence 6m
    """
    from inboxrel.clock import parse_duration
    from inboxrel.errors import UsageError
    from inboxrel.feedback import save_dismiss

    if cadence and reason != "seasonal":
        raise UsageError("--cadence goes with --reason seasonal")
    days = parse_duration(cadence).days if cadence else None
    th = _policy(app).th
    with app.lock():
        out = save_dismiss(app.engine(), person, reason, _now(app, now_opt), th, cadence_days=days,
                           medium=medium, note=note)
    if reason == "talked":
        emit(f"logged a conversation with {out['person']} today; off the list until their cadence comes round")
    elif reason == "seasonal":
        emit(f"{out['person']}: cadence set to {out['cadence_days']} days")
    else:
        emit(f"{out['person']} will not be suggested again (undo: inboxrel ignore --undo {person})")


@click.command()
@click.argument("targets", nargs=-1, metavar="PERSON|@DOMAIN...")
@click.option("--undo", is_flag=True, help="Stop ignoring them.")
@click.option("--list", "list_", is_flag=True, help="Show who and which domains are ignored.")
@click.option("--reason", help="A note kept with the ignore.")
@format_option("table", "json")
@now_option
@pass_app
def ignore(app: App, targets, undo, list_, reason, fmt, now_opt):
    """Never suggest PERSON, or anyone whose every address is in @DOMAIN.

    \b
    Examples:
      inboxrel ignore bob@example.com
      inboxrel ignore @linkedin.com @github.com
      inboxrel ignore --list
      inboxrel ignore --undo bob@example.com
    """
    from inboxrel.errors import UsageError
    from inboxrel.feedback import ignore_rows, remove_ignore, save_ignore

    if list_:
        from inboxrel.report.render import render

        with app.engine().connect() as conn:
            rows = ignore_rows(conn)
        emit(render(rows, ["target", "name", "reason", "since"], fmt, ["Ignored", "Name", "Reason", "Since"]))
        return
    if not targets:
        raise UsageError("give a PERSON or @DOMAIN to ignore (or --list)")
    now = _now(app, now_opt)
    with app.lock():
        for t in targets:
            if undo:
                out = remove_ignore(app.engine(), t)
                emit(f"no longer ignoring {out.get('person') or '@' + out['domain']}")
            else:
                out = save_ignore(app.engine(), t, now, reason)
                what = out.get("person") or "@" + out["domain"]
                emit(f"ignoring {what}" + ("" if out["new"] else " (already ignored)"))


@click.group()
def circle():
    """Circles: groups of people with a cadence (how often you want to talk: due, then overdue)."""


@circle.command("add")
@click.argument("name")
@click.argument("people", nargs=-1)
@click.option("--cadence", metavar="DURATION", help="Due after this long without a conversation (30d, 6w, 3m).")
@click.option("--max", "max_", metavar="DURATION", help="Overdue after this long (default 1.5 x cadence).")
@pass_app
def circle_add(app: App, name, people, cadence, max_):
    """Create or update circle NAME and add PEOPLE to it.

    \b
    Examples:
      inboxrel circle add inner --cadence 30d alice@example.com bob@example.com
      inboxrel circle add clients --cadence 8w --max 12w "Carol Client"
    """
    from inboxrel.clock import parse_duration
    from inboxrel.feedback import save_circle

    th = _policy(app).th
    with app.lock():
        out = save_circle(app.engine(), name, people, cadence_days=parse_duration(cadence).days if cadence else None,
                          max_days=parse_duration(max_).days if max_ else None, overdue_factor=th.overdue_factor)
    emit(f"circle {out['circle']}: due after {out['cadence_days']} days, overdue after {out['max_days']}"
         + (f"; added {', '.join(out['added'])}" if out["added"] else ""))


@circle.command("list")
@format_option("table", "json")
@pass_app
def circle_list(app: App, fmt):
    """Every circle with its cadence and members.

    \b
    Example:
      inboxrel circle list --format json
    """
    from inboxrel.feedback import circle_rows
    from inboxrel.report.render import render_json

    with app.engine().connect() as conn:
        rows = circle_rows(conn)
    if fmt == "json":
        emit(render_json(rows))
        return
    if not rows:
        emit("no circles yet: inboxrel circle add inner --cadence 30d PERSON...")
    for r in rows:
        emit(f"{r['circle']}: due after {r['cadence_days']} days, overdue after {r['max_days']} "
             f"({len(r['members'])} people)")
        for m in r["members"]:
            emit(f"  {m['name'] + ' ' if m['name'] else ''}<{m['email']}>")


@circle.command("remove")
@click.argument("name")
@click.argument("people", nargs=-1)
@pass_app
def circle_remove(app: App, name, people):
    """Remove PEOPLE from circle NAME, or the whole circle when no one is named.

    \b
    Examples:
      inboxrel circle remove inner bob@example.com
      inboxrel circle remove old-team
    """
    from inboxrel.feedback import remove_circle

    with app.lock():
        out = remove_circle(app.engine(), name, people)
    if out["removed"] == "circle":
        emit(f"removed circle {name}")
    else:
        emit(f"removed {', '.join(out['removed'])} from circle {name}")


COMMANDS = [suggest, explain, report, rules, snooze, dismiss, ignore, circle]
