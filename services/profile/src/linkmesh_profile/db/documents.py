"""MongoDB documents ↔ protobuf messages."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from google.protobuf.json_format import MessageToDict, ParseDict
from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

if TYPE_CHECKING:
    from linkmesh_profile.model.app import App


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def message_to_doc(message: Any) -> dict[str, Any]:
    return MessageToDict(message, preserving_proto_field_name=True)


def address_from_doc(doc: dict[str, Any] | None) -> lookup_pb2.Address | None:
    return ParseDict(doc, lookup_pb2.Address(), ignore_unknown_fields=True) if doc else None


def customer_to_proto(doc: dict[str, Any], apps: dict[str, App]) -> profile_pb2.Customer:
    out = profile_pb2.Customer(
        id=str(doc["_id"]),
        name=doc.get("name", ""),
        emails=doc.get("emails", []),
        phones=doc.get("phones", []),
        custom_attributes=doc.get("custom_attributes", {}),
        sources={
            **(doc.get("field_sources") or {}),
            **{f"custom_attributes.{k}": v for k, v in (doc.get("attribute_sources") or {}).items()},
        },
    )
    address = address_from_doc(doc.get("address"))
    if address is not None:
        out.address.CopyFrom(address)
    for field in ("created_at", "updated_at", "last_contact_at"):
        value = ts(doc.get(field))
        if value is not None:
            getattr(out, field).CopyFrom(value)
    for app_id, link in sorted((doc.get("links") or {}).items(), key=lambda kv: kv[1].get("linked_at") or 0):
        app = apps.get(app_id)
        linked = profile_pb2.LinkedApp(
            app_id=app_id,
            app_name=app.name if app else "",
            app_type=app.type if app else link.get("app_type", ""),
            external_customer_id=link.get("external_customer_id", ""),
            actions_enabled=bool(app and app.actions_enabled),
        )
        for field in ("linked_at", "refreshed_at"):
            value = ts(link.get(field))
            if value is not None:
                getattr(linked, field).CopyFrom(value)
        if link.get("data"):
            linked.data.CopyFrom(ParseDict(link["data"], lookup_pb2.Customer(), ignore_unknown_fields=True))
        stale = link.get("stale")
        if stale:
            linked.stale.CopyFrom(profile_pb2.Stale(code=stale.get("code", ""), message=stale.get("message", "")))
            since = ts(stale.get("since"))
            if since is not None:
                linked.stale.since.CopyFrom(since)
        out.links.append(linked)
    return out


def app_to_proto(app: App) -> profile_pb2.App:
    out = profile_pb2.App(
        id=app.id,
        type=app.type,
        name=app.name,
        settings=dict(app.settings),
        secrets_set=sorted(app.secrets),
        search_query_attributes=[profile_pb2.Attribute(attribute=a.attribute, label=a.label) for a in app.search_query_attributes],
        search_result_attributes=[profile_pb2.Attribute(attribute=a.attribute, label=a.label) for a in app.search_result_attributes],
        auto_link_fields=list(app.auto_link_fields),
        overwrite_existing_values=app.overwrite_existing_values,
        actions_enabled=app.actions_enabled,
        active=app.active,
    )
    for field, at in (("created_at", app.created_at), ("updated_at", app.updated_at)):
        value = ts(at)
        if value is not None:
            getattr(out, field).CopyFrom(value)
    out.serving.CopyFrom(
        profile_pb2.AdaptorServing(
            enabled=app.serving.enabled,
            path=f"/gladly/v1/apps/{app.id}/lookup",
            username=app.serving.username,
            secrets_set=sorted(app.serving.secrets),
        )
    )
    return out
