"""The ``inboxrel`` command line: parse options, call one library function, format the result."""

from __future__ import annotations

import click

from inboxrel import __version__
from inboxrel.clikit import App, BarProgress, InboxrelGroup, emit, format_option, pass_app
from inboxrel.commands import evidence, ingest, sources, suggest

PEOPLE_COLUMNS = ["name", "email", "sent", "received", "sent_90d", "received_90d", "last_at", "threads",
                  "two_way_threads", "automated"]
PEOPLE_HEADERS = ["Name", "Email", "Sent", "Recv", "Sent 90d", "Recv 90d", "Last", "Threads", "2-way", "Auto"]


@click.group(cls=InboxrelGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--db", metavar="URL", envvar="INBOXREL_DB",
              help="Database URL (default: SQLite in your data dir). Env: INBOXREL_DB.")
@click.option("--config", "config_path", metavar="PATH", envvar="INBOXREL_CONFIG",
              help="Config file (default: config.toml in your config dir). Env: INBOXREL_CONFIG.")
@click.option("--now", metavar="DATETIME", help="Pretend it is this time (ISO 8601), for reproducible reports.")
@click.version_option(__version__, prog_name="inboxrel")
@click.pass_context
def cli(ctx, db, config_path, now):
    """Find the people you email a lot but have not talked to in a while.

    \b
    Start here:
      inboxrel demo                         build a demo mailbox and show its people
      inboxrel import ~/Maildir --me me@example.com
      inboxrel people --limit 20
      inboxrel suggest                      whom to call this week, and why
    """
    ctx.obj = App(db, config_path, now)


# -- import ---------------------------------------------------------------------------------------------

@cli.command("import")
@click.argument("path", type=click.Path(path_type=str))
@click.option("--account", default="local", show_default=True, help="Account the mail belongs to.")
@click.option("--me", multiple=True, metavar="ADDRESS", help="One of my addresses (repeatable).")
@click.option("--sent-folder", multiple=True, metavar="NAME",
              help="Treat this folder as sent mail (repeatable); overrides detection by name.")
@click.option("--full", is_flag=True, help="Re-read every folder and file, even unchanged ones.")
@click.option("--no-signals", is_flag=True, help="Skip conversation-evidence extraction (headers only).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on success.")
@format_option("text", "json", default="text")
@pass_app
def import_cmd(app: App, path, account, me, sent_folder, full, no_signals, quiet, fmt):
    """Import mail from a Maildir, an mbox file, a folder of .eml files or the Enron layout.

    Folders named like Sent, Sent Items, sent_items or _sent_mail are your sent mail; the From addresses
    that dominate them become your own addresses (see `inboxrel account show`). Re-running skips unchanged
    folders and known files, and never counts a message twice.

    \b
    Examples:
      inboxrel import ~/Maildir --me me@example.com
      inboxrel import ~/mail/archive.mbox --account personal
      inboxrel import enron/allen-p/maildir --account allen-p --format json
    """
    if not full:
        from inboxrel.pipelines.quickcheck import unchanged_folders

        same = unchanged_folders(app.settings.db_url, path, account)
        if same is not None:
            if fmt == "json":
                import json

                emit(json.dumps({"account": account, "imported": 0, "duplicates": 0, "quarantined": 0,
                                 "folders_skipped": len(same), "unchanged": True}))
            elif not quiet:
                emit(f"nothing new: {len(same)} folders unchanged since the last import")
            return
    from inboxrel.pipelines.importer import import_path
    from inboxrel.pipelines.local import discover_folders

    discover_folders(path)  # a path that holds no mail is refused before a store is created for it
    engine = app.engine(create=True)
    after = None if no_signals else evidence.signal_stage(app)
    with app.lock(create=True), BarProgress(enabled=not quiet) as bar:
        summary = import_path(engine, path, now=app.now, account=account, me=me, sent_folders=sent_folder,
                              store_bodies=app.settings.store_bodies, body_max=app.settings.body_max_bytes, full=full,
                              progress=bar, after_batch=after,
                              signals=not no_signals, region=_signal_region(app, account))
        if after is not None:
            after.finish(engine)
    if fmt == "json":
        from inboxrel.report.render import render_json

        emit(render_json(summary.as_dict()))
    elif not quiet:
        emit(f"imported {summary.new} messages, {summary.duplicates} duplicates skipped, "
             f"{summary.quarantined} quarantined, {summary.skipped} unchanged folders skipped "
             f"({summary.seconds:.1f}s)")
        if summary.discovered:
            emit(f"your addresses (discovered; `inboxrel account show` says why): {', '.join(summary.discovered)}")
        if after is not None and after.failed:
            emit(f"{after.failed} messages gave no evidence ({evidence.failed_reason(after.failures)}); "
                 "the others keep theirs")


