"""The BigCommerce sandbox as its connector declares it (``linkmesh_sandboxes.kit``).

Knobs from the environment: ``SANDBOX_RATE_LIMIT_QUOTA`` and ``SANDBOX_RATE_LIMIT_WINDOW_MS``
(the store's window), ``SANDBOX_BIGCOMMERCE_STORES`` (more stores beside the demo store,
each with the demo data: ``hash:token,hash:token``)."""

from __future__ import annotations

import os
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.bigcommerce.data import ACCESS_TOKEN, STORE_HASH
from linkmesh_sandboxes.kit import Sandbox


def create_app() -> web.Application:
    from linkmesh_sandboxes.bigcommerce.app import create_app as create

    extra = []
    for part in filter(None, (p.strip() for p in os.environ.get("SANDBOX_BIGCOMMERCE_STORES", "").split(","))):
        store_hash, sep, token = part.partition(":")
        if not sep or not store_hash or not token:
            raise SystemExit(f"SANDBOX_BIGCOMMERCE_STORES: {part!r} is not hash:token")
        extra.append((store_hash, token))
    return create(
        [(STORE_HASH, ACCESS_TOKEN), *extra],
        rate_limit_quota=int(os.environ.get("SANDBOX_RATE_LIMIT_QUOTA", "150")),
        rate_limit_window_ms=int(os.environ.get("SANDBOX_RATE_LIMIT_WINDOW_MS", "30000")),
    )


def demo_app(base_url: str) -> dict[str, Any]:
    return {
        "type": "bigcommerce",
        "name": "BigCommerce (sandbox)",
        "settings": {"store_hash": STORE_HASH, "api_base_url": base_url},
        "secrets": {"access_token": ACCESS_TOKEN},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}, {"attribute": "phone", "label": "Phone"}],
        "auto_link_fields": ["email", "phone"],
        "actions_enabled": True,
    }


SANDBOX = Sandbox(create_app, demo_app)
