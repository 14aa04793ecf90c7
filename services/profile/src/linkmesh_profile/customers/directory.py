"""The customer directory: who contacted in most recently, and who an agent is looking for,
found by name, email, phone or order number through the keys ``db.search_keys`` keeps on
each customer: every query is one index lookup (no regular expression, no collection scan)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bson import ObjectId
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.contact_points import InvalidContactPoint, normalize_email, normalize_phone
from linkmesh_core.errors import invalid_argument
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.documents import ts
from linkmesh_profile.db.search_keys import ORDER_SEPARATOR, PHONE_LIKE, RECENT_FORMAT, RECENT_WINDOWS, order_number, words

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store

DEFAULT_LIMIT, MAX_LIMIT = 25, 100


#: Characters of a word kept as a key; a longer query word matches on its first ones.
def linked_app_ids(doc: dict[str, Any]) -> list[str]:
    """From the link keys (``<app id>:<external id>``): a listing reads no linked data."""
    return [key.partition(":")[0] for key in doc.get("link_keys") or []]


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
            return await self._answer([(d, "email") for d in await self.store.find_customers(email, None)], "")
        # A phone, an order number and a name can look alike ("1001", "R-1001", "Jo 2"): each is
        # looked for. The exact matches come on the first page, the names page by page after them.
        found: list[tuple[dict[str, Any], str]] = []
        if not request.page_token:
            if PHONE_LIKE.match(text):
                try:
                    found = [(d, "phone") for d in await self.store.find_customers(None, normalize_phone(text, self.region))]
                except InvalidContactPoint:
                    pass
            if any(c.isdigit() for c in text):
                seen = {d["_id"] for d, _ in found}
                found += [(d, "order") for d in await self._by_order(text) if d["_id"] not in seen]
        if not any(c.isalpha() for c in text):
            if request.page_token:
                raise invalid_argument("this search has one page", {"page_token": "a phone or order number search has one page"})
            return await self._answer(found, "")
        named, token = await self._by_name(text, limit, request.page_token)
        seen = {d["_id"] for d, _ in found}
        return await self._answer(found + [(d, "name") for d in named if d["_id"] not in seen], token)

    async def _recent(self, limit: int, page_token: str) -> profile_pb2.ListCustomersResponse:
        before = _untoken(page_token, "recent") if page_token else None
        docs = await self._recent_window(before, limit + 1)
        more = len(docs) > limit
        docs = docs[:limit]
        return await self._answer([(d, "recent") for d in docs], _token("recent", docs[-1]["recent_key"]) if more else "")

    async def _recent_window(self, before: str | None, wanted: int) -> list[dict[str, Any]]:
        """The ``wanted`` most recent below ``before``, read from the narrowest window back in time
        that holds them (10 minutes, then 6 hours, a week, 90 days, everything)."""
        top = datetime.strptime(before.partition("|")[0], RECENT_FORMAT).replace(tzinfo=UTC) if before else datetime.now(UTC)
        for window in RECENT_WINDOWS:
            since = (top - window).strftime(RECENT_FORMAT) if window is not None else None
            docs = await q.recent_customers(before, since).find(self.store.db, limit=wanted).to_list(length=wanted)
            if len(docs) >= wanted or window is None:
                return docs
        return []

    async def _by_name(self, text: str, limit: int, page_token: str) -> tuple[list[dict[str, Any]], str]:
        after = _untoken(page_token, "name") if page_token else None
        if after is not None and not ObjectId.is_valid(after):
            raise invalid_argument("the page token is not one this list gave", {"page_token": "use next_page_token of the previous page"})
        terms = words(text)
        if not terms:
            return [], ""
        key = max(terms, key=len)  # the longest word is the most selective
        others = [w for w in terms if w != key]
        docs: list[dict[str, Any]] = []
        async for doc in q.customers_named(key, ObjectId(after) if after else None).find(self.store.db):
            if all(w in doc["name_keys"] for w in others):
                docs.append(doc)
                if len(docs) > limit:
                    break
        more = len(docs) > limit
        docs = docs[:limit]
        return docs, _token("name", str(docs[-1]["_id"])) if more else ""

    async def _by_order(self, text: str) -> list[dict[str, Any]]:
        number = order_number(text)
        apps = await self.store.app_cache.all()
        if not number or not apps:
            return []
        keys = [f"{number}{ORDER_SEPARATOR}{a.id}" for a in apps]
        return await q.customers_with_order(keys).find(self.store.db, limit=50).to_list(length=50)

    async def _answer(self, found: list[tuple[dict[str, Any], str]], next_token: str) -> profile_pb2.ListCustomersResponse:
        apps = {a.id: a for a in await self.store.app_cache.all()}
        out = profile_pb2.ListCustomersResponse(next_page_token=next_token)
        for doc, matched in found:
            item = out.customers.add(
                id=str(doc["_id"]),
                name=doc.get("name", ""),
                emails=doc.get("emails", []),
                phones=doc.get("phones", []),
                matched=matched,
                linked_apps=sorted({apps[a].name for a in linked_app_ids(doc) if a in apps}),
            )
            stamp = ts(doc.get("last_contact_at"))
            if stamp is not None:
                item.last_contact_at.CopyFrom(stamp)
        return out
