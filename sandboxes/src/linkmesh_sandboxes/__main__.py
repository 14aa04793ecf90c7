"""Runs a vendor sandbox: ``linkmesh-sandbox bigcommerce --port 8181``.

The vendors are the installed connectors that declare a sandbox (``linkmesh.connectors``
entry points, ``linkmesh_core.connector_spec``). Knobs can also be set at start from the
environment: ``SANDBOX_LATENCY_MS`` for every sandbox, and each sandbox's own (see its
``sandbox.py``).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import structlog
from aiohttp import web

from linkmesh_core.connector_spec import discover
from linkmesh_core.logging import configure_logging
from linkmesh_sandboxes.kit import Sandbox, keep_state
from linkmesh_sandboxes.knobs import STATE


def sandboxes() -> dict[str, Sandbox]:
    return {t: spec.load_sandbox() for t, spec in discover().items() if spec.sandbox}


def build(vendor: str) -> web.Application:
    known = sandboxes()
    if vendor not in known:
        raise SystemExit(f"unknown vendor {vendor!r}; choose one of {', '.join(known)}")
    return known[vendor].create_app()


def main() -> None:
    known = sorted(t for t, spec in discover().items() if spec.sandbox)
    parser = argparse.ArgumentParser(description="Run a linkmesh vendor sandbox")
    parser.add_argument("vendor", choices=known)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--state-file", default=os.environ.get("SANDBOX_STATE_FILE", ""),
                        help="keep the vendor data in this file across restarts (default: SANDBOX_STATE_FILE, else demo data on every start)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "0")) or None,
                        help="default: SANDBOX_PORT, else the port its connector declares")
    args = parser.parse_args()
    port = args.port or discover()[args.vendor].sandbox_port
    configure_logging(f"sandbox-{args.vendor.replace('_', '-')}", os.environ.get("SANDBOX_LOG_LEVEL", "INFO"))
    app = build(args.vendor)
    app[STATE].knobs.latency_ms = float(os.environ.get("SANDBOX_LATENCY_MS", "0"))
    if args.state_file:
        keep_state(app, Path(args.state_file))
    structlog.get_logger("linkmesh.sandbox").info("sandbox_listening", vendor=args.vendor, url=f"http://{args.host}:{port}")
    web.run_app(app, host=args.host, port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
