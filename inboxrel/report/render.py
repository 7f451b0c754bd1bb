"""Renderers for lists of plain dict rows: table (rich), json, csv, markdown."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

from inboxrel.clock import as_utc

_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?([+-]\d\d:\d\d|Z)?$")


def _cell(value, full_time: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and not full_time and _ISO.match(value):
        return value[:10]  # tables show the day; JSON and CSV keep the full time
    if isinstance(value, bool):
        return "yes" if value else ""
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="seconds") if full_time else as_utc(value).strftime("%Y-%m-%d")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v, full_time) for v in value)
    return str(value)


def json_default(value):
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="seconds")
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def render_json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=json_default)


def render_csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c), full_time=True) for c in columns])
    return buf.getvalue()


def render_markdown(rows: list[dict], columns: list[str], headers: list[str] | None = None) -> str:
    headers = headers or columns

    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(esc(_cell(row.get(c))) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def render_table(rows: list[dict], columns: list[str], headers: list[str] | None = None, title: str | None = None,
                 width: int | None = None) -> str:
    """A rich table rendered to text (no colour codes when not on a terminal)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, header_style="bold", show_lines=False)
    for h in headers or columns:
        table.add_column(h, overflow="fold")
    for row in rows:
        # values come from mail: "[/]" in a subject must stay text, not rich markup
        table.add_row(*[escape(_cell(row.get(c))) for c in columns])
    console = Console(file=io.StringIO(), width=width or 140, force_terminal=False, color_system=None)
    console.print(table)
    return console.file.getvalue()


def render(rows: list[dict], columns: list[str], fmt: str, headers: list[str] | None = None,
           title: str | None = None) -> str:
    if fmt == "json":
        return render_json(rows)
    if fmt == "csv":
        return render_csv(rows, columns)
    if fmt == "markdown":
        return render_markdown(rows, columns, headers)
    return render_table(rows, columns, headers, title)
