"""Protobuf answers → the API's snake_case JSON, with stable shapes."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from linkmesh_core.contact_points import display_phone
from linkmesh_core.proto_dict import message_dict


def to_json(message: Message) -> dict[str, Any]:
    return message_dict(message, with_defaults=True)


def phones_formatted(phones: list[str]) -> list[str]:
    """Each stored number as people write it (``phones`` keeps E.164), in the same order."""
    return [display_phone(p) for p in phones]


def customer_json(message: Message) -> dict[str, Any]:
    out = to_json(message)
    out["phones_formatted"] = phones_formatted(out.get("phones", []))
    for field in ("address", "last_contact_at"):
        out.setdefault(field, None)
    for link in out.get("links", []):
        link.setdefault("stale", None)
        link.setdefault("refreshed_at", None)
    return out


def circuit_json(message: Message) -> dict[str, Any]:
    """An app's health; a time it never had is null."""
    out = to_json(message)
    for field in ("last_success_at", "last_failure_at"):
        out.setdefault(field, None)
    return out


def trace_json(message: Message) -> dict[str, Any]:
    out = to_json(message)
    out.setdefault("request", {})
    out.setdefault("response", None)
    out.setdefault("at", None)
    return out
