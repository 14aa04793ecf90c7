"""A customer profile and its links, as the profile service holds them in ``customers``.

Read from its MongoDB document once, where the store hands it out (``Customer.from_doc``):
no caller decides a default (a profile without links has an empty ``links``) or spells a key.
Writes stay conditional updates of the document (``linkmesh_profile.db``): a ``Customer`` is
what was read, never changed in place.

A link's ``data`` is what the app's connector answered to a DETAILED lookup, kept as the
``linkmesh.lookup.v1.Customer`` message's JSON form (``db.documents`` turns it into the
message for the API); linkmesh reads nothing of it but its contact points and order numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from bson import ObjectId

EMPTY: Mapping[str, Any] = MappingProxyType({})
#: The id of a person who is not stored (the lookup debugger's "what if they wrote in"); no
#: stored customer has it, and such a customer's ``id`` is "".
UNSAVED = ObjectId("000000000000000000000000")


def _strings(values: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in values or ())


@dataclass(frozen=True, slots=True)
class Stale:
    """The app's last refresh failed: its data is as of ``Link.refreshed_at``."""

    code: str
    message: str
    since: datetime | None = None  # the first failure in a row
    at: datetime | None = None  # the latest

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Stale | None:
        if not doc:
            return None
        return cls(str(doc.get("code") or "UNAVAILABLE"), str(doc.get("message") or ""), doc.get("since"), doc.get("at"))

    def to_doc(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "since": self.since, "at": self.at}


@dataclass(frozen=True, slots=True)
class Link:
    app_id: str
    external_customer_id: str
    app_type: str = ""
    linked_at: datetime | None = None
    refreshed_at: datetime | None = None
    #: The app's DETAILED customer (``lookup.v1.Customer`` as JSON).
    data: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    stale: Stale | None = None

    @classmethod
    def from_doc(cls, app_id: str, doc: Mapping[str, Any]) -> Link:
        return cls(
            app_id=app_id,
            external_customer_id=str(doc.get("external_customer_id") or ""),
            app_type=str(doc.get("app_type") or ""),
            linked_at=doc.get("linked_at"),
            refreshed_at=doc.get("refreshed_at"),
            data=doc.get("data") or EMPTY,
            stale=Stale.from_doc(doc.get("stale")),
        )

    @property
    def seen(self) -> tuple[str, datetime | None, datetime | None]:
        """What tells one refresh of a link from the next: its external customer, when its data
        was written, when a failure was marked."""
        return self.external_customer_id, self.refreshed_at, self.stale.at if self.stale else None

    def offered_action(self, form_url: str) -> tuple[str, str] | None:
        """(name, order id) of the action with ``form_url`` that the linked record offers, on the
        customer, one of its orders or one of its transactions; None when it offers none."""
        data = self.data
        places: list[tuple[Any, str]] = [(data.get("actions"), "")]
        places += [(o.get("actions"), str(o.get("id") or o.get("number") or "")) for o in data.get("orders") or ()]
        places += [(t.get("actions"), "") for t in data.get("transactions") or ()]
        for actions, order_id in places:
            for action in actions or ():
                if action.get("form_url") == form_url:
                    return str(action.get("name") or "Action"), order_id
        return None


@dataclass(frozen=True, slots=True)
class Customer:
    oid: ObjectId
    name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    address: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    custom_attributes: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    #: Which app a profile field came from (``name``, ``address``), and each custom attribute's.
    field_sources: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    attribute_sources: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    links: Mapping[str, Link] = field(default_factory=lambda: EMPTY)
    #: ``<app id>:<external id>`` of every link (unique across customers).
    link_keys: tuple[str, ...] = ()
    #: ``<order number>|<app id>`` of every order its links pulled, for the directory (``db.search_keys``).
    order_keys: tuple[str, ...] = ()
    #: Apps an agent unlinked this customer from: never auto-linked again.
    unlinked_apps: tuple[str, ...] = ()
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_contact_at: datetime | None = None
    #: Made by a contact and not yet confirmed (``customers.folding``): may be folded into another.
    provisional_until: datetime | None = None
    #: Counts every write of the links and what they pulled (an unlink writes on the version it read).
    links_version: int | None = None
    #: The directory's key of the recent list (``db.search_keys``).
    recent_key: str = ""

    @property
    def id(self) -> str:
        return "" if self.oid == UNSAVED else str(self.oid)

    @classmethod
    def unsaved(cls, emails: list[str], phones: list[str]) -> Customer:
        """A person with these contact points, as if they wrote in (nothing is stored)."""
        return cls(UNSAVED, emails=tuple(emails), phones=tuple(phones))

    @property
    def contact_points(self) -> tuple[str, ...]:
        return (*self.emails, *self.phones)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Customer:
        links = doc.get("links") or {}
        return cls(
            oid=doc["_id"],
            name=str(doc.get("name") or ""),
            emails=_strings(doc.get("emails")),
            phones=_strings(doc.get("phones")),
            address=doc.get("address") or EMPTY,
            custom_attributes=doc.get("custom_attributes") or EMPTY,
            field_sources=doc.get("field_sources") or EMPTY,
            attribute_sources=doc.get("attribute_sources") or EMPTY,
            links={app_id: Link.from_doc(app_id, link) for app_id, link in links.items()} if links else EMPTY,
            link_keys=_strings(doc.get("link_keys")),
            order_keys=_strings(doc.get("order_keys")),
            unlinked_apps=_strings(doc.get("unlinked_apps")),
            created_at=doc.get("created_at"),
            updated_at=doc.get("updated_at"),
            last_contact_at=doc.get("last_contact_at"),
            provisional_until=doc.get("provisional_until"),
            links_version=doc.get("links_version"),
            recent_key=str(doc.get("recent_key") or ""),
        )


@dataclass(frozen=True, slots=True)
class Listing:
    """A customer as the directory lists them: read without the links' data."""

    oid: ObjectId
    name: str = ""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    last_contact_at: datetime | None = None
    #: The apps it is linked to, from its link keys (``<app id>:<external id>``).
    linked_app_ids: tuple[str, ...] = ()
    recent_key: str = ""
    name_keys: tuple[str, ...] = ()
    #: When anything of the profile was last written (its links' data too).
    updated_at: datetime | None = None

    @property
    def id(self) -> str:
        return str(self.oid)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Listing:
        return cls(
            oid=doc["_id"],
            name=str(doc.get("name") or ""),
            emails=_strings(doc.get("emails")),
            phones=_strings(doc.get("phones")),
            last_contact_at=doc.get("last_contact_at"),
            linked_app_ids=tuple(str(key).partition(":")[0] for key in doc.get("link_keys") or ()),
            recent_key=str(doc.get("recent_key") or ""),
            name_keys=_strings(doc.get("name_keys")),
            updated_at=doc.get("updated_at"),
        )

    @classmethod
    def of(cls, customer: Customer) -> Listing:
        return cls(
            customer.oid,
            customer.name,
            customer.emails,
            customer.phones,
            customer.last_contact_at,
            tuple(key.partition(":")[0] for key in customer.link_keys),
            customer.recent_key,
            updated_at=customer.updated_at,
        )
