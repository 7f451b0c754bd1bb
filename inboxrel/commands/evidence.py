"""Commands for conversation evidence: cues, logged calls, call logs, calendars, re-analysis.

The work is done in ``inboxrel.signals``; these commands only translate options and errors.
"""

from __future__ import annotations

import os
import sys

import click

from inboxrel.clikit import App, emit, format_option, pass_app


def _regions(app: App, conn, ids: list[int]) -> dict[int, str]:
    """Per-message default region from the account's ``default_region`` setting (none: the global one)."""
    per_account = {name: acct.default_region for name, acct in app.settings.accounts.items() if acct.default_region}
    if not per_account or not ids:
        return {}
    from sqlalchemy import select

    from inboxrel.models import accounts, messages

    out = {}
    for i in range(0, len(ids), 500):
        for r in conn.execute(select(messages.c.id, accounts.c.name).join(accounts, accounts.c.id == messages.c.account_id)
                              .where(messages.c.id.in_(ids[i:i + 500]))):
            if r.name in per_account:
                out[r.id] = per_account[r.name]
    return out


class SignalStage:
    """The callback the import runs on each batch it saves, to extract conversation evidence.

    It runs inside the batch's transaction (``conn``): the messages and their evidence are committed
    together, so a run killed at any point never leaves saved mail without its evidence. ``finish`` runs
    after the import: some of my addresses and my delegates are only known once all the mail is in, and the
    evidence of their messages is read again (see :func:`inboxrel.signals.manual.follow_identity`).
    """

    def __init__(self, app):
        self.app = app
        self.before: dict[int, str] | None = None
        self.failed = 0  # messages whose evidence failed (each alone), and the first reasons
        self.failures: list[tuple[int, str]] = []

    def __call__(self, conn, saved):
        from inboxrel.signals.manual import identity_state
        from inboxrel.signals.save import analyze_parsed

        if self.before is None:
            self.before = identity_state(conn)
        ids = [mid for mid, _ in saved]
        found = analyze_parsed(conn, saved, now=self.app.now, region=self.app.settings.default_region,
                               regions=_regions(self.app, conn, ids))
        self.failed += found.failed
        self.failures.extend(found.failures[:max(0, 5 - len(self.failures))])

    def finish(self, engine) -> None:
        if self.before is not None:
            follow_identity(self.app, engine, self.before)


def identity_snapshot(engine) -> dict[int, str]:
    """Who is me and who is a delegate now (before a change the user asks for)."""
    from inboxrel.signals.manual import identity_state

    with engine.connect() as conn:
        return identity_state(conn)


def follow_identity(app, engine, before: dict[int, str]) -> None:
    """Re-read the evidence of the messages whose addresses changed role since ``before``."""
    from inboxrel.signals.manual import follow_identity as follow

    follow(engine, app.settings, before, now=app.now, environ=os.environ)


def signal_stage(app) -> SignalStage:
    """The evidence stage of an import or ingest (see :class:`SignalStage`)."""
    return SignalStage(app)


# -- cues -----------------------------------------------------------------------------------------------

@click.command("cues")
@click.argument("file", type=click.File("r", encoding="utf-8"), required=False)
@click.option("--eval", "eval_file", type=click.Path(exists=True, dir_okay=False),
              help="Score against the labelled cues in this JSON Lines file instead.")
@format_option("text", "json", default="text")
def cues_cmd(file, eval_file, fmt):
    """Find conversation cues in texts: JSON Lines {"id","date","text"} in, {"id","cues"} out.

    Reads FILE, or standard input when no FILE is given. Each output line is
    {"id": ..., "cues": [{"kind", "medium", "when"}]}: kind past|planned|request, medium
    phone|video|in_person|unspecified, when YYYY-MM-DD or null. With --eval FILE, compares with the
    "cues" in FILE and prints precision, recall and F1 for kind, kind+medium and when.

    \b
    Examples:
      echo '{"id":"1","date":"2001-05-14T09:30:00-05:00","text":"Great talking yesterday!"}' | inboxrel cues
      inboxrel cues texts.jsonl > cues.jsonl
      inboxrel cues --eval ../shared/data/cues-dev/cues-dev.jsonl
      inboxrel cues --eval cues-dev.jsonl --format json
    """
    from inboxrel.signals.evaluate import evaluate_file, format_scores, run_cues

    if eval_file:
        scores = evaluate_file(eval_file)
        if fmt == "json":
            import json

            emit(json.dumps(scores, indent=2))
        else:
            emit(format_scores(scores))
        return
    stream = file or sys.stdin
    for line in run_cues(stream):
        sys.stdout.write(line + "\n")


# -- log ------------------------------------------------------------------------------------------------

