"""The OpenAPI document's schemas (components): apps, connectors, searches, links, actions, contacts, the lookup debugger."""

from __future__ import annotations

from typing import Any

from linkmesh_gateway.openapi.kit import TS, B, I, S, arr, obj, ref, str_map
from linkmesh_gateway.openapi.schemas import APP_INPUT

APP_SCHEMAS: dict[str, Any] = {
    "App": obj(
        {
            "id": S,
            "type": S,
            "name": S,
            "settings": str_map(),
            "secrets_set": arr(S),
            "search_query_attributes": arr(ref("Attribute")),
            "search_result_attributes": arr(ref("Attribute")),
            "auto_link_fields": arr({"enum": ["email", "phone"]}),
            "overwrite_existing_values": B,
            "actions_enabled": B,
            "active": B,
            "created_at": TS,
            "updated_at": TS,
            "serving": obj({"enabled": B, "path": S, "url": S, "username": S, "secrets_set": arr(S)}),
            "health": ref("CircuitState"),
            "webhooks": {
                "oneOf": [
                    obj(
                        {
                            "state": {"enum": ["active", "not_offered", "needs_setting", "off", "failed", "removed"]},
                            "message": S,
                            "topics": arr(S),
                            "callback_url": S,
                            "checked_at": {"oneOf": [TS, {"type": "null"}]},
                        }
                    ),
                    {"type": "null"},
                ],
                "description": "its vendor's change events: whether linkmesh is subscribed, and to what (null: never asked)",
            },
        }
    ),
    "AppCreate": obj(APP_INPUT, ["type", "name", "search_query_attributes"]),
    "AppUpdate": {**obj({k: v for k, v in APP_INPUT.items() if k != "type"}, []), "minProperties": 1},
    "AppList": obj({"apps": arr(ref("App"))}),
    "SettingSpec": obj(
        {
            "name": S,
            "label": S,
            "required": B,
            "secret": B,
            "hint": S,
            "default_value": S,
            "credentials_destination": {**B, "description": "The app's secrets are sent here: changing it needs them again"},
        }
    ),
    "Connector": obj(
        {
            "type": S,
            "available": B,
            "display_name": S,
            "search_fields": arr(S),
            "auto_link_fields": arr(S),
            "actions": arr(ref("ActionSpec")),
            "settings": arr(ref("SettingSpec")),
            "result_attributes": arr(ref("Attribute")),
            "error": obj({"code": S, "message": S}),
        },
        ["type", "available"],
    ),
    "ConnectorList": obj({"connectors": arr(ref("Connector"))}),
    "SearchRequest": {
        **obj({"app_id": S, "email": S, "phone": S, "order_number": S}, ["app_id"]),
        "description": "at least one of email, phone and order_number (422 naming the three otherwise)",
    },
    "SearchResult": obj(
        {
            "app_id": S,
            "app_name": S,
            "app_type": S,
            "external_customer_id": S,
            "attributes": arr(ref("AttributeValue")),
            "matched": {**S, "description": "the field of the search the record matched: email, phone or order_number"},
            "linked_to": {
                **obj({"customer_id": S, "customer_name": S}),
                "type": ["object", "null"],
                "description": "the customer this record is already linked to (linking it here is refused); null when none",
            },
        }
    ),
    "SearchFailure": obj(
        {
            "app_id": S,
            "app_name": S,
            "app_type": S,
            "code": S,
            "message": S,
            "retry_after_s": {"oneOf": [{"type": "number"}, {"type": "null"}]},
        }
    ),
    "SkippedApp": obj({"app_id": S, "app_name": S, "app_type": S, "reason": S}),
    "SearchTarget": obj({"app_id": S, "app_name": S, "app_type": S, "search_fields": arr(S), "actions_enabled": B}),
    "SearchTargets": obj({"targets": arr(ref("SearchTarget")), "skipped": arr(ref("SkippedApp"))}),
    "SearchResponse": obj({"results": arr(ref("SearchResult")), "failures": arr(ref("SearchFailure")), "skipped": arr(ref("SkippedApp"))}),
    "LinkRequest": obj({"app_id": S, "external_customer_id": S}),
    "ActionRequest": obj(
        {
            "app_id": S,
            "action": S,
            "order_id": S,
            "params": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
            "form_url": {
                **S,
                "description": "an action a linked record offers (its RecordAction.form_url): the values "
                "in params are checked against its form and posted to it; action may be left out",
            },
        },
        ["app_id"],
    ),
    "ActionResult": obj(
        {
            "id": S,
            "app_id": S,
            "action": S,
            "order_id": S,
            "message": S,
            "result": str_map(),
            "replayed": B,
            "customer": ref("Customer"),
            "resolution": {
                "enum": ["", "resolved"],
                "description": "resolved: the first answer was lost (502 "
                "outcome_unknown) and the vendor's own record showed the action had taken effect",
            },
        }
    ),
    "Health": obj({"status": S, "profile": S}, ["status"]),
    "AdaptorErrors": obj({"errors": arr(obj({"message": S, "attr": S, "detail": S}, []))}),
    "AdaptorForm": obj(
        {
            "title": S,
            "submitButton": S,
            "closeButton": S,
            "actionUrl": S,
            "sections": arr(
                obj(
                    {
                        "type": {"enum": ["input"]},
                        "label": S,
                        "attr": S,
                        "hint": S,
                        "defaultValue": S,
                        "input": obj(
                            {
                                "type": {"enum": ["text", "select", "checkbox"]},
                                "optional": B,
                                "placeholder": S,
                                "options": arr(obj({"text": S, "value": S})),
                            },
                            ["type"],
                        ),
                    },
                    ["type", "label", "attr", "input"],
                )
            ),
        }
    ),
    "ContactRequest": obj(
        {"channel": {"enum": ["email", "sms", "chat", "voice", "self_service"]}, "email": S, "phone": S, "name": {**S, "maxLength": 200}},
        ["channel"],
    ),
    "IdentifyRequest": obj({"email": S}),
    "StaleApp": obj({"app_id": S, "app_name": S, "code": S, "message": S}),
    "AppRef": obj({"app_id": S, "app_name": S}, ["app_id", "app_name"]),
    "ContactResult": obj(
        {
            "customer_id": S,
            "created": B,
            "linked": {**arr(S), "description": "ids of the apps this contact linked (linked_apps: with their names)"},
            "refreshed": {**arr(S), "description": "ids of the apps whose data is fresh (refreshed_apps: with their names)"},
            "linked_apps": arr(ref("AppRef")),
            "refreshed_apps": arr(ref("AppRef")),
            "pending_apps": arr(ref("AppRef")),
            "stale": arr(ref("StaleApp")),
            "pending": {**arr(S), "description": "apps whose auto-link a rate limit deferred; completed in the background"},
            "not_linked": arr(
                obj(
                    {
                        "app_id": S,
                        "app_name": S,
                        "reason": S,
                        "code": {
                            **S,
                            "description": "gRPC code name when the search or lookup failed (worth a retry); empty for no unique match",
                        },
                    }
                ),
                "apps auto-link tried and did not link",
            ),
        }
    ),
    "LookupTrace": obj(
        {
            "id": S,
            "app_id": S,
            "customer_id": S,
            "kind": S,
            "request": {"type": "object"},
            "response": {"oneOf": [{"type": "object"}, {"type": "null"}]},
            "code": S,
            "message": S,
            "latency_ms": {"type": "number"},
            "decision": S,
            "reason": S,
            "at": {"oneOf": [TS, {"type": "null"}]},
            "dry_run": B,
            "app_name": {**S, "description": "empty for an app deleted since"},
            "customer_name": {**S, "description": "the name, else an email or phone; empty for none"},
        }
    ),
    "LookupList": obj(
        {
            "lookups": arr(ref("LookupTrace")),
            "circuit": {"oneOf": [ref("CircuitState"), {"type": "null"}], "description": "null when every app is listed"},
            "next_page_token": {**S, "description": "empty on the last page"},
        }
    ),
    "CircuitState": obj(
        {
            "state": {"enum": ["closed", "open", "half_open"]},
            "consecutive_failures": I,
            "last_error": S,
            "retry_in_s": {"type": "number"},
            "last_success_at": {"oneOf": [TS, {"type": "null"}], "description": "as this replica saw it"},
            "last_failure_at": {"oneOf": [TS, {"type": "null"}]},
        }
    ),
    "DebugRequest": obj({"app_id": S, "email": S, "phone": S, "workflow": {"enum": ["autolink", "basic"]}}, ["app_id", "workflow"]),
    "DebugResult": obj({"steps": arr(ref("LookupTrace")), "would_link": B, "reason": S, "external_customer_id": S}),
}
