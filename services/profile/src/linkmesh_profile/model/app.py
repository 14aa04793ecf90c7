"""An app: one configured store of one commerce system, as the profile service holds it.

Read from its MongoDB document once, at the store boundary (``App.from_doc``, by the app
cache), and handed to every use case as this immutable object: no caller decides a default
(``active`` is True unless the document says otherwise) or spells the id twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from bson import ObjectId

EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Attribute:
    """A field an app searches by (``email``, ``phone``) or shows in a search result, with its label."""

    attribute: str
    label: str

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Attribute:
        return cls(str(doc.get("attribute", "")), str(doc.get("label", "")))

    def to_doc(self) -> dict[str, str]:
        return {"attribute": self.attribute, "label": self.label}


@dataclass(frozen=True, slots=True)
class Serving:
    """The app served as a Gladly lookup adaptor: its HTTP Basic username and its secrets, encrypted."""

    enabled: bool = False
    username: str = ""
    secrets: Mapping[str, str] = field(default_factory=lambda: EMPTY)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Serving:
        doc = doc or {}
        return cls(bool(doc.get("enabled")), str(doc.get("username") or ""), MappingProxyType(dict(doc.get("secrets") or {})))

    def to_doc(self) -> dict[str, Any]:
        return {"enabled": self.enabled, "username": self.username, "secrets": dict(self.secrets)}


#: How an app's subscription to its vendor's change events stands (``events.subscriptions``).
WebhookStateName = str  # off, not_offered, needs_setting, active, failed, removed ("" never asked)
SUBSCRIBED = frozenset({"active", "failed"})  # subscriptions may exist at the vendor


@dataclass(frozen=True, slots=True)
class Webhooks:
    """An app's subscription to its vendor's change events, as last made or checked."""

    state: WebhookStateName = ""
    message: str = ""
    topics: tuple[str, ...] = ()
    callback_url: str = ""
    checked_at: datetime | None = None
    #: Subscriptions made again by the last check because the vendor had dropped them.
    restored: int = 0

    @property
    def active(self) -> bool:
        """Every topic subscribed: the app's data is kept fresh by its events."""
        return self.state == "active"

    @property
    def subscribed(self) -> bool:
        """Subscriptions may exist at the vendor (made, or a removal or check that failed)."""
        return self.state in SUBSCRIBED

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any] | None) -> Webhooks:
        doc = doc or {}
        return cls(
            state=str(doc.get("state") or ""),
            message=str(doc.get("message") or ""),
            topics=tuple(str(t) for t in doc.get("topics") or ()),
            callback_url=str(doc.get("callback_url") or ""),
            checked_at=doc.get("checked_at"),
            restored=int(doc.get("restored") or 0),
        )

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "state": self.state,
            "message": self.message,
            "topics": list(self.topics),
            "callback_url": self.callback_url,
            "checked_at": self.checked_at,
        }
        if self.restored:
            doc["restored"] = self.restored
        return doc


@dataclass(frozen=True, slots=True)
class App:
    id: str
    type: str
    name: str
    active: bool = True
    settings: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    #: Secret name -> its value encrypted (``admin.secret_box``); never returned by any API.
    secrets: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    search_query_attributes: tuple[Attribute, ...] = ()
    search_result_attributes: tuple[Attribute, ...] = ()
    auto_link_fields: tuple[str, ...] = ()
    overwrite_existing_values: bool = False
    actions_enabled: bool = False
    serving: Serving = field(default_factory=Serving)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    #: Its vendor's change events (``events.subscriptions``); ``None`` when never asked.
    webhooks: Webhooks | None = None

    @property
    def searches_by(self) -> frozenset[str]:
        """The fields this app is configured to search by."""
        return frozenset(a.attribute for a in self.search_query_attributes)

    @property
    def kept_fresh_by_events(self) -> bool:
        """Its vendor's change events are subscribed in full: a read on open can wait longer."""
        return self.webhooks is not None and self.webhooks.active

    @property
    def oid(self) -> ObjectId:
        return ObjectId(self.id)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> App:
        return cls(
            id=str(doc["_id"]),
            type=str(doc.get("type", "")),
            name=str(doc.get("name", "")),
            active=bool(doc.get("active", True)),
            settings=MappingProxyType(dict(doc.get("settings") or {})),
            secrets=MappingProxyType(dict(doc.get("secrets") or {})),
            search_query_attributes=tuple(Attribute.from_doc(a) for a in doc.get("search_query_attributes") or ()),
            search_result_attributes=tuple(Attribute.from_doc(a) for a in doc.get("search_result_attributes") or ()),
            auto_link_fields=tuple(doc.get("auto_link_fields") or ()),
            overwrite_existing_values=bool(doc.get("overwrite_existing_values", False)),
            actions_enabled=bool(doc.get("actions_enabled", False)),
            serving=Serving.from_doc(doc.get("serving")),
            created_at=doc.get("created_at"),
            updated_at=doc.get("updated_at"),
            webhooks=Webhooks.from_doc(doc["webhooks"]) if doc.get("webhooks") else None,
        )

    def to_doc(self) -> dict[str, Any]:
        """The document as stored (a copy the caller may change)."""
        doc: dict[str, Any] = {
            "_id": self.oid,
            "type": self.type,
            "name": self.name,
            "settings": dict(self.settings),
            "secrets": dict(self.secrets),
            "search_query_attributes": [a.to_doc() for a in self.search_query_attributes],
            "search_result_attributes": [a.to_doc() for a in self.search_result_attributes],
            "auto_link_fields": list(self.auto_link_fields),
            "overwrite_existing_values": self.overwrite_existing_values,
            "actions_enabled": self.actions_enabled,
            "active": self.active,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
        if self.serving.enabled or self.serving.username or self.serving.secrets:
            doc["serving"] = self.serving.to_doc()
        if self.webhooks is not None:
            doc["webhooks"] = self.webhooks.to_doc()
        return doc
