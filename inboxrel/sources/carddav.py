"""CardDAV address books, read-only and incremental: the same cards as `import-contacts`, kept in step.

An address book is a ``[[calendars]]`` table with ``kind = "carddav"`` (the same URL and secret options as a
calendar). A sync lists the collection's items with their ETags (PROPFIND, depth 1), downloads only the
new or changed cards (addressbook-multiget REPORT) and saves them through
:func:`inboxrel.sources.contacts.save_contacts`; a card gone from the server is dropped from ``contacts``
(a merge it caused stays, like any merge, until ``people undo``). Nothing is ever written to the server.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from datetime import datetime
from urllib.parse import unquote, urljoin, urlsplit

from inboxrel.errors import ConfigError, InboxrelError

DAV = "{DAV:}"
CARD = "{urn:ietf:params:xml:ns:carddav}"
MULTIGET_BATCH = 200

_PROPFIND = ('<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/>'
             '<d:resourcetype/></d:prop></d:propfind>')


def _multiget(hrefs) -> str:
    items = "".join(f"<d:href>{_xml_escape(h)}</d:href>" for h in hrefs)
    return ('<?xml version="1.0" encoding="utf-8"?><c:addressbook-multiget xmlns:d="DAV:" '
            'xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop>'
            f'{items}</c:addressbook-multiget>')


def _xml_escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _responses(raw: bytes):
    """(href, etag, address data or None, is collection) for each response of a multistatus body."""
    root = ET.fromstring(raw)
    for resp in root.iter(f"{DAV}response"):
        href = unquote(urlsplit((resp.findtext(f"{DAV}href") or "").strip()).path)
        etag = data = None
        collection = False
        for ps in resp.iter(f"{DAV}propstat"):
            if "200" not in (ps.findtext(f"{DAV}status") or ""):
                continue
            prop = ps.find(f"{DAV}prop")
            if prop is None:
                continue
            etag = prop.findtext(f"{DAV}getetag") or etag
            data = prop.findtext(f"{CARD}address-data") or data
            rt = prop.find(f"{DAV}resourcetype")
            collection = collection or (rt is not None and rt.find(f"{DAV}collection") is not None)
        yield href, etag, data, collection


def _client(book, environ):
    from inboxrel.sources.caldav import connect_client

    return connect_client(book, environ)


def fetch_changes(client, url: str, known: dict[str, str | None], *, download: bool = True):
    """({href: etag} listed, {href: (etag, vcard)} changed) of the address book at ``url``; without
    ``download`` only the listing."""
    from inboxrel.errors import UnreachableError

    resp = client.request(url, "PROPFIND", _PROPFIND, {"Depth": "1", "Content-Type": "application/xml"})
    if resp.status == 404:
        raise ConfigError(f"no address book at {url} (404): copy the address book's CardDAV URL from the server")
    if resp.status not in (200, 207):
        raise UnreachableError(f"the server answered the listing of {url} with status {resp.status}; try again later")
    base = unquote(urlsplit(url).path).rstrip("/")
    listed = {href: etag for href, etag, _d, coll in _responses(resp._raw)
              if not coll and href.rstrip("/") != base}
    want = [h for h, etag in listed.items() if etag is None or known.get(h) != etag] if download else []
    changed = {}
    for i in range(0, len(want), MULTIGET_BATCH):
        part = want[i:i + MULTIGET_BATCH]
        resp = client.request(url, "REPORT", _multiget(part), {"Depth": "1", "Content-Type": "application/xml"})
        if resp.status not in (200, 207):
            for h in part:  # a server without multiget: one GET each
                r = client.request(urljoin(url, h), "GET")
                changed[h] = (listed.get(h), r._raw.decode("utf-8", errors="replace") if r.status == 200 else "")
            continue
        for href, etag, data, _coll in _responses(resp._raw):
            changed[href] = (etag or listed.get(href), data or "")
    return listed, changed


def sync_addressbook(engine, book, *, now: datetime, environ, region: str = "US", full: bool = False) -> dict:
    """Sync one CardDAV address book into ``contacts`` and the people they name."""
    from sqlalchemy import delete, insert, select, update

    from inboxrel.clock import as_utc, to_db
    from inboxrel.models import calendar_items, calendar_sources, contacts
    from inboxrel.sources.caldav import _record_error, _translate, source_row
    from inboxrel.sources.contacts import parse_card, save_contacts

    started = time.monotonic()
    now = as_utc(now)
    source = f"carddav:{book.name}"
    with engine.begin() as conn:
        src = source_row(conn, book.name, "carddav")
        known = {r.href: r.etag for r in conn.execute(select(calendar_items.c.href, calendar_items.c.etag)
                                                      .where(calendar_items.c.source_id == src.id))}
    try:
        client = _client(book, environ)
        listed, changed = fetch_changes(client, book.url, {} if full else known)
    except InboxrelError as exc:
        _record_error(engine, src.id, exc, now)
        raise
    except Exception as exc:
        err = _translate(exc, book)
        _record_error(engine, src.id, err, now)
        raise err from None
    cards, problems, uid_of = [], [], {}
    for href, (_etag, data) in sorted(changed.items()):
        try:
            card = parse_card(data, 1)
        except ValueError as exc:
            problems.append({"href": href, "reason": str(exc)})
            continue
        cards.append(card)
        uid_of[href] = card.uid
    out = save_contacts(engine, cards, source=source, now=now, region=region) if cards else {
        "linked": 0, "unlinked": 0, "merged": 0, "merges": []}
    deleted = set(known) - set(listed)
    with engine.begin() as conn:
        for href in deleted:
            conn.execute(delete(contacts).where(contacts.c.source == source, contacts.c.href == href))
            conn.execute(delete(calendar_items).where(calendar_items.c.source_id == src.id,
                                                      calendar_items.c.href == href))
        for href, (etag, _data) in changed.items():
            uid = uid_of.get(href)
            if uid:
                conn.execute(update(contacts).where(contacts.c.source == source, contacts.c.uid == uid)
                             .values(href=href[:1000], etag=etag))
            if href in known:
                conn.execute(update(calendar_items).where(calendar_items.c.source_id == src.id,
                                                          calendar_items.c.href == href)
                             .values(etag=etag, uid=uid, updated_at=to_db(now)))
            else:
                conn.execute(insert(calendar_items).values(source_id=src.id, href=href[:1000], etag=etag, uid=uid,
                                                           events=0, updated_at=to_db(now)))
        conn.execute(update(calendar_sources).where(calendar_sources.c.id == src.id).values(
            kind="carddav", items=len(listed), last_sync_at=to_db(now), last_ok_at=to_db(now),
            last_error=None, last_error_at=None))
    return {"calendar": book.name, "kind": "carddav", "changed": len(changed), "deleted": len(deleted),
            "unchanged": len(listed) - len(changed), "occurrences": 0, "contacts": len(cards),
            "linked": out["linked"], "merged": out["merged"], "merges": out["merges"], "interactions": 0,
            "skipped": len(problems), "problems": problems, "items": len(listed), "full": True,
            "seconds": round(time.monotonic() - started, 2)}