def _signal_region(app: App, account: str) -> str:
    """The default region phone numbers of ``account`` are read with (the account's setting, else the global one)."""
    acct = app.settings.accounts.get(account)
    return (acct.default_region if acct is not None else None) or app.settings.default_region


# -- people ---------------------------------------------------------------------------------------------

@cli.group(invoke_without_command=True)
@click.option("--limit", type=int, default=None, help="Show at most N people.")
@click.option("--no-automated", is_flag=True, help="Leave out newsletters, notifications and role addresses.")
@format_option("table", "json", "csv")
@pass_app
@click.pass_context
def people(ctx, app: App, limit, no_automated, fmt):
    """The people you correspond with, most mail first.

    \b
    Examples:
      inboxrel people --limit 20
      inboxrel people --format json | jq '.[0]'
      inboxrel people merge alice@work.com alice@home.org
    """
    if ctx.invoked_subcommand:
        return
    from inboxrel.report.queries import PEOPLE_FIELDS, people_rows
    from inboxrel.report.render import render

    with app.engine().connect() as conn:
        rows = people_rows(conn, app.now, limit=limit, include_automated=not no_automated,
                           detail=fmt == "json")
    if fmt == "json":
        emit(render(rows, PEOPLE_FIELDS, "json"))
    elif fmt == "csv":
        emit(render(rows, PEOPLE_FIELDS, "csv"))
    else:
        emit(render(rows, PEOPLE_COLUMNS, "table", PEOPLE_HEADERS))


@people.command("merge")
@click.argument("keep")
@click.argument("other")
@pass_app
def people_merge(app: App, keep, other):
    """Merge person OTHER into person KEEP (addresses, names or unique prefixes).

    \b
    Example:
      inboxrel people merge alice@work.com alice@home.org
      inboxrel people undo 12        # take it back
    """
    from inboxrel.identity import merge_people

    with app.lock():
        out = merge_people(app.engine(), keep, other, app.now)
    emit(f"merged {other} into {keep} (#{out['event']}; undo with `inboxrel people undo {out['event']}`)")


@people.command("split")
@click.argument("address")
@pass_app
def people_split(app: App, address):
    """Give ADDRESS a person of its own, apart from the person it was merged into.

    \b
    Example:
      inboxrel people split j.smith@othercorp.com
    """
    from inboxrel.identity import split_address

    with app.lock():
        out = split_address(app.engine(), address, app.now)
    emit(f"{address} is now a person of its own (#{out['event']}; undo with `inboxrel people undo {out['event']}`)")


@people.command("undo")
@click.argument("event", type=int)
@pass_app
def people_undo(app: App, event):
    """Undo merge or split number EVENT (see `inboxrel people history`)."""
    from inboxrel.identity import undo_event

    with app.lock():
        out = undo_event(app.engine(), event, app.now)
    emit(f"undid {out['kind']} #{event}")


@people.command("history")
@format_option("table", "json")
@pass_app
def people_history(app: App, fmt):
    """Every merge and split, automatic or yours, with its evidence."""
    from inboxrel.identity import history
    from inboxrel.report.render import render

    rows = history(app.engine())
    emit(render(rows, ["id", "kind", "by_user", "addresses", "reason", "undone"], fmt,
                ["#", "Kind", "By you", "Addresses", "Evidence", "Undone"]))