@click.command("log")
@click.argument("medium", type=click.Choice(["call", "video", "meeting"]))
@click.argument("person")
@click.option("--at", "at", metavar="DATETIME", help="When (ISO 8601; default: now). A future time is planned.")
@click.option("--note", metavar="TEXT", help="A note to keep with it.")
@format_option("text", "json", default="text")
@pass_app
def log_cmd(app: App, medium, person, at, note, fmt):
    """Record a conversation the mailbox cannot know about: a call, a video call or a meeting.

    PERSON is an address, a name or a unique prefix of either; an ambiguous one lists the candidates.
    Logging the same PERSON, MEDIUM and time again changes nothing.

    \b
    Examples:
      inboxrel log call alice@example.com
      inboxrel log meeting "Bob Jones" --at 2024-05-02T12:30 --note "lunch at Luigi's"
      inboxrel log video ali --at 2024-06-01   # planned when in the future
    """
    from inboxrel.clock import parse_datetime
    from inboxrel.signals.manual import save_logged

    when = parse_datetime(at) if at else app.now
    with app.lock():
        row = save_logged(app.engine(), person, medium, when, note=note, now=app.now)
    if fmt == "json":
        import json

        emit(json.dumps(row, default=str))
    else:
        emit(f"logged {row['kind']} {row['medium']} with {row['person']} at {row['at']}")


# -- import-calls -----------------------------------------------------------------------------------------

@click.command("import-calls")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--min-seconds", type=click.IntRange(0), default=None, metavar="N",
              help="Answered calls shorter than this are attempts, not conversations "
                   "(default: call_min_seconds in the config, else 60).")
@format_option("text", "json", default="text")
@pass_app
def import_calls_cmd(app: App, file, min_seconds, fmt):
    """Import a phone call log as conversations with the people it can match.

    The format is detected: an Android backup (SMS Backup & Restore calls-*.xml), an iPhone/macOS
    call history exported as CSV (the ZCALLRECORD table: ZADDRESS, ZDATE, ZDURATION, ZORIGINATED,
    ZANSWERED), or any CSV whose header names the columns below. UTF-8 and UTF-16 (with or without
    a BOM) are read. A row that cannot be read is reported with its line number and skipped; the
    rest is imported. Re-importing the same file adds nothing.

    \b
    CSV columns (header row required; other columns are ignored):
      date       ISO 8601, YYYY-MM-DD HH:MM (no offset = UTC), epoch seconds/ms, "May 21, 2024 2:30 PM"
      number     the other party's number, any format (read with the configured default_region)
      address    or an email address instead of a number (FaceTime/Teams logs)
      direction  incoming|outgoing|missed|rejected|voicemail|blocked (aliases: type, call type)
      duration   seconds, MM:SS, H:MM:SS or "2m 5s"; 0 means nobody answered
      name       optional; not used for matching
      service    optional; "FaceTime Video" (or any "video") makes it a video call
    Missed, rejected and voicemail calls and calls shorter than --min-seconds are attempts.
    Numbers match people through their contacts' numbers first, then the numbers in their
    signatures (`inboxrel person` shows them). Column names are data: sources/calllog_formats.json.

    \b
    Examples:
      inboxrel import-calls calls-20240525.xml          # Android, SMS Backup & Restore
      inboxrel import-calls CallHistory.csv             # iPhone/macOS call history
      inboxrel import-calls calls.csv --min-seconds 30 --format json
    """
    from inboxrel.signals.manual import import_call_log

    if min_seconds is None:
        min_seconds = int(app.settings.raw.get("call_min_seconds", 60))
    with app.lock():
        out = import_call_log(app.engine(), file, now=app.now, region=app.settings.default_region,
                              min_seconds=min_seconds)
    if fmt == "json":
        import json

        emit(json.dumps(out, default=str))
    else:
        emit(f"{out['calls']} calls read ({out['format']}, {out['encoding']}): {out['matched']} matched to people "
             f"({out['conversations']} conversations, {out['attempts']} attempts), {out['unmatched']} unmatched, "
             f"{out['skipped']} rows skipped")
        for p in out["problems"]:
            click.echo(f"  skipped line {p['line']}: {p['reason']}", err=True)
        for u in out["unmatched_examples"]:
            emit(f"  unmatched: {u}")


# -- import-calendar ----------------------------------------------------------------------------------------

@click.command("import-calendar")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@format_option("text", "json", default="text")
@pass_app
def import_calendar_cmd(app: App, file, fmt):
    """Import an exported calendar (.ics): meetings with people you correspond with become evidence.

    Events whose attendees or organizer are people in the store become planned (future) or past
    meetings; cancelled events are recorded as cancelled. Video links (Zoom, Teams, Meet, Webex) make
    a meeting a video call. Re-importing the same file adds nothing.

    \b
    Examples:
      inboxrel import-calendar ~/Downloads/calendar.ics
      inboxrel import-calendar work.ics --format json
    """
    from inboxrel.signals.manual import import_calendar_file

    with app.lock():
        out = import_calendar_file(app.engine(), file, now=app.now)
    if fmt == "json":
        import json

        emit(json.dumps(out))
    else:
        emit(f"{out['events']} events read, {out['interactions']} meetings recorded with people in the store")


# -- reanalyze ----------------------------------------------------------------------------------------------

