"""The Magento sandbox as its connector declares it (``linkmesh_sandboxes.kit``)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from linkmesh_sandboxes.kit import Sandbox
from linkmesh_sandboxes.magento.data import ACCESS_TOKEN


def create_app() -> web.Application:
    from linkmesh_sandboxes.magento.app import create_app as create

    return create()


def demo_app(base_url: str) -> dict[str, Any]:
    return {
        "type": "magento",
        "name": "Magento (sandbox)",
        "settings": {"api_base_url": base_url, "store_code": "default", "coupon_rule_id": "1"},
        "secrets": {"access_token": ACCESS_TOKEN},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}],
        "auto_link_fields": ["email"],
        "actions_enabled": True,
    }


SANDBOX = Sandbox(create_app, demo_app)
