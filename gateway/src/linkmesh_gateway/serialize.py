"""Protobuf answers → the API's snake_case JSON, with stable shapes."""

from __future__ import annotations

from typing import Any

from google.protobuf.message import Message

from linkmesh_core.customer_json import customer_json, phones_formatted
from linkmesh_core.proto_dict import message_dict

__all__ = ["circuit_json", "customer_json", "phones_formatted", "to_json", "trace_json"]


def to_json(message: Message) -> dict[str, Any]:
    return message_dict(message, with_defaults=True)


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
