"""MongoDB documents ↔ protobuf messages."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from google.protobuf.timestamp_pb2 import Timestamp
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.customer_json import customer_json
from linkmesh_core.proto_dict import message_dict
from linkmesh_core.proto_parse import dict_message
from linkmesh_core.stored_json import api_json

if TYPE_CHECKING:
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Customer, Link

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ts(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    out = Timestamp()
    out.FromDatetime(value)
    return out


def message_to_doc(message: Any) -> dict[str, Any]:
    return message_dict(message)


def address_from_doc(doc: Mapping[str, Any] | None) -> lookup_pb2.Address | None:
    return dict_message(doc, lookup_pb2.Address()) if doc else None


def link_to_proto(link: Link, app: App | None, *, with_data: bool = True) -> profile_pb2.LinkedApp:
    linked = profile_pb2.LinkedApp(
        app_id=link.app_id,
        app_name=app.name if app else "",
        app_type=app.type if app else link.app_type,
        external_customer_id=link.external_customer_id,
        actions_enabled=bool(app and app.actions_enabled),
        linked_at=ts(link.linked_at),
        refreshed_at=ts(link.refreshed_at),
    )
    if link.data and with_data:
        linked.data.SetInParent()
        dict_message(link.data, linked.data)  # filled in place: no copy of every order
    if link.stale is not None:
        linked.stale.CopyFrom(profile_pb2.Stale(code=link.stale.code, message=link.stale.message, since=ts(link.stale.since)))
    return linked


def customer_to_proto(customer: Customer, apps: dict[str, App], *, with_data: bool = True) -> profile_pb2.Customer:
    """The customer as the API answers it (each link's data left out when not ``with_data``)."""
    out = profile_pb2.Customer(
        id=customer.id,
        name=customer.name,
        emails=customer.emails,
        phones=customer.phones,
        custom_attributes=customer.custom_attributes,
        sources={**customer.field_sources, **{f"custom_attributes.{k}": v for k, v in customer.attribute_sources.items()}},
        address=address_from_doc(customer.address),
        created_at=ts(customer.created_at),
        updated_at=ts(customer.updated_at),
        last_contact_at=ts(customer.last_contact_at),
    )
    out.links.extend(link_to_proto(link, apps.get(link.app_id), with_data=with_data) for link in _by_age(customer))
    return out


def customer_view(customer: Customer, apps: dict[str, App]) -> dict[str, Any]:
    """The customer as the HTTP API's JSON (GetCustomerJson): ``customer_json`` of the message
    without the links' data, each link's data written from its stored document in one pass
    (``api_json``): what ``customer_json(customer_to_proto(...))`` answers, without making
    every order a message and a dict again."""
    out = customer_json(customer_to_proto(customer, apps, with_data=False))
    for link, shown in zip(_by_age(customer), out["links"], strict=True):
        if link.data:
            shown["data"] = api_json(link.data, lookup_pb2.Customer)
    return out


def _by_age(customer: Customer) -> list[Link]:
    return sorted(customer.links.values(), key=lambda link: link.linked_at or EPOCH)


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
    hooks = app.webhooks
    if hooks is not None:
        out.webhooks.CopyFrom(
            profile_pb2.WebhookState(
                state=hooks.state,
                message=hooks.message,
                topics=hooks.topics,
                callback_url=hooks.callback_url,
                checked_at=ts(hooks.checked_at),
            )
        )
    out.serving.CopyFrom(
        profile_pb2.AdaptorServing(
            enabled=app.serving.enabled,
            path=f"/gladly/v1/apps/{app.id}/lookup",
            username=app.serving.username,
            secrets_set=sorted(app.serving.secrets),
        )
    )
    return out
