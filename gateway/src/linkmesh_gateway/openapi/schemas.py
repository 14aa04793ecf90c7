"""The OpenAPI document's schemas (components): errors, callers, API keys, the audit log, customers and what is linked to them."""

from __future__ import annotations

from typing import Any

from linkmesh_gateway.openapi.kit import TS, B, I, S, arr, obj, ref, str_map

APP_INPUT: dict[str, Any] = {
    "type": S,
    "name": {**S, "maxLength": 100},
    "settings": str_map(),
    "secrets": {**str_map(), "writeOnly": True},
    "search_query_attributes": {**arr(ref("Attribute")), "minItems": 1},
    "search_result_attributes": arr(ref("Attribute")),
    "auto_link_fields": arr({"enum": ["email", "phone"]}),
    "overwrite_existing_values": B,
    "actions_enabled": B,
    "active": B,
    "serving": {
        **obj({"enabled": B, "signing_key": {**S, "writeOnly": True}, "username": S, "password": {**S, "writeOnly": True}}, []),
        "description": "Serve this app as a Gladly-compatible lookup adaptor at serving.url: Gladly-Authorization signed with "
        "signing_key (write-only, at least 16 characters), optional HTTP Basic. An empty signing_key or "
        "password keeps the one set.",
    },
}

API_KEY: dict[str, Any] = {
    "id": S,
    "name": S,
    "role": S,
    "prefix": S,
    "created_at": TS,
    "created_by": ref("Actor"),
    "expires_at": TS,
    "last_used_at": TS,
    "revoked_at": TS,
    "revoked_by": ref("Actor"),
    "acts_for_others": B,
    "rate_limit_per_minute": I,
}
API_KEY_REQUIRED = ["id", "name", "role", "prefix", "created_at", "acts_for_others", "rate_limit_per_minute"]

