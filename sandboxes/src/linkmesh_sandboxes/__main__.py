"""Runs a vendor sandbox: ``linkmesh-sandbox bigcommerce --port 8181``.

The vendors are the installed connectors that declare a sandbox (``linkmesh.connectors``
entry points, ``linkmesh_core.connector_spec``), and the sandboxes this package holds
(``linkmesh_sandboxes.<type>.sandbox``) when their connector is not installed, as in a
sandbox's own image: those listen on ``--port`` or ``SANDBOX_PORT``, which the image sets.
Knobs can also be set at start from the
environment: ``SANDBOX_LATENCY_MS`` for every sandbox, and each sandbox's own (see its
``sandbox.py``).
"""

from __future__ import annotations

import argparse
import os
import pkgutil
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path

import structlog
from aiohttp import web

import linkmesh_sandboxes
from linkmesh_core.connector_spec import discover
from linkmesh_core.logging import configure_logging
from linkmesh_sandboxes.kit import Sandbox, keep_state
from linkmesh_sandboxes.knobs import STATE


def sandbox_types() -> list[str]:
    """The declared sandboxes, then this package's own that no installed connector declares."""
    declared = {t for t, spec in discover().items() if spec.sandbox}
    own = {m.name for m in pkgutil.iter_modules(linkmesh_sandboxes.__path__) if m.ispkg}
    return sorted(declared | {t for t in own if find_spec(f"linkmesh_sandboxes.{t}.sandbox")})


def load(vendor: str) -> Sandbox:
    spec = discover().get(vendor)
    if spec is not None and spec.sandbox:
        return spec.load_sandbox()
    return import_module(f"linkmesh_sandboxes.{vendor}.sandbox").SANDBOX


def sandboxes() -> dict[str, Sandbox]:
    return {t: load(t) for t in sandbox_types()}


def build(vendor: str) -> web.Application:
    known = sandbox_types()
    if vendor not in known:
        raise SystemExit(f"unknown vendor {vendor!r}; choose one of {', '.join(known)}")
    return load(vendor).create_app()


def main() -> None:
    known = sandbox_types()
    parser = argparse.ArgumentParser(description="Run a linkmesh vendor sandbox")
    parser.add_argument("vendor", choices=known)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument(
        "--state-file",
        default=os.environ.get("SANDBOX_STATE_FILE", ""),
        help="keep the vendor data in this file across restarts (default: SANDBOX_STATE_FILE, else demo data on every start)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("SANDBOX_PORT", "0")) or None,
        help="default: SANDBOX_PORT, else the port its connector declares",
    )
    args = parser.parse_args()
    spec = discover().get(args.vendor)
    port = args.port or (spec.sandbox_port if spec is not None else None)
    if not port:
        parser.error(f"--port (or SANDBOX_PORT) is needed: no installed connector declares the {args.vendor} sandbox's port")
    configure_logging(f"sandbox-{args.vendor.replace('_', '-')}", os.environ.get("SANDBOX_LOG_LEVEL", "INFO"))
    app = build(args.vendor)
    app[STATE].knobs.latency_ms = float(os.environ.get("SANDBOX_LATENCY_MS", "0"))
    if args.state_file:
        keep_state(app, Path(args.state_file))
    structlog.get_logger("linkmesh.sandbox").info("sandbox_listening", vendor=args.vendor, url=f"http://{args.host}:{port}")
    web.run_app(app, host=args.host, port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
