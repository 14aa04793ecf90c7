"""The customer directory: who contacted in most recently, and who an agent is looking for,
found by name, email, phone or order number through the keys ``db.search_keys`` keeps on
each customer: every query is one index lookup (no regular expression, no collection scan)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.contact_points import InvalidContactPoint, normalize_email, normalize_phone
from linkmesh_core.errors import invalid_argument
from linkmesh_profile.db import listings
from linkmesh_profile.db.documents import ts
from linkmesh_profile.db.search_keys import ORDER_SEPARATOR, PHONE_LIKE, RECENT_FORMAT, RECENT_WINDOWS, order_number, words
from linkmesh_profile.model.customer import Listing

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store

DEFAULT_LIMIT, MAX_LIMIT = 25, 100


def _token(kind: str, value: str) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode().rstrip("=")


def _untoken(token: str, kind: str) -> str:
    try:
        found, _, value = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        found, value = "", ""
    if found != kind or not value:
        raise invalid_argument("the page token is not one this list gave", {"page_token": "use next_page_token of the previous page"})
    return value


class Directory:
    def __init__(self, store: Store, region: str) -> None:
        self.store = store
        self.region = region

    async def page(self, request: profile_pb2.ListCustomersRequest) -> profile_pb2.ListCustomersResponse:
        limit = request.limit or DEFAULT_LIMIT
        if not 1 <= limit <= MAX_LIMIT:
            raise invalid_argument(f"limit must be 1 to {MAX_LIMIT}", {"limit": f"must be a whole number from 1 to {MAX_LIMIT}"})
        text = request.query.strip()
        if len(text) > 200:
            raise invalid_argument("the query is too long", {"query": "must be at most 200 characters"})
        if not text:
            return await self._recent(limit, request.page_token)
        if not words(text):
            raise invalid_argument("search by a name, an email, a phone or an order number", {"query": "has no letters or digits"})
        if "@" in text:
            try:
                email = normalize_email(text)
            except InvalidContactPoint as exc:
                raise invalid_argument("the email is invalid", {"query": str(exc)}) from None
            return await self._answer([(Listing.of(c), "email") for c in await self.store.find_customers(email, None)], "")
        # A phone, an order number and a name can look alike ("1001", "R-1001", "Jo 2"): each is
        # looked for. The exact matches come on the first page, the names page by page after them.
        found: list[tuple[Listing, str]] = []
        if not request.page_token:
            if PHONE_LIKE.match(text):
                try:
                    owners = await self.store.find_customers(None, normalize_phone(text, self.region))
                    found = [(Listing.of(c), "phone") for c in owners]
                except InvalidContactPoint:
                    pass
            if any(c.isdigit() for c in text):
                seen = {d.oid for d, _ in found}
                found += [(d, "order") for d in await self._by_order(text) if d.oid not in seen]
        if not any(c.isalpha() for c in text):
            if request.page_token:
                raise invalid_argument("this search has one page", {"page_token": "a phone or order number search has one page"})
            return await self._answer(found, "")
        named, token = await self._by_name(text, limit, request.page_token)
        seen = {d.oid for d, _ in found}
        return await self._answer(found + [(d, "name") for d in named if d.oid not in seen], token)

    async def _recent(self, limit: int, page_token: str) -> profile_pb2.ListCustomersResponse:
        before = _untoken(page_token, "recent") if page_token else None
        docs = await self._recent_window(before, limit + 1)
        more = len(docs) > limit
        docs = docs[:limit]
        return await self._answer([(d, "recent") for d in docs], _token("recent", docs[-1].recent_key) if more else "")

    async def _recent_window(self, before: str | None, wanted: int) -> list[Listing]:
        """The ``wanted`` most recent below ``before``, read from the narrowest window back in time
        that holds them (10 minutes, then 6 hours, a week, 90 days, everything)."""
        top = datetime.strptime(before.partition("|")[0], RECENT_FORMAT).replace(tzinfo=UTC) if before else datetime.now(UTC)
        for window in RECENT_WINDOWS:
            since = (top - window).strftime(RECENT_FORMAT) if window is not None else None
            docs = await listings.recent(self.store, before, since, wanted)
            if len(docs) >= wanted or window is None:
                return docs
        return []

    async def _by_name(self, text: str, limit: int, page_token: str) -> tuple[list[Listing], str]:
        after = _untoken(page_token, "name") if page_token else None
        if after is not None and not ObjectId.is_valid(after):
            raise invalid_argument("the page token is not one this list gave", {"page_token": "use next_page_token of the previous page"})
        terms = words(text)
        if not terms:
            return [], ""
        key = max(terms, key=len)  # the longest word is the most selective
        others = [w for w in terms if w != key]
        docs: list[Listing] = []
        async for doc in listings.named(self.store, key, ObjectId(after) if after else None):
            if all(w in doc.name_keys for w in others):
                docs.append(doc)
                if len(docs) > limit:
                    break
        more = len(docs) > limit
        docs = docs[:limit]
        return docs, _token("name", docs[-1].id) if more else ""

    async def _by_order(self, text: str) -> list[Listing]:
        number = order_number(text)
        apps = await self.store.app_cache.all()
        if not number or not apps:
            return []
        keys = [f"{number}{ORDER_SEPARATOR}{a.id}" for a in apps]
        return await listings.with_order(self.store, keys)

    async def _answer(self, found: list[tuple[Listing, str]], next_token: str) -> profile_pb2.ListCustomersResponse:
        apps = {a.id: a for a in await self.store.app_cache.all()}
        out = profile_pb2.ListCustomersResponse(next_page_token=next_token)
        for doc, matched in found:
            out.customers.add(
                id=doc.id,
                name=doc.name,
                emails=doc.emails,
                phones=doc.phones,
                matched=matched,
                linked_apps=sorted({apps[a].name for a in doc.linked_app_ids if a in apps}),
                last_contact_at=ts(doc.last_contact_at),
            )
        return out
