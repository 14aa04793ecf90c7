"""Reading an app's settings inside a connector: the checks every connector
repeats, each answering a per-field problem."""

from __future__ import annotations

import re

from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.destinations import url_problem

REGION_RE = re.compile(r"[A-Za-z]{2}")


def setting(app: lookup_pb2.AppContext, name: str, default: str = "") -> str:
    return app.settings.get(name, "").strip() or default


def check_url(app: lookup_pb2.AppContext, name: str, errors: dict[str, str], *, default: str = "", required: bool = False) -> str:
    """The URL setting ``name`` (or ``default``), noting in ``errors`` when it is missing, not
    http(s) or carries credentials (where the app's destination may point is checked on the
    address connected to, by the vendor client)."""
    value = setting(app, name, default)
    if not value:
        if required:
            errors[name] = "is required"
    elif (problem := url_problem(value)) is not None:
        errors[name] = problem
    return value


def check_region(app: lookup_pb2.AppContext, errors: dict[str, str]) -> None:
    if not REGION_RE.fullmatch(setting(app, "default_region", "US")):
        errors["default_region"] = "must be a two-letter country code"


def region_of(app: lookup_pb2.AppContext) -> str:
    """The region phone numbers without a country code are read in."""
    return setting(app, "default_region", "US").upper()


def check_secret(app: lookup_pb2.AppContext, name: str, errors: dict[str, str]) -> str:
    value = app.secrets.get(name, "").strip()
    if not value:
        errors[name] = "is required"
    return value
