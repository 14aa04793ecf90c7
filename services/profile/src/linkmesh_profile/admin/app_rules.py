"""What makes an app valid, checked without calling its vendor: its name, the settings and
secrets its connector declares (Describe), the fields it searches and auto-links by, the
attributes a search result shows. Every bad field is named at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_profile.connectors.registry import field_names
from linkmesh_profile.model.app import Attribute

if TYPE_CHECKING:
    from linkmesh_profile.model.app import App

QUERY_ATTRIBUTES = ("email", "phone")
FILLED_RESULT_ATTRIBUTES = ("name", "email", "phone", "externalCustomerId")
DEFAULT_RESULT_ATTRIBUTES = (
    Attribute("name", "Name"),
    Attribute("email", "Email"),
    Attribute("phone", "Phone"),
    Attribute("externalCustomerId", "Customer ID"),
)
AUTO_LINK_FIELDS = ("email", "phone")
MAX_NAME = 100


def default_result_attributes(describe: lookup_pb2.DescribeResponse) -> tuple[Attribute, ...]:
    """What every connector fills, then what this one adds (ReturnLogic's RMA codes)."""
    return DEFAULT_RESULT_ATTRIBUTES + tuple(Attribute(a.attribute, a.label) for a in describe.capabilities.result_attributes)


def check_settings(app: App, secret_names: set[str], describe: lookup_pb2.DescribeResponse, errors: dict[str, str]) -> None:
    specs = {s.name: s for s in describe.settings}
    for key in app.settings:
        spec = specs.get(key)
        if spec is None:
            errors[f"settings.{key}"] = f"unknown setting (known: {', '.join(s.name for s in describe.settings if not s.secret)})"
        elif spec.secret:
            errors[f"settings.{key}"] = "is a secret: send it in secrets"
    for key in sorted(secret_names):
        spec = specs.get(key)
        if spec is None or not spec.secret:
            errors[f"secrets.{key}"] = "unknown secret"
    for spec in describe.settings:
        if not spec.required:
            continue
        if spec.secret and spec.name not in secret_names:
            errors[f"secrets.{spec.name}"] = "is required"
        if not spec.secret and not app.settings.get(spec.name, "").strip():
            errors[f"settings.{spec.name}"] = "is required"


def check_attributes(app: App, describe: lookup_pb2.DescribeResponse, errors: dict[str, str]) -> None:
    searchable = field_names(list(describe.capabilities.search_fields))
    if not app.search_query_attributes:
        errors["search_query_attributes"] = "choose at least one of: email, phone"
    seen: set[str] = set()
    for i, item in enumerate(app.search_query_attributes):
        where = f"search_query_attributes[{i}]"
        if item.attribute not in QUERY_ATTRIBUTES:
            errors[f"{where}.attribute"] = "must be email or phone"
        elif item.attribute in seen:
            errors[f"{where}.attribute"] = f"{item.attribute} is listed twice"
        elif item.attribute not in searchable:
            errors[f"{where}.attribute"] = f"{describe.display_name} cannot search by {item.attribute}"
        seen.add(item.attribute)
        if not item.label:
            errors[f"{where}.label"] = "is required"
    seen = set()
    for i, item in enumerate(app.search_result_attributes):
        where = f"search_result_attributes[{i}]"
        if not item.attribute:
            errors[f"{where}.attribute"] = "is required"
        elif item.attribute in seen:
            errors[f"{where}.attribute"] = f"{item.attribute} is listed twice"
        seen.add(item.attribute)
        if not item.label:
            errors[f"{where}.label"] = "is required"
    linkable = field_names(list(describe.capabilities.auto_link_fields))
    for i, field in enumerate(app.auto_link_fields):
        if field not in AUTO_LINK_FIELDS:
            errors[f"auto_link_fields[{i}]"] = "must be email or phone"
        elif field not in linkable:
            errors[f"auto_link_fields[{i}]"] = f"{describe.display_name} cannot auto-link by {field}"
    if len(set(app.auto_link_fields)) != len(app.auto_link_fields):
        errors["auto_link_fields"] = "lists a field twice"


def check_shape(app: App, secret_names: set[str], describe: lookup_pb2.DescribeResponse, errors: dict[str, str]) -> None:
    """Everything that can be checked without calling the vendor."""
    if not app.name:
        errors["name"] = "is required"
    elif len(app.name) > MAX_NAME:
        errors["name"] = f"must be at most {MAX_NAME} characters"
    check_settings(app, secret_names, describe, errors)
    check_attributes(app, describe, errors)