@click.command("reanalyze")
@click.option("--all", "everything", is_flag=True, help="Every message, not only those an older version analysed.")
@format_option("text", "json", default="text")
@pass_app
def reanalyze_cmd(app: App, everything, fmt):
    """Re-run the conversation signals over stored message bodies (after the rules improved).

    Messages analysed by the current signals version are skipped unless --all is given. When bodies
    were not kept (store_bodies = false), messages of IMAP accounts are fetched again, read-only
    (EXAMINE, BODY.PEEK), analysed and dropped; for local accounts the command says which messages it
    could not redo.

    \b
    Examples:
      inboxrel reanalyze
      inboxrel reanalyze --all --format json
    """
    from inboxrel.signals.manual import reanalyze

    with app.lock():
        out = reanalyze(app.engine(), app.settings, now=app.now, everything=everything, environ=os.environ)
    if fmt == "json":
        import json

        emit(json.dumps(out))
    else:
        emit(f"re-analysed {out['messages']} messages: {out['interactions']} interactions, "
             f"{out['phone_numbers']} new phone numbers"
             + (f"; {out['refetched']} re-fetched over IMAP" if out.get("refetched") else "")
             + (f"; {out['failed']} gave no evidence ({failed_reason(out['failures'])})" if out.get("failed") else ""))


def failed_reason(failures) -> str:
    """The first message whose evidence failed, and why: 'message 12: ValueError: ...'."""
    return f"message {failures[0][0]}: {failures[0][1]}" if failures else "see the log"


# -- evidence: review and correct -----------------------------------------------------------------------

EVIDENCE_COLUMNS = ["id", "at", "kind", "medium", "confidence", "email", "source", "sentence"]
EVIDENCE_HEADERS = ["Id", "When", "Kind", "Medium", "Conf", "Person", "Source", "Sentence"]


@click.group("evidence", invoke_without_command=True)
@click.option("--person", "person", metavar="PERSON", help="Only this person (address, name or unique prefix).")
@click.option("--kind", type=click.Choice(["past", "planned", "request", "attempt"]), help="Only this kind.")
@click.option("--since", metavar="DATE", help="Only items on or after this day (ISO 8601, or a duration like 90d).")
@format_option("table", "json", "csv")
@pass_app
@click.pass_context
def evidence_group(ctx, app: App, person, kind, since, fmt):
    """Every piece of conversation evidence, where it came from, and why it counts.

    Each item has an id (use it with `evidence reject`), the person (name, primary address and all their
    addresses in JSON), kind past|planned|request|attempt, medium, when, confidence, the source (message,
    calendar, manual, calllog) and, for mail, the Message-ID, folder and file or UID, and the sentence.

    \b
    Examples:
      inboxrel evidence --person alice@example.com
      inboxrel evidence --kind past --since 90d
      inboxrel evidence --format json | jq '.[] | {id, email, kind, sentence}'
      inboxrel evidence reject 1234 --reason "a courtesy line, not a call"
    """
    if ctx.invoked_subcommand:
        return
    from inboxrel.report.render import render
    from inboxrel.signals.review import EVIDENCE_FIELDS, list_evidence

    since_dt = _since(app, since) if since else None
    with app.engine(create=False).connect() as conn:
        pids = None
        if person:
            from inboxrel.identity import resolve_person

            pids = [resolve_person(conn, person)]
        rows = list_evidence(conn, person_ids=pids, kind=kind, since=since_dt, until=app.now)
    if fmt == "json":
        emit(render(rows, EVIDENCE_FIELDS, "json"))
    elif fmt == "csv":
        emit(render(rows, EVIDENCE_FIELDS, "csv"))
    else:
        for r in rows:
            r["sentence"] = (r["sentence"] or r["note"] or "")[:90]
        emit(render(rows, EVIDENCE_COLUMNS, "table", EVIDENCE_HEADERS))


def _since(app: App, value: str):
    from inboxrel.clock import parse_datetime, parse_duration
    from inboxrel.errors import UsageError

    try:
        return app.now - parse_duration(value)
    except UsageError:
        return parse_datetime(value)


@evidence_group.command("reject")
@click.argument("item_id", metavar="ID", type=int)
@click.option("--reason", metavar="TEXT", help="Why it is wrong (kept to improve the rules).")
@format_option("text", "json", default="text")
@pass_app
def evidence_reject(app: App, item_id, reason, fmt):
    """Mark evidence item ID wrong: it stops counting at once and stays rejected after re-analysis.

    \b
    Examples:
      inboxrel evidence reject 1234
      inboxrel evidence reject 1234 --reason "someone else's call"
    """
    from inboxrel.signals.review import reject_evidence

    with app.lock(), app.engine(create=False).begin() as conn:
        out = reject_evidence(conn, item_id, reason=reason, now=app.now)
    if fmt == "json":
        import json

        emit(json.dumps(out))
    else:
        emit(f"rejected evidence {item_id} ({out['kind']} with {out['email']}); it no longer counts")


COMMANDS = [evidence_group, cues_cmd, log_cmd, import_calls_cmd, import_calendar_cmd, reanalyze_cmd]
