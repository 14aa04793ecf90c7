"""The Shopify sandbox as its connector declares it (``linkmesh_sandboxes.kit``).

Knobs from the environment: ``SANDBOX_SHOPIFY_BUCKET`` (1000 points) and
``SANDBOX_SHOPIFY_REFILL_MS`` (20000: the bucket refills at 50 points a second)."""

from __future__ import annotations

import os
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.kit import Sandbox
from linkmesh_sandboxes.shopify.data import ACCESS_TOKEN, CLIENT_SECRET, SHOP


def create_app() -> web.Application:
    from linkmesh_sandboxes.shopify.app import create_app as create

    return create(
        bucket=int(os.environ.get("SANDBOX_SHOPIFY_BUCKET", "1000")), refill_ms=int(os.environ.get("SANDBOX_SHOPIFY_REFILL_MS", "20000"))
    )


def demo_app(base_url: str) -> dict[str, Any]:
    return {
        "type": "shopify",
        "name": "Shopify (sandbox)",
        "settings": {"shop": SHOP, "api_base_url": base_url},
        "secrets": {"access_token": ACCESS_TOKEN, "client_secret": CLIENT_SECRET},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "phone", "label": "Phone"}],
        "auto_link_fields": ["email", "phone"],
        "actions_enabled": True,
    }


SANDBOX = Sandbox(create_app, demo_app)