@cli.command()
@click.argument("person")
@click.option("--limit", type=int, default=30, show_default=True, help="Threads to show.")
@format_option("table", "json")
@pass_app
def person(app: App, person, limit, fmt):
    """One person: metrics, addresses, evidence of conversations and a timeline of threads.

    PERSON is an address, a name or a unique prefix of either.

    \b
    Examples:
      inboxrel person alice@example.com
      inboxrel person "Alice Smith" --format json
    """
    from inboxrel.report.queries import person_timeline
    from inboxrel.report.render import render, render_json

    with app.engine().connect() as conn:
        data = person_timeline(conn, person, app.now, limit=limit)
        from inboxrel.sources.contacts import contact_info

        data.update(contact_info(conn, data["id"]))  # numbers (contact first) and contact cards
    if fmt == "json":
        emit(render_json(data))
        return
    emit(f"{data['name'] or data['email']} <{data['email']}>" + (" [automated]" if data["automated"] else ""))
    emit(f"  addresses: {', '.join(data['emails'])}")
    if data["phones"]:
        emit("  phones: " + ", ".join(f"{n['e164']} ({n['label'] or n['from']})" for n in data["phones"]))
    for card in data["contacts"]:
        dates = [f"{k} {card[k]}" for k in ("birthday", "anniversary") if card[k]]
        emit(f"  contact card ({card['source']}): {card['name'] or '-'}" + (f"; {', '.join(dates)}" if dates else ""))
    emit(f"  sent {data['sent']} / received {data['received']} (90 days: {data['sent_90d']} / "
         f"{data['received_90d']}); threads {data['threads']}, two-way {data['two_way_threads']}")
    emit(f"  first {data['first_at'] or '-'}, last {data['last_at'] or '-'}; awaiting my reply "
         f"{data['awaiting_me']}, theirs {data['awaiting_them']}")
    for ev in data["evidence"][:10]:
        emit(f"  evidence: {ev['kind']} {ev['medium']} {ev['at'] or ''} ({ev['source']}) {ev['sentence'] or ''}")
    emit(render(data["threads_list"], ["last_at", "subject", "messages", "sent", "received", "awaiting"], "table",
                ["Last", "Subject", "Msgs", "Sent", "Recv", "Awaiting"]))


@cli.command()
@click.option("--awaiting-me", is_flag=True, help="Only threads whose last message waits for my reply.")
@click.option("--awaiting-them", is_flag=True, help="Only threads where I wrote last.")
@click.option("--limit", type=int, default=50, show_default=True)
@format_option("table", "json", "csv")
@pass_app
def threads(app: App, awaiting_me, awaiting_them, limit, fmt):
    """Conversations (threads), newest first.

    \b
    Examples:
      inboxrel threads --awaiting-me
      inboxrel threads --limit 10 --format json
    """
    from inboxrel.report.queries import thread_rows
    from inboxrel.report.render import render

    awaiting = "me" if awaiting_me else "them" if awaiting_them else None
    with app.engine().connect() as conn:
        rows = thread_rows(conn, app.now, awaiting=awaiting, limit=limit)
    cols = ["last_at", "subject", "messages", "last_from", "awaiting", "days_waiting"]
    emit(render(rows, list(rows[0]) if rows and fmt != "table" else cols, fmt,
                None if fmt != "table" else ["Last", "Subject", "Msgs", "Last from", "Awaiting", "Days"]))


@cli.command()
@format_option("table", "json")
@pass_app
def stats(app: App, fmt):
    """Counts over the whole store: distinct messages, sent, received, people, threads, quarantined.

    \b
    Example:
      inboxrel stats --format json
    """
    from inboxrel.report.queries import stats as store_stats
    from inboxrel.report.render import render_json

    with app.engine().connect() as conn:
        data = store_stats(conn, app.now)
    if fmt == "json":
        emit(render_json(data))
    else:
        width = max(len(k) for k in data)
        for k, v in data.items():
            emit(f"{k:<{width}}  {v if v is not None else '-'}")


