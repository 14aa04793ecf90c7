"""Runs a vendor sandbox: ``linkmesh-sandbox bigcommerce --port 8181``.

Knobs can also be set at start from the environment:
``SANDBOX_LATENCY_MS``, ``SANDBOX_RATE_LIMIT_QUOTA``, ``SANDBOX_RATE_LIMIT_WINDOW_MS`` (BigCommerce),
``SANDBOX_RATE_LIMIT_PER_SECOND``, ``SANDBOX_RATE_LIMIT_PER_MINUTE`` (ReturnLogic),
``SANDBOX_BIGCOMMERCE_STORES`` (more BigCommerce stores beside the demo store, each with the
demo data: ``hash:token,hash:token``).
"""

from __future__ import annotations

import argparse
import logging
import os

from aiohttp import web

from linkmesh_sandboxes.knobs import STATE

VENDORS = ("bigcommerce", "magento", "returnlogic", "lookup_adaptor")


def build(vendor: str) -> web.Application:
    if vendor == "bigcommerce":
        from linkmesh_sandboxes.bigcommerce.app import create_app
        from linkmesh_sandboxes.bigcommerce.data import ACCESS_TOKEN, STORE_HASH

        extra = []
        for part in filter(None, (p.strip() for p in os.environ.get("SANDBOX_BIGCOMMERCE_STORES", "").split(","))):
            store_hash, sep, token = part.partition(":")
            if not sep or not store_hash or not token:
                raise SystemExit(f"SANDBOX_BIGCOMMERCE_STORES: {part!r} is not hash:token")
            extra.append((store_hash, token))
        return create_app(
            [(STORE_HASH, ACCESS_TOKEN), *extra],
            rate_limit_quota=int(os.environ.get("SANDBOX_RATE_LIMIT_QUOTA", "150")),
            rate_limit_window_ms=int(os.environ.get("SANDBOX_RATE_LIMIT_WINDOW_MS", "30000")),
        )
    if vendor == "magento":
        from linkmesh_sandboxes.magento.app import create_app as create_magento

        return create_magento()
    if vendor == "returnlogic":
        from linkmesh_sandboxes.returnlogic.app import create_app as create_returnlogic

        return create_returnlogic(per_second=int(os.environ.get("SANDBOX_RATE_LIMIT_PER_SECOND", "2")),
                                  per_minute=int(os.environ.get("SANDBOX_RATE_LIMIT_PER_MINUTE", "120")))
    if vendor == "lookup_adaptor":
        from linkmesh_sandboxes.lookup_adaptor.app import create_app as create_adaptor

        return create_adaptor()
    raise SystemExit(f"unknown vendor {vendor!r}; choose one of {', '.join(VENDORS)}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run a linkmesh vendor sandbox")
    parser.add_argument("vendor", choices=VENDORS)
    parser.add_argument("--host", default=os.environ.get("SANDBOX_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8181")))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    app = build(args.vendor)
    app[STATE].knobs.latency_ms = float(os.environ.get("SANDBOX_LATENCY_MS", "0"))
    print(f"{args.vendor} sandbox listening on http://{args.host}:{args.port}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
