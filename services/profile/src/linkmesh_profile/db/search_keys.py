"""The keys the customer directory finds customers by, kept in each customer's document.

An agent finds a customer by name, email, phone or an order number one of the customer's
linked apps holds. Each way is an exact match on an indexed key kept in the customer's
document, so every query is one index lookup (no regular expression, no collection scan):

- ``name_keys``: every prefix of every word of the name, case- and accent-folded, so "jan
  smi" finds "Jane Smith" (every word of the query must start a word of the name);
- ``order_keys``: ``<order number>\\x1f<app id>`` for every order (number and id) and every
  return's order a linked app showed, added as the app's data is written (never lost to a
  concurrent refresh of another app: ``$addToSet``), removed when the app is unlinked;
- ``recent_key``: ``<last contact, ISO>|<id>``, one sortable string, so the recent list is one
  range of one index, page after page.

They are derived here, where the store writes them; ``customers.directory`` reads by them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bson import ObjectId

if TYPE_CHECKING:
    from linkmesh_profile.model.customer import Customer

MAX_WORD = 24
#: A returning customer's contact moves them up the recent list at most once a minute, so a
#: burst of messages costs no extra write.
RECENT_STEP = timedelta(seconds=60)
ORDER_SEPARATOR = "\x1f"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{7,}$")


def fold(text: str) -> str:
    """Lower case without accents: "Zoë" and "zoe" are one key."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w[:MAX_WORD] for w in _WORD.findall(fold(text))]


def name_keys(name: str) -> list[str]:
    """Every prefix of every word of the name."""
    return sorted({w[:n] for w in words(name) for n in range(1, len(w) + 1)})


def order_number(value: str) -> str:
    return fold(value.strip().lstrip("#").strip())


def order_keys(app_id: str, data: dict[str, Any] | None) -> list[str]:
    """The keys of every order and returned order in an app's data (a stored link's ``data``)."""
    data = data or {}
    numbers = {o.get(f, "") for o in data.get("orders") or [] for f in ("number", "id")}
    numbers |= {r.get("order_id", "") for r in data.get("returns") or []}
    return sorted(f"{n}{ORDER_SEPARATOR}{app_id}" for n in map(order_number, numbers) if n)


RECENT_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"
RECENT_WINDOWS = (timedelta(minutes=10), timedelta(hours=6), timedelta(days=7), timedelta(days=90), None)


def recent_key(at: datetime, oid: ObjectId) -> str:
    return f"{at.strftime(RECENT_FORMAT)}|{oid}"


def contact_stamp(customer: Customer, at: datetime) -> dict[str, Any]:
    """The fields a contact sets (for ``$set``), or nothing when the last one was under a minute ago."""
    last = customer.last_contact_at
    if last is not None and at - last < RECENT_STEP:
        return {}
    return {"last_contact_at": at, "recent_key": recent_key(at, customer.oid)}


def with_search_keys(update: dict[str, Any]) -> dict[str, Any]:
    """An update that sets ``name`` also sets its ``name_keys``."""
    set_ = update.get("$set")
    if set_ and "name" in set_:
        set_["name_keys"] = name_keys(set_["name"] or "")
    return update