@cli.command("quarantine")
@click.option("--limit", type=int, default=100, show_default=True)
@format_option("table", "json")
@pass_app
def quarantine_cmd(app: App, limit, fmt):
    """Messages that could not be imported, with the reason and where they are.

    \b
    Example:
      inboxrel quarantine --format json
    """
    from inboxrel.report.queries import quarantine_rows
    from inboxrel.report.render import render

    with app.engine().connect() as conn:
        rows = quarantine_rows(conn, limit)
    emit(render(rows, ["id", "folder", "path", "reason"], fmt, ["#", "Folder", "Path", "Reason"]))


# -- accounts -------------------------------------------------------------------------------------------

@cli.group()
def account():
    """Accounts: their own addresses, IMAP settings and folders."""


@account.command("show")
@click.argument("name", required=False)
@format_option("table", "json")
@pass_app
def account_show(app: App, name, fmt):
    """Show accounts: my addresses with their evidence, delegates, proposed addresses, folders.

    My addresses are the ones you gave (--me, the config, `account add-me`) and the ones discovered from
    the mailbox: the sent folders' senders with my name, and the addresses received mail is sent to that
    fit my name. A delegate (an assistant) sends from my sent folders under their own name: their mail
    there counts as mine, and they are never suggested. A proposed address carries my name or surname but
    is not assumed to be mine: confirm it with `account add-me`, or drop one with `account remove-me`.

    \b
    Examples:
      inboxrel account show allen-p
      inboxrel account show --format json | jq '.[0].delegates'
    """
    from sqlalchemy import select

    from inboxrel import identity
    from inboxrel.errors import NotFoundError
    from inboxrel.models import accounts
    from inboxrel.report.queries import account_rows
    from inboxrel.report.render import render_json

    with app.engine().connect() as conn:
        rows = account_rows(conn)
        ids = dict(conn.execute(select(accounts.c.name, accounts.c.id)).all())
        for r in rows:
            r.update(identity.account_identity(conn, ids[r["name"]]))
    if name:
        rows = [r for r in rows if r["name"] == name]
        if not rows:
            raise NotFoundError(f"no account {name!r} in the store: `inboxrel account show` lists them")
    configured = app.settings.accounts
    for r in rows:
        if r["name"] in configured:
            r["config"] = configured[r["name"]].to_toml()
    if fmt == "json":
        emit(render_json(rows))
        return
    for r in rows:
        emit(f"{r['name']} ({r['kind']}, {r['messages']} messages)")
        if r["owner_name"]:
            emit(f"  owner: {r['owner_name']} (the name on {r['owner_name_from']})")
        for label, key in (("me", "me"), ("delegate", "delegates"), ("proposed", "proposed"),
                           ("not me", "removed")):
            for m in r[key]:
                emit(f"  {label}: {m['email']}  [{m['source']}{': ' + m['evidence'] if m['evidence'] else ''}]")
        if r["proposed"]:
            emit(f"  (if a proposed address is yours: inboxrel account add-me {r['name']} ADDRESS)")
        for f in r["folders"]:
            emit(f"  folder {f['name']:<30} {f['kind']:<9} last success {f['last_success_at'] or '-'}"
                 + (f"  error: {f['last_error']}" if f["last_error"] else ""))


@account.command("add-me")
@click.argument("name")
@click.argument("addresses", nargs=-1, required=True)
@pass_app
def account_add_me(app: App, name, addresses):
    """Record ADDRESSES as mine in account NAME (mail from them is sent mail).

    Your word wins over discovery: an address you add stays yours, even one that was a delegate or removed.

    \b
    Examples:
      inboxrel account add-me local me@example.com me@work.example.com
      inboxrel account add-me allen-p pallen@hotmail.com     # a proposed address that is mine
    """
    from inboxrel import identity
    from inboxrel.pipelines.save import ensure_account

    engine = app.engine()
    with app.lock():
        before = evidence.identity_snapshot(engine)
        account_id = ensure_account(engine, name, "local", app.now)
        added = identity.add_my_addresses(engine, account_id, addresses, "given", "added by the user", now=app.now)
        identity.after_user_change(engine)
        evidence.follow_identity(app, engine, before)
    emit(f"added {', '.join(added) if added else 'nothing new'}")


