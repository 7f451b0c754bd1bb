"""Classify automated mail from its headers and sender (pure functions).

Returns one of ``newsletter``, ``list``, ``notification``, ``autoreply``, ``role`` or None for mail a
person wrote to someone. The local parts of role and no-reply senders, the auto-reply headers and the
subjects of out-of-office replies are data, in ``automated_senders.json``. An ``autoreply`` is automated
mail (it weighs nothing toward the load) but does not make its sender a machine: people go on holiday.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

ESP_HEADERS = ("feedback-id", "x-mailgun-sid", "x-mailgun-tag", "x-ses-outgoing", "x-ses-message-id", "x-sg-eid",
               "x-mailchimp-campaign", "x-campaign", "x-mc-user", "x-facebook-notify", "x-linkedin-class",
               "x-github-reason", "x-ms-exchange-generated-message-source")


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads((Path(__file__).with_name("automated_senders.json")).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _autoreply() -> tuple[tuple[str, ...], re.Pattern]:
    data = _data()
    subjects = re.compile("|".join(f"(?:{p})" for p in data["autoreply_subjects"]), re.I)
    return tuple(data["autoreply_headers"]), subjects


def is_autoreply(headers: dict[str, str], subject: str | None = None) -> bool:
    """An out-of-office or other automatic reply: Auto-Submitted: auto-replied, X-Autoreply and kin, or an
    "Out of Office AutoReply:" subject."""
    if headers.get("auto-submitted", "").strip().lower().startswith("auto-replied"):
        return True
    names, subjects = _autoreply()
    if any(h in headers for h in names):
        return True
    return bool(subject) and subjects.match(subject.strip()) is not None


@lru_cache(maxsize=1)
def _senders() -> tuple[frozenset[str], frozenset[str], tuple[str, ...], tuple[str, ...]]:
    data = _data()
    return frozenset(data["noreply"]), frozenset(data["role"]), tuple(data["suffixes"]), tuple(data["prefixes"])


def classify_sender(address: str | None) -> str | None:
    """``role`` for role and no-reply mailboxes (noreply@, notifications@, list-owner@), else None."""
    if not address or "@" not in address:
        return None
    local = address.rsplit("@", 1)[0].lower()
    noreply, role, suffixes, prefixes = _senders()
    base = local.split("+", 1)[0]
    if base in noreply or base in role:
        return "role"
    if base.endswith(suffixes) or base.startswith(prefixes):
        return "role"
    if "noreply" in base or "no-reply" in base or "donotreply" in base:
        return "role"
    return None


def classify_headers(headers: dict[str, str]) -> str | None:
    """Classify from the list and bulk-mail headers alone."""
    precedence = headers.get("precedence", "").strip().lower()
    if "list-post" in headers or precedence == "list":
        return "list"
    if "list-id" in headers or "list-unsubscribe" in headers:
        return "newsletter"
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return "notification"
    if precedence in ("bulk", "junk"):
        return "notification"
    if any(h in headers for h in ESP_HEADERS):
        return "notification"
    return None


def classify_message(headers: dict[str, str], from_address: str | None, subject: str | None = None) -> str | None:
    """The message's automated kind; list mail from a real person stays ``list`` (it is still theirs)."""
    if is_autoreply(headers, subject):
        return "autoreply"
    return classify_headers(headers) or classify_sender(from_address)
