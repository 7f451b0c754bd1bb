"""Renderers for lists of plain dict rows: table (rich), json, csv, markdown."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

from inboxrel.clock import as_utc

_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?([+-]\d\d:\d\d|Z)?$")

# What a value from mail must never carry to a terminal: C0 controls (ESC starts the sequences that retitle
# a window or clear the screen), DEL, C1 controls (0x9b alone is a CSI on some terminals), and the
# bidirectional marks, overrides and isolates that make text show in another order than it is stored in.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_CONTROL_IN_VALUE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_CONTROL_IN_OUTPUT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI}]|\r(?!\n)")
# JSON escapes C0 itself; these it would print raw (ensure_ascii=False), so they are escaped as \\uXXXX
_JSON_RAW = re.compile(f"[\x7f-\x9f{_BIDI}\u2028\u2029]")
DISPLAY_MAX = 300  # characters of one value shown in a table or text (a 10 MB subject stays in the store)


def terminal_safe(text: str) -> str:
    """Output text without control or bidi-override characters (newline, tab and CRLF kept)."""
    return _CONTROL_IN_OUTPUT.sub("", text) if _CONTROL_IN_OUTPUT.search(text) else text


def display(value: str, limit: int = DISPLAY_MAX) -> str:
    """One value from mail for a table or text: controls dropped, line breaks and tabs as spaces, cut at ``limit``."""
    if _CONTROL_IN_VALUE.search(value):
        value = _CONTROL_IN_VALUE.sub(lambda m: " " if m.group() in "\t\n\r" else "", value)
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


def for_display(data, limit: int = DISPLAY_MAX):
    """A copy of rows/dicts/lists with every string made safe for display (:func:`display`)."""
    if isinstance(data, str):
        return display(data, limit)
    if isinstance(data, dict):
        return {k: for_display(v, limit) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [for_display(v, limit) for v in data]
    return data


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
    return str(value) if full_time else display(str(value))


def json_default(value):
    if isinstance(value, datetime):
        return as_utc(value).isoformat(timespec="seconds")
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def render_json(data) -> str:
    """JSON with every value kept whole; control and bidi characters stay escaped (``\\u202e``), never raw."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=json_default)
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text) if _JSON_RAW.search(text) else text


def render_csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:  # whole values (CSV is data), without control characters
        writer.writerow([terminal_safe(_cell(row.get(c), full_time=True)) for c in columns])
    return buf.getvalue()


def render_markdown(rows: list[dict], columns: list[str], headers: list[str] | None = None) -> str:
    headers = headers or columns

    def esc(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(esc(_cell(row.get(c))) for c in columns) + " |")
    return "\n".join(lines) + "\n"


TABLE_WIDTH = 140  # the widest a table gets: what every table was before following the terminal


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` first, as :func:`shutil.get_terminal_size` reads it), at most
    :data:`TABLE_WIDTH`; output that is not a terminal gets :data:`TABLE_WIDTH`."""
    import shutil

    return max(20, min(shutil.get_terminal_size((TABLE_WIDTH, 24)).columns, TABLE_WIDTH))


# Which columns a narrow terminal loses, least important first. Each table drops, in this order, those of
# its columns that are here, and wraps the rest: people keep Name, Email, Sent and Recv; evidence keeps
# When, Kind, Person and Sentence; threads keep Subject and Awaiting (and Last, but for a very narrow one).
DROP_FIRST = ["two_way_threads", "automated", "threads", "days_waiting", "source", "confidence", "medium",
              "sent_90d", "received_90d", "last_from", "messages", "by_user", "undone", "last_at", "id"]


def _min_width(texts) -> int:
    """The narrowest a column can be without cutting a word: its longest word (in terminal cells)."""
    from rich.cells import cell_len

    return max((cell_len(word) for text in texts for word in text.split()), default=1)


def fit_columns(cells: list[list[str]], headers: list[str], width: int, drop: list[int]
                ) -> tuple[list[int], list[int] | None]:
    """(indexes of the columns kept, their narrowest widths or None) so that no word needs cutting in
    ``width`` cells: the columns in ``drop`` (least important first) go one by one until the rest fit; the
    others are only ever wrapped. The widths are None when even those do not fit (words are then cut)."""
    need = [_min_width([h] + [row[i] for row in cells]) for i, h in enumerate(headers)]
    kept = list(range(len(headers)))

    def fits() -> bool:
        return sum(need[k] + 3 for k in kept) + 1 <= width  # a cell's padding and border, and the last border

    for i in drop:
        if fits():
            break
        kept.remove(i)
    return kept, ([need[k] for k in kept] if fits() else None)


def render_table(rows: list[dict], columns: list[str], headers: list[str] | None = None, title: str | None = None,
                 width: int | None = None, drop: list[str] | None = None) -> str:
    """A rich table rendered to text (no colour codes when not on a terminal), as wide as the terminal at
    most (``width``, else :func:`terminal_width`): long values wrap, and when even the longest words do not
    fit, the columns in ``drop`` (by default :data:`DROP_FIRST`) are left out, least important first."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    width = width or terminal_width()
    headers = list(headers or columns)
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    kept, least = fit_columns(cells, headers, width, [columns.index(c) for c in (DROP_FIRST if drop is None else drop)
                                               if c in columns])
    table = Table(title=title, header_style="bold", show_lines=False)
    for n, i in enumerate(kept):  # never narrower than the longest word, when that fits at all
        table.add_column(headers[i], overflow="fold", min_width=least[n] if least else None)
    for row in cells:
        # values come from mail: "[/]" in a subject must stay text, not rich markup
        table.add_row(*[escape(row[i]) for i in kept])
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    console.print(table)
    return console.file.getvalue()


def render(rows: list[dict], columns: list[str], fmt: str, headers: list[str] | None = None,
           title: str | None = None, drop: list[str] | None = None) -> str:
    """Rows in ``fmt``; a table leaves out the columns of ``drop`` (least important first) when the
    terminal is too narrow for them, the other formats keep every column."""
    if fmt == "json":
        return render_json(rows)
    if fmt == "csv":
        return render_csv(rows, columns)
    if fmt == "markdown":
        return render_markdown(rows, columns, headers)
    return render_table(rows, columns, headers, title, drop=drop)
