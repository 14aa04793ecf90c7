"""JSON request bodies → protobuf requests, naming every field of the wrong type."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_gateway.errors import ApiError, invalid

ADDRESS_FIELDS = ("line1", "line2", "city", "region", "postal_code", "country_code", "company")
CUSTOMER_FIELDS = ("name", "emails", "phones", "address", "custom_attributes")
APP_FIELDS = (
    "type",
    "name",
    "settings",
    "secrets",
    "search_query_attributes",
    "search_result_attributes",
    "auto_link_fields",
    "overwrite_existing_values",
    "actions_enabled",
    "active",
    "serving",
)
SERVING_FIELDS = ("enabled", "signing_key", "username", "password")


MAX_DEPTH = 8  # the deepest body the API takes is 3 levels; anything far deeper is refused before it is walked
MAX_STRING = 2000  # one string value; fields with a domain limit (name 200, email 254) say so themselves


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON object body: present, valid JSON, not absurdly nested, and every
    string (key or value) valid Unicode of a sane length; else 4xx naming the field."""
    if not request.can_read_body:
        raise invalid({"body": "send a JSON object with the request's fields"})
    try:
        body = await request.json()
    except RecursionError:
        raise invalid({"body": f"is nested too deeply (at most {MAX_DEPTH} levels)"}) from None
    except ValueError:
        raise ApiError(400, "invalid_json", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "the request body must be a JSON object")
    errors: dict[str, str] = {}
    _check_strings(body, "", 0, errors)
    if errors:
        raise invalid(errors)
    return body


def _check_strings(value: Any, path: str, depth: int, errors: dict[str, str]) -> None:
    if depth > MAX_DEPTH:
        errors[path or "body"] = f"is nested too deeply (at most {MAX_DEPTH} levels)"
        return
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else str(key)
            if not valid_text(key):
                errors[_printable(path or "body")] = "has a key that is not valid text (a lone surrogate or a NUL character)"
                continue
            _check_strings(item, child, depth + 1, errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_strings(item, f"{path}[{i}]", depth + 1, errors)
    elif isinstance(value, str):
        if not valid_text(value, allow_nul=True):
            errors[_printable(path)] = "is not valid text (it holds a lone surrogate)"
        elif len(value) > MAX_STRING:
            errors[_printable(path)] = f"must be at most {MAX_STRING} characters"


def valid_text(text: str, *, allow_nul: bool = False) -> bool:
    """Encodable as UTF-8 (no lone surrogates) and, unless allowed, without NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return allow_nul or "\x00" not in text


def _printable(path: str) -> str:
    """A field path safe to put in an answer (a bad key may itself be the bad text)."""
    return path.encode("utf-8", "backslashreplace").decode("utf-8")[:200]


class Reader:
    """Reads typed fields out of a JSON object, collecting every error."""

    def __init__(self, body: dict[str, Any], allowed: tuple[str, ...]) -> None:
        self.body = body
        self.errors: dict[str, str] = {k: "unknown field" for k in body if k not in allowed}

    def text(self, key: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.body.get(key)
        if value is None:
            if required:
                self.errors[key] = "is required"
            return ""
        if not isinstance(value, str):
            self.errors[key] = "must be a string"
            return ""
        if required and not value.strip():
            self.errors[key] = "is required"
        if max_length is not None and len(value.strip()) > max_length:
            self.errors[key] = f"must be at most {max_length} characters"
        return value

    def bool(self, key: str) -> bool | None:
        value = self.body.get(key)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.errors[key] = "must be true or false"
            return None
        return value

    def str_list(self, key: str) -> list[str]:
        value = self.body.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.errors[key] = "must be a list of strings"
            return []
        return value

    def str_map(self, key: str) -> dict[str, str]:
        value = self.body.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            self.errors[key] = "must be an object of string values"
            return {}
        return value

    def attributes(self, key: str) -> list[profile_pb2.Attribute]:
        value = self.body.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.errors[key] = "must be a list of {attribute, label}"
            return []
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(item.get("attribute"), str) or not isinstance(item.get("label", ""), str):
                self.errors[f"{key}[{i}]"] = "must be {attribute, label} with string values"
                continue
            out.append(profile_pb2.Attribute(attribute=item["attribute"], label=item.get("label", "")))
        return out

    def address(self, key: str) -> lookup_pb2.Address | None:
        value = self.body.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.errors[key] = "must be an object"
            return None
        fields = {}
        for k, v in value.items():
            if k not in ADDRESS_FIELDS:
                self.errors[f"{key}.{k}"] = f"unknown field (known: {', '.join(ADDRESS_FIELDS)})"
            elif not isinstance(v, str):
                self.errors[f"{key}.{k}"] = "must be a string"
            else:
                fields[k] = v
        return lookup_pb2.Address(**fields)

    def done(self) -> None:
        if self.errors:
            raise invalid(self.errors)


def customer_input(body: dict[str, Any]) -> tuple[profile_pb2.CustomerInput, list[str]]:
    """The customer fields in ``body`` and which of them were given."""
    r = Reader(body, CUSTOMER_FIELDS)
    data = profile_pb2.CustomerInput(
        name=r.text("name"), emails=r.str_list("emails"), phones=r.str_list("phones"), custom_attributes=r.str_map("custom_attributes")
    )
    address = r.address("address")
    if address is not None:
        data.address.CopyFrom(address)
    r.done()
    return data, [k for k in CUSTOMER_FIELDS if k in body]


def app_input(body: dict[str, Any], *, create: bool) -> tuple[profile_pb2.AppInput, list[str]]:
    r = Reader(body, APP_FIELDS)
    data = profile_pb2.AppInput(
        type=r.text("type"),
        name=r.text("name"),
        settings=r.str_map("settings"),
        secrets=r.str_map("secrets"),
        search_query_attributes=r.attributes("search_query_attributes"),
        search_result_attributes=r.attributes("search_result_attributes"),
        auto_link_fields=r.str_list("auto_link_fields"),
        overwrite_existing_values=bool(r.bool("overwrite_existing_values")),
        actions_enabled=bool(r.bool("actions_enabled")),
    )
    active = r.bool("active")
    if active is not None:
        data.active = active
    if "serving" in body:
        raw = body["serving"]
        if not isinstance(raw, dict):
            r.errors["serving"] = "must be an object"
        else:
            s = Reader(raw, SERVING_FIELDS)
            data.serving.CopyFrom(
                profile_pb2.AdaptorServingInput(
                    enabled=bool(s.bool("enabled")),
                    signing_key=s.text("signing_key"),
                    username=s.text("username"),
                    password=s.text("password"),
                )
            )
            r.errors.update({f"serving.{k}": v for k, v in s.errors.items()})
    if not create and "type" in body:
        r.errors["type"] = "cannot be changed; create a new app"
    r.done()
    return data, [k for k in APP_FIELDS if k in body and k != "type"]
