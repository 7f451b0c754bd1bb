"""Message context: is this the kind of message that can show a personal conversation at all?

No evidence comes from automated mail, auto-replies, broadcasts (more than ``max_other_people`` people
besides the owner: staff meetings, all-hands, room bookings, reports to a team), newsletters and other bulk
mail (their footers say so), or messages the owner received only as a copy. Quoted and forwarded blocks,
signatures and attachments never reach the cue stage (``signals/strip.py``). The words are data in
``patterns/message.json``.
"""

from __future__ import annotations

from inboxrel.signals.shape import MessageShape, message_patterns


def no_evidence_reason(shape: MessageShape, body: str | None) -> str | None:
    """Why no message of this shape can hold a personal conversation, or None when it can."""
    pats = message_patterns()
    if shape.automated:
        return f"automated mail ({shape.automated})"
    if shape.author is None:
        return "no sender"
    if shape.author.auto:
        return "sent by an automated address"
    if shape.subject and pats["auto_reply_subjects"].search(shape.subject):
        return "an auto-reply"
    others = shape.others()
    if len(others) > pats["max_other_people"]:
        return f"sent to {len(others)} people: not a personal conversation"
    if body and pats["bulk_markers"].search(body[-4000:] if len(body) > 8000 else body):
        return "bulk mail (newsletter or notice footer)"
    if not shape.by_owner:
        if shape.author.delegate:
            return "written by a delegate, not the owner"
        if not any(p.me for p in shape.to) and (shape.to or not any(p.me for p in shape.cc)):
            return "the owner is only copied"
    return None
