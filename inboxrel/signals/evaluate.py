"""`inboxrel cues`: JSON Lines in and out, and precision/recall/F1 against labelled cues.

Scores compare multisets per text, summed over texts (micro-averaged): ``kind`` compares the kinds,
``kind+medium`` the (kind, medium) pairs, ``when`` the non-null days (with their kind), and ``exact`` whole
(kind, medium, when) cues. Call attempts are evidence for the store but not cues, so they are not printed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator

from inboxrel.errors import UsageError

LEVELS = ("kind", "kind+medium", "when", "exact")


def _read(lines: Iterable[str], source: str) -> list[dict]:
    items = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{source} line {n} is not JSON ({exc.msg}): give one JSON object per line") from None
        if not isinstance(obj, dict) or "text" not in obj or "date" not in obj:
            raise UsageError(f"{source} line {n} needs \"id\", \"date\" and \"text\"")
        items.append(obj)
    return items


def predict(items: list[dict]) -> list[list[dict]]:
    """The cues of each item's text (the author's own words only), as plain dicts."""
    from inboxrel.signals.cues import analyze_texts, local_datetime
    from inboxrel.signals.strip import split_body

    inputs = []
    for obj in items:
        try:
            local = local_datetime(obj["date"])
        except (TypeError, ValueError):
            raise UsageError(f"item {obj.get('id')!r}: date {obj['date']!r} is not ISO 8601 "
                             "(e.g. 2001-05-14T09:30:00-05:00)") from None
        inputs.append((split_body(obj["text"] or "").own, local))
    # a cue with a named party ("I spoke with Anne") is a conversation with the recipient only when the
    # message's headers say Anne is the recipient: a text alone has no headers, so it is no cue here
    return [[c.as_dict() for c in cues if c.kind != "attempt" and not c.party] for cues in analyze_texts(inputs)]


def run_cues(stream) -> Iterator[str]:
    """One output line per input line: {"id": ..., "cues": [...]}."""
    items = _read(stream, getattr(stream, "name", "input"))
    for obj, cues in zip(items, predict(items)):
        yield json.dumps({"id": obj.get("id"), "cues": cues})


def _keys(cues: list[dict], level: str) -> Counter:
    if level == "kind":
        return Counter(c["kind"] for c in cues)
    if level == "kind+medium":
        return Counter((c["kind"], c["medium"]) for c in cues)
    if level == "when":
        return Counter((c["kind"], c["when"]) for c in cues if c.get("when"))
    return Counter((c["kind"], c["medium"], c.get("when")) for c in cues)


def score(gold: list[list[dict]], pred: list[list[dict]]) -> dict:
    """Micro precision, recall and F1 at each level."""
    out = {}
    for level in LEVELS:
        tp = fp = fn = 0
        for g, p in zip(gold, pred):
            kg, kp = _keys(g, level), _keys(p, level)
            common = sum((kg & kp).values())
            tp += common
            fp += sum(kp.values()) - common
            fn += sum(kg.values()) - common
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        out[level] = {"precision": round(prec, 3), "recall": round(rec, 3), "f1": round(f1, 3),
                      "tp": tp, "fp": fp, "fn": fn}
    return out


def evaluate_file(path: str) -> dict:
    """Scores of the cue detector on a labelled JSON Lines file; includes the ids it got wrong."""
    with open(path, encoding="utf-8") as fh:
        items = _read(fh, path)
    if any("cues" not in obj for obj in items):
        raise UsageError(f"{path}: every line needs a \"cues\" list to evaluate against")
    pred = predict(items)
    gold = [obj["cues"] for obj in items]
    scores = score(gold, pred)
    scores["items"] = len(items)
    scores["wrong"] = [obj.get("id") for obj, g, p in zip(items, gold, pred)
                       if _keys(g, "exact") != _keys(p, "exact")]
    return scores


def format_scores(scores: dict) -> str:
    lines = [f"{'':<12} {'precision':>9} {'recall':>7} {'F1':>6}   ({scores['items']} texts)"]
    for level in LEVELS:
        s = scores[level]
        lines.append(f"{level:<12} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f}")
    if scores.get("wrong"):
        lines.append(f"not exact: {', '.join(map(str, scores['wrong']))}")
    return "\n".join(lines)