@account.command("remove-me")
@click.argument("name")
@click.argument("addresses", nargs=-1, required=True)
@pass_app
def account_remove_me(app: App, name, addresses):
    """Record that ADDRESSES are not mine in account NAME, for good (later imports never add them back).

    Their mail becomes received mail again, and each address a person of its own.

    \b
    Examples:
      inboxrel account remove-me allen-p pallen@hotmail.com
      inboxrel account remove-me work shared-inbox@example.com
    """
    from sqlalchemy import select

    from inboxrel import identity
    from inboxrel.errors import NotFoundError
    from inboxrel.models import accounts

    engine = app.engine()
    with app.lock():
        with engine.connect() as conn:
            account_id = conn.execute(select(accounts.c.id).where(accounts.c.name == name)).scalar()
        if account_id is None:
            raise NotFoundError(f"no account {name!r} in the store: `inboxrel account show` lists them")
        before = evidence.identity_snapshot(engine)
        removed = [identity.remove_my_address(engine, account_id, a, now=app.now) for a in addresses]
        identity.after_user_change(engine)
        evidence.follow_identity(app, engine, before)
    emit(f"not mine from now on: {', '.join(removed)}")


# -- demo -----------------------------------------------------------------------------------------------

@cli.command()
@click.option("--path", type=click.Path(), default=None,
              help="Where to write the demo Maildir (default: demo-mail in your data dir).")
@click.option("--seed", type=int, default=7, show_default=True, help="Seed: the same seed gives the same mailbox.")
@click.option("--limit", type=int, default=25, show_default=True, help="People to show.")
@pass_app
def demo(app: App, path, seed, limit):
    """Generate a realistic synthetic mailbox, import it and show its people.

    The mailbox is deterministic: colleagues heavy on email, friends, newsletters, notifications, one
    person with two addresses, and threads awaiting your reply. Try `inboxrel suggest` afterwards.

    \b
    Examples:
      inboxrel demo
      inboxrel --db sqlite:///demo.db demo --seed 3
    """
    from pathlib import Path

    from inboxrel.demo import DEMO_ME, DEMO_NOW, generate_demo
    from inboxrel.pipelines.importer import import_path
    from inboxrel.report.queries import people_rows
    from inboxrel.report.render import render

    target = Path(path) if path else app.settings.data_dir / "demo-mail"
    now = app.now if app._now else DEMO_NOW
    app.now = now  # the evidence stage reads app.now: the lunch invitation is "planned" as of the demo's now
    engine = app.engine(create=True)  # a store that cannot be used is refused before the mailbox is written
    after = evidence.signal_stage(app)
    with app.lock(create=True), BarProgress() as bar:
        info = generate_demo(target, seed=seed)
        summary = import_path(engine, target, now=now, account="demo", me=[DEMO_ME], progress=bar,
                              store_bodies=app.settings.store_bodies, body_max=app.settings.body_max_bytes,
                              after_batch=after,
                              signals=True, region=_signal_region(app, "demo"))
        after.finish(engine)
    with engine.connect() as conn:
        rows = people_rows(conn, now, limit=limit)
    emit(render(rows, PEOPLE_COLUMNS, "table", PEOPLE_HEADERS, title=f"People in the demo mailbox ({target})"))
    emit(f"demo mailbox: {info['messages']} messages written to {target}; imported {summary.new}, "
         f"{summary.duplicates} duplicates skipped, {summary.quarantined} quarantined. "
         f"Next: inboxrel --now {now.date().isoformat()} suggest")


for _module in (ingest, evidence, suggest, sources):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
for _command in getattr(ingest, "ACCOUNT_COMMANDS", []):
    account.add_command(_command)


def main() -> None:
    cli(prog_name="inboxrel")
