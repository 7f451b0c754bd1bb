"""The period report as one self-contained HTML file: inline CSS, inline SVG charts drawn here, one small
inline script (allowed by a hash in the page's Content-Security-Policy), no network access at all.

Everything that came from mail (names, addresses, subjects, evidence sentences) goes through
``html.escape``; the report data embedded for scripts is JSON with ``<``, ``>`` and ``&`` written as
``\\u003c`` etc., so a subject such as ``</script><script>...`` stays text.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from datetime import datetime
from html import escape

from inboxrel.report.render import json_default

CSS = """
:root{--ink:#1f2937;--mute:#6b7280;--line:#e5e7eb;--sent:#2563eb;--recv:#93c5fd;--talk:#16a34a;--plan:#d97706;
--bad:#dc2626;--bg:#f9fafb}
*{box-sizing:border-box}body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);
background:var(--bg);margin:0;padding:24px;max-width:1100px;margin:auto}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px;border-bottom:1px solid var(--line);
padding-bottom:4px}h3{font-size:16px;margin:0}.mute{color:var(--mute)}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{background:#fff;border:1px solid var(--line);
border-radius:8px;padding:10px 14px;min-width:130px}.card b{display:block;font-size:22px}
.person{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:12px 0;
display:grid;grid-template-columns:minmax(0,1fr) 560px;gap:16px}.person ul{margin:6px 0;padding-left:18px}
.score{font-weight:600;background:#eef2ff;border-radius:10px;padding:1px 8px;margin-left:6px}
.status{font-size:12px;text-transform:uppercase;letter-spacing:.04em;border-radius:10px;padding:1px 7px;margin-left:4px}
.status.overdue{background:#fee2e2;color:#991b1b}.status.due{background:#fef3c7;color:#92400e}
.status.ok{background:#dcfce7;color:#166534}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border-bottom:1px solid var(--line);padding:5px 8px;
text-align:left;vertical-align:top}th{font-size:13px;color:var(--mute);font-weight:600}td.n{text-align:right}
.state-failing{color:var(--bad);font-weight:600}.state-stale{color:var(--plan);font-weight:600}
svg text{font:11px system-ui,sans-serif;fill:var(--mute)}.legend span{margin-right:12px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;vertical-align:-1px}
#filter{padding:6px 10px;border:1px solid var(--line);border-radius:6px;width:260px}
@media (max-width:900px){.person{grid-template-columns:1fr}}
"""

# Filters the call list as you type; reads the embedded report data (which is JSON, never HTML).
SCRIPT = """
(function(){
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var names = {};
  data.call_list.forEach(function(r){ names[r.person_id] = ((r.name||'') + ' ' + (r.email||'')).toLowerCase(); });
  var box = document.getElementById('filter'), count = document.getElementById('shown');
  function apply(){
    var q = box.value.trim().toLowerCase(), n = 0;
    document.querySelectorAll('.person').forEach(function(el){
      var hit = !q || (names[el.getAttribute('data-person')] || '').indexOf(q) >= 0;
      el.style.display = hit ? '' : 'none'; if (hit) n++;
    });
    count.textContent = n + ' of ' + data.call_list.length + ' shown';
  }
  box.addEventListener('input', apply); apply();
  document.documentElement.setAttribute('data-ready', 'yes');
})();
"""


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def script_json(data) -> str:
    """JSON safe inside a <script> element: no '</script>', '<!--' or line separators can appear."""
    text = json.dumps(data, ensure_ascii=False, default=json_default, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def e(value) -> str:
    """HTML-escaped text (quotes too, so it is safe in attributes) of any value; None is empty."""
    return escape("" if value is None else str(value), quote=True)


def _day(value: str | None) -> str:
    return value[:10] if value else "-"


# -- charts ---------------------------------------------------------------------------------------------

def volume_svg(chart: dict, width: int = 560, height: int = 150) -> str:
    """Monthly email volume (sent and received, stacked) with conversation markers on top."""
    months = chart["months"]
    n = len(months)
    left, right, top, bottom = 30, 8, 22, 20
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [s + r for s, r in zip(chart["sent"], chart["received"])]
    peak = max(totals + [1])
    step = plot_w / n
    bar = max(2.0, step * 0.72)
    label = e(chart.get("name") or chart.get("email"))
    parts = [f'<svg class="volume" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>Emails per month with {label}</title>']
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{round(peak * frac)}</text>')
    for i, (month, s, r) in enumerate(zip(months, chart["sent"], chart["received"])):
        x = left + i * step + (step - bar) / 2
        hs, hr = plot_h * s / peak, plot_h * r / peak
        y0 = top + plot_h
        tip = f"{month}: {s} sent, {r} received"
        if r:
            parts.append(f'<rect class="recv" x="{x:.1f}" y="{y0 - hr:.1f}" width="{bar:.1f}" height="{hr:.1f}" '
                         f'fill="#93c5fd"><title>{tip}</title></rect>')
        if s:
            parts.append(f'<rect class="sent" x="{x:.1f}" y="{y0 - hr - hs:.1f}" width="{bar:.1f}" '
                         f'height="{hs:.1f}" fill="#2563eb"><title>{tip}</title></rect>')
        if i % 3 == (n - 1) % 3:
            label = f"{MONTHS[int(month[5:7]) - 1]} {month[2:4]}"
            parts.append(f'<text x="{left + i * step + step / 2:.1f}" y="{height - 5}" '
                         f'text-anchor="middle">{label}</text>')
    first = datetime.fromisoformat(months[0] + "-01")
    for mark in chart["conversations"]:
        at = datetime.fromisoformat(mark["at"]).replace(tzinfo=None)
        pos = (at.year - first.year) * 12 + at.month - first.month + (at.day - 1) / 31
        if pos < 0 or pos > n:
            continue
        x = left + pos * step
        planned = mark["kind"] == "planned"
        color = "#d97706" if planned else "#16a34a"
        what = f"{'planned' if planned else 'talked'}: {mark['medium'].replace('_', ' ')} {mark['at'][:10]}"
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 6}" y2="{top + plot_h}" stroke="{color}" '
                     f'stroke-dasharray="{"3 3" if planned else "none"}" opacity=".7"/>'
                     f'<circle class="{"planned" if planned else "talk"}" cx="{x:.1f}" cy="{top - 9}" r="5" '
                     f'fill="{"#fff" if planned else color}" stroke="{color}" stroke-width="2">'
                     f'<title>{e(what)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def circle_svg(points: list[dict], *, heavy: int, cadence: int, width: int = 720, height: int = 380) -> str:
    """Every correspondent: emails in the last 90 days (up) against days since the last conversation
    (right; never-talked at the far right). The call list is drawn in colour."""
    left, right, top, bottom = 46, 70, 14, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    cap = 730
    peak = max([p["emails_90d"] for p in points] + [heavy, 1])

    def sx(days: float) -> float:
        return left + plot_w * math.sqrt(min(days, cap) / cap)

    def sy(n: float) -> float:
        return top + plot_h * (1 - math.sqrt(n / peak))

    parts = [f'<svg id="circle-chart" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>Email load against days since the last conversation'
             f'</title>']
    for d in (0, 30, 90, 180, 365, 730):
        x = sx(d)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eef0f3"/>'
                     f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{d}</text>')
    never_x = left + plot_w + 40
    parts.append(f'<text x="{never_x}" y="{top + plot_h + 14}" text-anchor="middle">never</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle">days since the last call '
                 f'or meeting</text>')
    for n in sorted({0, heavy, round(peak / 4), peak}):
        y = sy(n)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eef0f3"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{n}</text>')
    parts.append(f'<line x1="{left}" x2="{never_x + 20}" y1="{sy(heavy):.1f}" y2="{sy(heavy):.1f}" stroke="#9ca3af" '
                 f'stroke-dasharray="4 3"><title>heavy email: {heavy} in 90 days</title></line>'
                 f'<line x1="{sx(cadence):.1f}" x2="{sx(cadence):.1f}" y1="{top}" y2="{top + plot_h}" stroke="#9ca3af" '
                 f'stroke-dasharray="4 3"><title>default cadence: {cadence} days</title></line>')
    parts.append(f'<text transform="translate(12 {top + plot_h / 2}) rotate(-90)" text-anchor="middle">emails in '
                 f'90 days</text>')
    for i, p in enumerate(sorted(points, key=lambda p: p["suggested"])):
        # never-talked people spread a little so they do not sit on one line
        x = never_x + ((i * 7) % 25) - 12 if p["never"] else sx(p["days"])
        y = sy(p["emails_90d"])
        who = e(p.get("name") or p.get("email"))
        since = "never talked" if p["never"] else f"{p['days']} days since the last conversation"
        cls = "pt suggested" if p["suggested"] else "pt"
        fill = "#dc2626" if p["suggested"] else "#9ca3af"
        parts.append(f'<circle class="{cls}" cx="{x:.1f}" cy="{y:.1f}" r="{5 if p["suggested"] else 3.5}" '
                     f'fill="{fill}" fill-opacity="{0.9 if p["suggested"] else 0.5}">'
                     f'<title>{who}: {p["emails_90d"]} emails in 90 days, {since}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


# -- page -----------------------------------------------------------------------------------------------

def _table(rows: list[dict], cols: list[tuple[str, str]], empty: str, *, cls: str = "") -> str:
    if not rows:
        return f'<p class="mute">{e(empty)}</p>'
    head = "".join(f"<th>{e(h)}</th>" for _, h in cols)
    body = []
    for r in rows:
        cells = []
        for key, _ in cols:
            v = r.get(key)
            if isinstance(v, str) and len(v) >= 19 and v[4:5] == "-" and v[10:11] == "T":
                v = v[:16].replace("T", " ")
            num = isinstance(v, (int, float)) and not isinstance(v, bool)
            if isinstance(v, float):
                v = f"{v:g}"
            extra = f' class="state-{e(v)}"' if key == "state" else (' class="n"' if num else "")
            cells.append(f"<td{extra}>{e(v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def _person(r: dict, chart: dict | None) -> str:
    last = (f"last talked {_day(r['last_conversation_at'])} "
            f"({e((r['last_conversation_medium'] or 'unspecified').replace('_', ' '))}, "
            f"{r['days_since_conversation']} days ago)" if r["last_conversation_at"] else "never talked (on record)")
    contact = " \u00b7 ".join(e(x) for x in (r["email"], r["phone"]) if x)
    starters = ", ".join(f"\u201c{e(s)}\u201d" for s in r["starters"]) or "-"
    reasons = "".join(f"<li>{e(x)}</li>" for x in r["reasons"])
    cadence = "" if any("cadence" in x for x in r["reasons"]) else \
        f'; cadence {e(r["cadence_days"])} days ({e(r["cadence_source"])})'
    planned = f"<p>Planned: {e(_day(r['planned_at']))}</p>" if r.get("planned_at") else ""
    svg = volume_svg(chart) if chart else ""
    return (f'<article class="person" data-person="{e(r["person_id"])}"><div>'
            f'<h3>{e(r["rank"])}. {e(r["name"] or r["email"])}<span class="score">{e(r["score"])}</span>'
            f'<span class="status {e(r["status"])}">{e(r["status"])}</span></h3>'
            f'<p class="mute">{contact}</p><ul class="reasons">{reasons}</ul>'
            f'<p>{last}{cadence}</p>{planned}'
            f'<p>Talk about: {starters}</p><p>Good time to call: {e(r["good_time"])}</p></div>'
            f'<div>{svg}<div class="legend mute"><span><i class="sw" style="background:#2563eb"></i>sent</span>'
            f'<span><i class="sw" style="background:#93c5fd"></i>received</span><span><i class="sw" '
            f'style="background:#16a34a"></i>conversation</span><span><i class="sw" style="background:#d97706">'
            f'</i>planned</span></div></div></article>')


def render_html(rep: dict, *, heavy: int = 8, cadence: int = 60) -> str:
    """The whole report page; ``heavy`` and ``cadence`` draw the guide lines of the circle chart."""
    from inboxrel.report.render import for_display

    rep = for_display(rep)  # what came from mail: no control characters, and a 10 MB subject cut to a line
    p, m = rep["period"], rep["mail"]
    charts = rep.get("charts") or {"people": [], "circle": [], "circle_total": 0}
    by_person = {c["person_id"]: c for c in charts["people"]}
    failing = sum(1 for s in rep["sync"] if s["state"] != "ok")
    cards = [("received", m["received"], f"{m['received_personal']} from people"), ("sent", m["sent"], ""),
             ("people written with", m["people"], f"{m['new_people']} new"),
             ("to call", len(rep["call_list"]), ""), ("conversations found", rep["evidence"]["total"], ""),
             ("folders needing attention", failing, "sync health")]
    card_html = "".join(f'<div class="card"><b>{e(v)}</b>{e(label)}<br><span class="mute">{e(sub)}</span></div>'
                        for label, v, sub in cards)
    people_html = "".join(_person(r, by_person.get(r["person_id"])) for r in rep["call_list"]) or \
        '<p class="mute">Nobody to call: no one is heavy on email and overdue for a conversation.</p>'
    circle = circle_svg(charts["circle"], heavy=heavy, cadence=cadence) if charts["circle"] else \
        '<p class="mute">No correspondence in the last 90 days.</p>'
    shown = (f'<p class="mute">The {len(charts["circle"])} busiest of {charts["circle_total"]} correspondents; '
             f'red: on the call list.</p>') if charts["circle"] else ""
    sections = [
        ("Most written", _table(rep["most_written"], [("name", "Name"), ("email", "Email"), ("sent", "Sent"),
                                                     ("received", "Received"), ("total", "Total")], "Nobody.")),
        ("New people", _table(rep["new_people"], [("name", "Name"), ("email", "Email"), ("first_at", "First"),
                                                 ("sent", "Sent"), ("received", "Received")], "Nobody new.")),
        ("Cooling relationships", _table(rep["cooling"], [("name", "Name"), ("email", "Email"),
                                                          ("emails_90d", "90 days"), ("baseline_90d", "Usual"),
                                                          ("reason", "Why")], "None.")),
        ("Threads awaiting your reply", _table(rep["awaiting"], [("last_at", "Last"), ("subject", "Subject"),
                                                                 ("last_from_name", "From"), ("last_from", "Address"),
                                                                 ("days_waiting", "Days")], "None.",
                                               cls="awaiting")),
        ("Conversation evidence found", _table(rep["evidence"]["rows"], [
            ("seen_at", "Seen"), ("name", "Person"), ("kind", "Kind"), ("medium", "Medium"), ("at", "When"),
            ("source", "Source"), ("sentence", "Sentence")], "None in this period.")),
        ("Sync health", _table(rep["sync"], [("account", "Account"), ("folder", "Folder"), ("state", "State"),
                                             ("last_success_at", "Last success"), ("last_error", "Last error")],
                               "No folders yet.")),
    ]
    body = "".join(f'<section><h2>{e(t)}</h2>{html}</section>' for t, html in sections)
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    csp = (f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{digest}'; "
           f"base-uri 'none'; form-action 'none'")
    period = f"{_day(p['since'])} to {_day(p['until'])}"
    title = f"inboxrel report {period}"
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{e(csp)}">'
            f'<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width">'
            f'<title>{e(title)}</title><style>{CSS}</style></head><body>'
            f'<header><h1>Whom to call</h1><p class="mute">{e(period)} ({e(p["days"])} days)</p></header>'
            f'<div class="cards">{card_html}</div>'
            f'<section id="call-list"><h2>Call list</h2><p><input id="filter" type="search" '
            f'placeholder="Filter by name or address" aria-label="Filter the call list"> '
            f'<span id="shown" class="mute"></span></p>{people_html}</section>'
            f'<section id="circle"><h2>Email load against days since the last conversation</h2>{shown}{circle}'
            f'</section>{body}'
            f'<script type="application/json" id="report-data">{script_json(rep)}</script>'
            f'<script>{SCRIPT}</script></body></html>\n')
