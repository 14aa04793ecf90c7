"""The custom lookup adaptor sandbox (a Gladly Lookup Adaptor) as its connector declares it."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from linkmesh_sandboxes.kit import Sandbox
from linkmesh_sandboxes.lookup_adaptor.data import PASSWORD, SIGNING_KEY, USERNAME


def create_app() -> web.Application:
    from linkmesh_sandboxes.lookup_adaptor.app import create_app as create

    return create()


def demo_app(base_url: str) -> dict[str, Any]:
    return {
        "type": "lookup_adaptor",
        "name": "Trailhead Club (custom lookup adaptor)",
        "settings": {"url": f"{base_url}/lookup", "username": USERNAME},
        "secrets": {"signing_key": SIGNING_KEY, "password": PASSWORD},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "phone", "label": "Phone"}],
        "auto_link_fields": ["email", "phone"],
        "actions_enabled": True,
    }


SANDBOX = Sandbox(create_app, demo_app)
