"""What a vendor sandbox declares for the tools that run it (``linkmesh-sandbox``,
``make run``, the end-to-end stack): named by its connector's ``ConnectorSpec.sandbox``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass(frozen=True)
class Sandbox:
    """``create_app``: the sandbox with its demo data, its knobs read from the environment
    (``SANDBOX_*``). ``demo_app(base_url)``: the body of ``POST /api/v1/apps`` for an app
    pointed at a sandbox answering at ``base_url`` (its secrets are the sandbox's demo
    secrets, which the tests look for in every service's logs). ``ready_path``: answers
    200 once it serves."""

    create_app: Callable[[], web.Application]
    demo_app: Callable[[str], dict[str, Any]]
    ready_path: str = "/__sandbox/knobs"
