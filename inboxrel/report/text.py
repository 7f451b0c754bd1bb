"""Text renderers for the call list, ``explain``, the policy table and the period report.

Table output uses rich (no colour when not on a terminal); markdown escapes what came from mail so a
subject cannot turn into markup; CSV and JSON keep every field.
"""

from __future__ import annotations

import io

from inboxrel.report.render import for_display, render_csv, render_json

SUGGEST_CSV = ["rank", "name", "email", "phone", "score", "status", "reasons", "rules", "sent_90d", "received_90d",
               "last_email_at", "last_conversation_at", "last_conversation_medium", "planned_at",
               "days_since_conversation", "cadence_days", "cadence_source", "starters", "good_time", "person_id"]


def _console(width: int = 140):
    from rich.console import Console

    return Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None, highlight=False,
                   emoji=False)


def _table(title: str | None = None, show_lines: bool = True):
    from rich.table import Table

    return Table(title=title, title_justify="left", header_style="bold", show_lines=show_lines)


def _text(value) -> str:
    """Plain text for rich: no markup interpretation of what came from mail."""
    from rich.markup import escape

    return escape("" if value is None else str(value))


def md(value) -> str:
    """A markdown table cell: HTML and table syntax from mail is escaped."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    text = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for ch in "\\|*_`[]":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r", " ").replace("\n", " ")


def _day(value: str | None) -> str:
    return value[:10] if value else "-"


def last_talk(r: dict) -> str:
    """'last talked 2024-02-22 (video, 100 days ago)' or 'never talked (on record)' for a call-list row."""
    if not r.get("last_conversation_at"):
        return "never talked (on record)"
    medium = (r.get("last_conversation_medium") or "unspecified").replace("_", " ")
    days = r.get("days_since_conversation")
    ref = f", evidence #{r['last_conversation_id']}" if r.get("last_conversation_id") else ""
    if r.get("last_conversation_probable"):
        return f"probably talked {_day(r['last_conversation_at'])} ({r['last_conversation_probable']}, {days} days ago{ref})"
    return f"last talked {_day(r['last_conversation_at'])} ({medium}, {days} days ago{ref})"


# -- suggest --------------------------------------------------------------------------------------------

def render_suggestions(rows: list[dict], fmt: str, *, now=None) -> str:
    """The call list in ``fmt``: table, json, csv, markdown or ics (``now`` stamps the iCalendar)."""
    if fmt == "json":
        return render_json(rows)
    if fmt == "csv":
        flat = [{**r, "reasons": " | ".join(r["reasons"]), "rules": " ".join(r["rules"]),
                 "starters": " | ".join(r["starters"])} for r in rows]
        return render_csv(flat, SUGGEST_CSV)
    if fmt == "ics":
        from inboxrel.report.ics import render_ics

        return render_ics(rows, now)
    rows = for_display(rows)  # what came from mail, without control characters and cut to a readable length
    if fmt == "markdown":
        return suggestions_markdown(rows)
    return suggestions_table(rows)


def suggestions_table(rows: list[dict], title: str | None = None, width: int | None = None) -> str:
    """The call list as numbered entries (plain text, wrapped to the terminal): who, score and status,
    the reasons, the last conversation, what to talk about and when to call."""
    import shutil
    import textwrap

    if not rows:
        return "Nobody to call: no one is heavy on email and overdue for a conversation.\n"
    width = max(60, min(width or shutil.get_terminal_size((100, 24)).columns, 120))
    out = [title, ""] if title else []

    def para(text: str, first: str, rest: str) -> None:
        out.extend(textwrap.wrap(text, width, initial_indent=first, subsequent_indent=rest,
                                 break_on_hyphens=False) or [first.rstrip()])

    for r in rows:
        who = r["name"] or r["email"]
        contact = " \u00b7 ".join(x for x in (r["email"] if r["name"] else None, r["phone"]) if x)
        head = f"{r['rank']:>2}. {who}" + (f"  {contact}" if contact else "")
        tail = f"score {r['score']:g}  {r['status'].upper()}"
        if len(head) + len(tail) + 2 <= width:
            out.append(head + " " * (width - len(head) - len(tail)) + tail)
        else:
            para(head, "", "    ")
            out.append("    " + tail)
        for reason in r["reasons"]:
            para(reason, "    - ", "      ")
        cadence = "" if any("cadence" in x for x in r["reasons"]) else \
            f"; cadence {r['cadence_days']} days ({r['cadence_source']})"
        para(last_talk(r) + cadence, "    ", "    ")
        if r.get("planned_at"):
            out.append(f"    planned: {_day(r['planned_at'])}")
        if r["starters"]:
            para("talk about: " + ", ".join(f"\u201c{x}\u201d" for x in r["starters"]), "    ", "      ")
        out.append(f"    call: {r['good_time']}")
        out.append("")
    return "\n".join(out)


def suggestions_markdown(rows: list[dict]) -> str:
    """The call list as a markdown table, what came from mail escaped."""
    lines = ["| # | Name | Email | Phone | Score | Status | Why | Last conversation | Talk about | Good time |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join([
            str(r["rank"]), md(r["name"]), md(r["email"]), md(r["phone"]), f"{r['score']:g}", r["status"],
            md(r["reasons"]), md(last_talk(r)), md(r["starters"]), md(r["good_time"])]) + " |")
    return "\n".join(lines) + "\n"


# -- explain --------------------------------------------------------------------------------------------

def render_explain(data: dict) -> str:
    """``explain`` as text: the person, the decision and score, cadence, metrics, evidence, every verdict."""
    data = for_display(data)  # values from mail: no control characters, readable lengths
    out = io.StringIO()

    def w(line: str = "") -> None:
        out.write(line + "\n")

    who = f"{data['name']} <{data['email']}>" if data["name"] else str(data["email"])
    w(f"{who}  (person #{data['person_id']}, as of {data['now']})")
    others = [e for e in data["emails"] if e != data["email"]]
    if others:
        w(f"  other addresses: {', '.join(others)}")
    if data["suggested"]:
        w(f"  SUGGESTED: score {data['score']:g}, {data['status']}")
    elif data["suppressed_by"]:
        why = next(v["reason"] for v in data["verdicts"] if v["rule"] == data["suppressed_by"])
        w(f"  not suggested: {data['suppressed_by']} ({why})")
    else:
        w("  not suggested: no suggest rule fired")
    w(f"  score{'' if data['suggested'] else ' (were they suggested)'}: {data['score_explained']}")
    c = data["cadence"]
    w(f"  cadence: due after {c['ideal_days']} days, overdue after {c['max_days']} ({c['source']})"
      + (f"; circles: {', '.join(data['circles'])}" if data["circles"] else ""))
    v = data["volume"]
    w(f"  mail: sent {v['sent']} / received {v['received']} all time; 365 days {v['sent_365d']}/{v['received_365d']}; "
      f"90 days {v['sent_90d']}/{v['received_90d']}; 30 days {v['sent_30d']}/{v['received_30d']}")
    w(f"  first email {_day(v['first_at'])}, last {_day(v['last_at'])} ({v['relationship_days']} days of history)")
    cv = data["conversation"]
    w(f"  conversations on record: {cv['count']}; last {_day(cv['last_at'])}"
      + (f" ({cv['medium']}, {cv['days_since']} days ago)" if cv["last_at"] else "")
      + f"; planned: {_day(cv['planned_at'])}; open requests from them: {cv['open_requests']}")
    fb = data["feedback"]
    flags = [f"snoozed until {_day(fb['snoozed_until'])}" if fb["snoozed_until"] else "",
             f"ignored ({fb['ignored_reason'] or 'by you'})" if fb["ignored"] else "",
             f"ignored domain {fb['ignored_domain']}" if fb["ignored_domain"] else ""]
    if any(flags):
        w("  feedback: " + "; ".join(f for f in flags if f))
    m = data.get("metrics")
    if m:
        tz = m.get("tz_offset")
        def hours(v):
            return "-" if v is None else f"{v:g} h"

        w(f"  threads {m['threads']} (two-way {m['two_way_threads']}); awaiting my reply {m['awaiting_me']}, theirs "
          f"{m['awaiting_them']}; one-to-one share {m['one_to_one_share']}; median reply: me "
          f"{hours(m['median_reply_me_hours'])}, them {hours(m['median_reply_them_hours'])}"
          + (f"; their UTC offset {tz / 60:+g} h" if tz is not None else ""))
    e = data["entry"]
    if data["phones"]:
        w("  phone: " + ", ".join(f"{p['e164']}" + (f" ({p['label']})" if p["label"] else "") for p in data["phones"]))
    if e["starters"]:
        w("  talk about: " + "; ".join(f"\u201c{s}\u201d" for s in e["starters"]))
    w(f"  good time to call: {e['good_time']}")
    w()
    w(f"Evidence ({len(data['evidence'])}, newest first):")
    if not data["evidence"]:
        w("  none: no call, meeting or request found in mail, calendars or your log")
    if data["evidence"]:
        w("  (a wrong item? `inboxrel evidence reject ID`)")
    for ev in data["evidence"]:
        when = ev["at"] or (f"(undated; seen {ev['seen_at']})" if ev["seen_at"] else "(undated)")
        line = f"  #{ev['id']:<6} {when}  {ev['kind']:<9} {ev['medium']:<11} from {ev['source']}"
        if ev["source_ref"]:
            line += f" {ev['source_ref']}"
        if ev["confidence"] is not None and ev["confidence"] < 1:
            line += f" (confidence {ev['confidence']:g})"
        if not ev["counted"]:
            line += "  [after now: not counted]"
        elif ev.get("weak"):
            line += "  [low confidence: not counted alone]"
        w(line)
        if ev["sentence"]:
            w(f"      \u201c{ev['sentence'].strip()}\u201d" + (f"  in \u201c{ev['subject']}\u201d" if ev["subject"] else ""))
        if ev["note"]:
            w(f"      note: {ev['note']}")
    w()
    w("Rules (policy order):")
    for v in data["verdicts"]:
        mark = "FIRED" if v["fired"] else "  -  "
        w(f"  {mark} {v['rule']} [{v['action']}, priority {v['priority']}]: {v['reason']}")
        nums = ", ".join(f"{k}={val}" for k, val in v["numbers"].items())
        if nums:
            w(f"        compared: {nums}")
    return out.getvalue()


# -- rules ----------------------------------------------------------------------------------------------

def render_rules(rows: list[dict], fmt: str) -> str:
    """The policy table (:meth:`Policy.table`) as table text, markdown or JSON."""
    if fmt == "json":
        return render_json(rows)
    if fmt == "markdown":
        lines = ["| # | Rule | Action | Priority | What it does |", "|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r['order']} | `{r['name']}` | {r['action']} | {r['priority']} | {md(r['description'])} |")
        return "\n".join(lines) + "\n"
    table = _table("Rules in force (policy order)", show_lines=False)
    for h in ("#", "Rule", "Action", "Prio", "What it does"):
        table.add_column(h, overflow="fold")
    for r in rows:
        table.add_row(str(r["order"]), r["name"] + ("" if r["builtin"] else " (yours)"), r["action"],
                      str(r["priority"]), _text(r["description"]))
    console = _console()
    console.print(table)
    return console.file.getvalue()


# -- report ---------------------------------------------------------------------------------------------

def render_report(rep: dict, fmt: str) -> str:
    """The period report as table text, markdown or JSON (HTML is ``inboxrel.report.html``)."""
    if fmt == "json":
        return render_json(rep)
    rep = for_display(rep)
    if fmt == "markdown":
        return _report_markdown(rep)
    return _report_table(rep)


def _sections(rep: dict):
    """(title, rows, columns, headers) for the tabular sections, shared by text and markdown."""
    yield ("Most written", rep["most_written"], ["name", "email", "sent", "received", "total"],
           ["Name", "Email", "Sent", "Received", "Total"])
    yield ("New people", rep["new_people"], ["name", "email", "first_at", "sent", "received"],
           ["Name", "Email", "First", "Sent", "Received"])
    yield ("Cooling relationships", rep["cooling"], ["name", "email", "emails_90d", "baseline_90d", "reason"],
           ["Name", "Email", "90 days", "Usual", "Why"])
    yield ("Threads awaiting your reply", rep["awaiting"], ["last_at", "subject", "last_from", "days_waiting", "messages"],
           ["Last", "Subject", "From", "Days", "Msgs"])
    yield ("Conversation evidence found", rep["evidence"]["rows"],
           ["seen_at", "name", "kind", "medium", "at", "source", "sentence"],
           ["Seen", "Person", "Kind", "Medium", "When", "Source", "Sentence"])
    yield ("Sync health", rep["sync"], ["account", "folder", "state", "last_success_at", "last_error"],
           ["Account", "Folder", "State", "Last success", "Last error"])


def _cellv(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        return value[:16].replace("T", " ")
    return str(value)


def _report_table(rep: dict) -> str:
    console = _console()
    p, m = rep["period"], rep["mail"]
    console.print(f"inboxrel report: {_day(p['since'])} to {_day(p['until'])} ({p['days']} days)")
    console.print(f"Mail: {m['received']} received ({m['received_personal']} from people, {m['automated']} automated), "
                  f"{m['sent']} sent; {m['people']} people, {m['new_people']} new; "
                  f"{rep['evidence']['total']} pieces of conversation evidence")
    console.print()
    console.print(_text(suggestions_table(rep["call_list"], title="Call list", width=140)), end="")
    for title, rows, cols, heads in _sections(rep):
        if not rows:
            console.print(f"{title}: none\n")
            continue
        table = _table(title, show_lines=False)
        for h in heads:
            table.add_column(h, overflow="fold")
        for r in rows:
            table.add_row(*[_text(_cellv(r.get(c))) for c in cols])
        console.print(table)
        console.print()
    return console.file.getvalue()


def _report_markdown(rep: dict) -> str:
    p, m = rep["period"], rep["mail"]
    out = [f"# inboxrel report: {_day(p['since'])} to {_day(p['until'])}", "",
           f"- Mail received: {m['received']} ({m['received_personal']} from people, {m['automated']} automated)",
           f"- Mail sent: {m['sent']}", f"- People written with: {m['people']} ({m['new_people']} new)",
           f"- Conversation evidence found: {rep['evidence']['total']}", "", "## Call list", ""]
    out.append(suggestions_markdown(rep["call_list"]) if rep["call_list"] else "Nobody to call.\n")
    for title, rows, cols, heads in _sections(rep):
        out += [f"## {title}", ""]
        if not rows:
            out += ["None.", ""]
            continue
        out.append("| " + " | ".join(heads) + " |")
        out.append("|" + "---|" * len(heads))
        for r in rows:
            out.append("| " + " | ".join(md(_cellv(r.get(c))) for c in cols) + " |")
        out.append("")
    return "\n".join(out)
