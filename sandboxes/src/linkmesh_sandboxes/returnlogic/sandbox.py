"""The ReturnLogic sandbox as its connector declares it (``linkmesh_sandboxes.kit``).

Knobs from the environment: ``SANDBOX_RATE_LIMIT_PER_SECOND`` (2) and
``SANDBOX_RATE_LIMIT_PER_MINUTE`` (120), the key's published limits."""

from __future__ import annotations

import os
from typing import Any

from aiohttp import web

from linkmesh_sandboxes.kit import Sandbox
from linkmesh_sandboxes.returnlogic.data import API_KEY


def create_app() -> web.Application:
    from linkmesh_sandboxes.returnlogic.app import create_app as create

    return create(
        per_second=int(os.environ.get("SANDBOX_RATE_LIMIT_PER_SECOND", "2")),
        per_minute=int(os.environ.get("SANDBOX_RATE_LIMIT_PER_MINUTE", "120")),
    )


def demo_app(base_url: str) -> dict[str, Any]:
    return {
        "type": "returnlogic",
        "name": "ReturnLogic (sandbox)",
        "settings": {"api_base_url": f"{base_url}/v1"},
        "secrets": {"api_key": API_KEY},
        "search_query_attributes": [{"attribute": "email", "label": "Email"}],
        "search_result_attributes": [
            {"attribute": "name", "label": "Name"},
            {"attribute": "email", "label": "Email"},
            {"attribute": "rma_codes", "label": "RMAs"},
        ],
        "auto_link_fields": ["email"],
        "actions_enabled": True,
    }


SANDBOX = Sandbox(create_app, demo_app)