SCHEMAS: dict[str, Any] = {
    "Error": obj({"error": obj({"code": S, "message": S, "fields": str_map()})}),
    "Problem": {
        **obj(
            {
                "type": {**S, "description": "urn:linkmesh:problem:<code>"},
                "title": S,
                "status": I,
                "detail": S,
                "instance": S,
                "code": {**S, "description": "the same code as error.code of the envelope"},
                "fields": {**str_map(), "description": "each invalid field and why"},
            },
            closed=False,
        ),
        "description": "RFC 9457 problem details, answered instead of Error to a caller that sends Accept: application/problem+json",
    },
    "Actor": obj(
        {"kind": {"enum": ["user", "api_key", "bootstrap", "adaptor", "service"]}, "id": S, "name": S, "role": S, "on_behalf_of": S},
        ["kind", "id", "name", "role"],
    ),
    "AuthConfig": obj(
        {
            "oidc": {
                "oneOf": [
                    {"type": "null"},
                    obj(
                        {
                            "issuer": S,
                            "client_id": S,
                            "scope": S,
                            "extra_params": str_map(),
                            "authorization_endpoint": S,
                            "token_endpoint": S,
                            "end_session_endpoint": S,
                            "error": {**S, "description": "Set when the provider's discovery document could not be read"},
                        },
                        ["issuer", "client_id", "scope", "extra_params"],
                    ),
                ]
            },
            "api_keys": B,
            "frame_ancestors": arr(
                S,
                "origins that may show the console in a frame (GATEWAY_FRAME_ANCESTORS); the framed console reads messages from these only",
            ),
        }
    ),
    "ApiKeyInput": obj(
        {
            "name": {**S, "maxLength": 100},
            "role": {"enum": ["admin", "agent", "developer"]},
            "expires_at": TS,
            "acts_for_others": B,
            "rate_limit_per_minute": {"type": "integer", "minimum": 0},
        },
        ["name", "role"],
    ),
    "ApiKey": obj(API_KEY, API_KEY_REQUIRED),
    "CreatedApiKey": obj({**API_KEY, "secret": {**S, "description": "lmk_<id>_<secret>: shown once"}}, [*API_KEY_REQUIRED, "secret"]),
    "ApiKeyList": obj({"api_keys": arr(ref("ApiKey"))}),
    "AuditEntry": obj(
        {
            "id": S,
            "at": TS,
            "actor": ref("Actor"),
            "action": S,
            "customer_id": S,
            "app_id": S,
            "order_id": S,
            "api_key_id": S,
            "request_id": S,
            "outcome": S,
            "message": S,
            "details": str_map(),
            "customer_name": S,
            "app_name": S,
        }
    ),
    "AuditPage": obj({"entries": arr(ref("AuditEntry")), "next_page_token": S}),
    "Attribute": obj({"attribute": S, "label": S}),
    "AttributeValue": obj({"attribute": S, "label": S, "value": S}),
    "Address": obj({k: S for k in ("line1", "line2", "city", "region", "postal_code", "country_code", "company")}),
    "Money": obj({"amount": {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}, "currency": S}),
    "Phone": obj({"number": S, "type": S}),
    "Shipment": obj(
        {
            "id": S,
            "method": S,
            "carrier": S,
            "tracking_number": S,
            "tracking_url": S,
            "shipped_at": TS,
            "delivery": {
                "enum": [
                    "",
                    "in_transit",
                    "out_for_delivery",
                    "delivered",
                    "attempted_delivery",
                    "delayed",
                    "failed",
                    "ready_for_pickup",
                    "picked_up",
                ],
                "description": "where the parcel is, where the vendor tells; empty when it does not",
            },
            "delivered_at": TS,
        },
        ["id", "method", "carrier", "tracking_number", "tracking_url", "delivery"],
    ),
    "OrderLine": obj(
        {"id": S, "name": S, "sku": S, "unit_price": ref("Money"), "quantity": I, "product_url": S},
        ["id", "name", "sku", "quantity", "product_url"],
    ),
    "Order": obj(
        {
            "id": S,
            "number": S,
            "admin_url": S,
            "total": ref("Money"),
            "discount": ref("Money"),
            "created_at": TS,
            "status": S,
            "fulfilled": B,
            "shipments": arr(ref("Shipment")),
            "lines": arr(ref("OrderLine")),
            "partial": arr(
                {"enum": ["shipments", "lines", "product_links"]},
                "Parts of the order the connector could not read to their end in time: what is shown of them is partial.",
            ),
            "actions": arr(
                ref("RecordAction"),
                "Actions this order offers (a custom lookup adaptor's): open one's form with "
                "GET /api/v1/customers/{customer_id}/action-form",
            ),
        },
        ["id", "number", "admin_url", "status", "fulfilled", "shipments", "lines", "partial", "actions"],
    ),
    "RecordAction": obj({"name": S, "form_url": S}),
    "Transaction": obj(
        {"type": S, "title": S, "fields": arr(ref("CustomAttribute")), "created_at": TS, "actions": arr(ref("RecordAction"))},
        ["type", "title", "fields", "actions"],
    ),
    "FormChoice": obj({"label": S, "value": S}),
    "FormField": obj(
        {
            "name": S,
            "label": S,
            "type": {"enum": ["string", "integer", "decimal", "boolean", "select", "lines", "note"]},
            "options": arr(S),
            "required": B,
            "hint": S,
            "default_value": {**S, "description": "what the vendor does when no value is sent; a boolean's is true or false"},
            "choices": arr(ref("FormChoice")),
            "placeholder": S,
            "min_value": {**S, "description": "least value of an integer or decimal (ASCII digits); empty: the default"},
            "max_value": {**S, "description": "greatest value of an integer or decimal, or of each line's quantity"},
        }
    ),
    "ActionForm": obj({"title": S, "submit_label": S, "close_label": S, "action_url": S, "fields": arr(ref("FormField"))}),
    "ActionSpec": obj(
        {
            "name": S,
            "label": S,
            "fields": arr(ref("FormField")),
            "order_required": B,
            "effect": {**S, "description": "what the action does at the vendor, in money and goods, to say before it runs"},
        },
        ["name", "label", "fields", "order_required", "effect"],
    ),
    "ReturnItem": obj({"name": S, "sku": S, "quantity": I, "reason": S}),
    "Return": obj(
        {
            "id": S,
            "code": S,
            "status": S,
            "order_id": S,
            "created_at": TS,
            "items": arr(ref("ReturnItem")),
            "refund_total": ref("Money"),
            "exchange_total": ref("Money"),
            "store_credit": ref("Money"),
            "return_shipment": ref("Shipment"),
            "admin_url": S,
        },
        ["id", "code", "status", "order_id", "items", "admin_url"],
    ),
    "CustomAttribute": obj({"key": S, "label": S, "value": S, "url": S}),
    "Link": obj({"label": S, "url": S}),
    "ExternalCustomer": obj(
        {
            "external_id": S,
            "name": S,
            "first_name": S,
            "last_name": S,
            "emails": arr(S),
            "phones": arr(ref("Phone")),
            "address": ref("Address"),
            "customer_since": TS,
            "admin_url": S,
            "custom_attributes": arr(ref("CustomAttribute")),
            "orders": arr(ref("Order")),
            "returns": arr(ref("Return")),
            "links": arr(ref("Link")),
            "partial": arr(
                {"enum": ["orders", "returns"]},
                "Lists the connector could not read to their end in time: what is shown of them is partial.",
            ),
            "actions": arr(ref("RecordAction"), "Actions this customer's record offers (a custom lookup adaptor's)"),
            "transactions": arr(ref("Transaction"), "Records that are neither orders nor returns (subscriptions, flights, stays...)"),
        },
        [
            "external_id",
            "name",
            "first_name",
            "last_name",
            "emails",
            "phones",
            "admin_url",
            "custom_attributes",
            "orders",
            "returns",
            "links",
            "partial",
            "actions",
            "transactions",
        ],
    ),
    "Stale": obj({"code": S, "message": S, "since": TS}, ["code", "message"]),
    "LinkedApp": obj(
        {
            "app_id": S,
            "app_name": S,
            "app_type": S,
            "external_customer_id": S,
            "linked_at": TS,
            "refreshed_at": {"oneOf": [TS, {"type": "null"}]},
            "data": ref("ExternalCustomer"),
            "stale": {"oneOf": [ref("Stale"), {"type": "null"}]},
            "actions_enabled": B,
        },
        ["app_id", "app_name", "app_type", "external_customer_id", "refreshed_at", "stale", "actions_enabled"],
    ),
    "Customer": obj(
        {
            "id": S,
            "name": S,
            "emails": arr(S),
            "phones": arr({"type": "string", "pattern": r"^\+[1-9]\d{1,14}$"}),
            "phones_formatted": arr(S, "each of phones as people write it (+1 415-555-0101), in the same order"),
            "address": {"oneOf": [ref("Address"), {"type": "null"}]},
            "custom_attributes": str_map(),
            "links": arr(ref("LinkedApp")),
            "created_at": TS,
            "updated_at": TS,
            "last_contact_at": {"oneOf": [TS, {"type": "null"}], "description": "when the customer last contacted in (to the minute)"},
            "sources": {
                **str_map(),
                "description": "which app each pulled value came from: name, address, custom_attributes.<key> → app id",
            },
        }
    ),
    "CustomerInput": {
        **obj(
            {
                "name": {**S, "maxLength": 200},
                "emails": arr(S),
                "phones": arr(S),
                "address": ref("Address"),
                "custom_attributes": str_map(),
            },
            [],
        ),
        "minProperties": 1,
    },
    "CustomerList": obj({"customers": arr(ref("Customer"))}),
    "CustomerDirectory": obj(
        {
            "customers": arr(
                obj(
                    {
                        "id": S,
                        "name": S,
                        "emails": arr(S),
                        "phones": arr(S),
                        "phones_formatted": arr(S, "each of phones as people write it, in the same order"),
                        "linked_apps": arr(S, "names of the linked apps"),
                        "last_contact_at": TS,
                        "matched": {"enum": ["recent", "name", "email", "phone", "order"]},
                    },
                    ["id", "name", "emails", "phones", "phones_formatted", "linked_apps", "matched"],
                )
            ),
            "next_page_token": {**S, "description": "empty on the last page"},
        },
        ["customers", "next_page_token"],
    ),
}
