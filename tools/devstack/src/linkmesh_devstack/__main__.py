"""``python -m linkmesh_devstack run``: the whole system on embedded defaults (make run)."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from linkmesh_devstack.stack import Stack

ROOT = Path(__file__).resolve().parents[4]


def run(args: argparse.Namespace) -> int:
    if args.free_ports:
        stack = Stack(base_dir=Path(args.data_dir).resolve(), capture_logs=False)
    else:
        stack = Stack(
            base_dir=Path(args.data_dir).resolve(), capture_logs=False,
            gateway_port=int(os.environ.get("GATEWAY_PORT", "8080")), profile_port=50051,
            connector_ports={"bigcommerce": 50061}, sandbox_ports={"bigcommerce": 8181}, mongo_port=27018,
        )
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    print(f"linkmesh: starting (data in {stack.base_dir}) ...", flush=True)
    try:
        stack.start()
        apps = stack.ensure_demo_apps()
    except KeyboardInterrupt:
        stack.stop()
        return 130
    except Exception as exc:
        print(f"linkmesh: could not start: {exc}", file=sys.stderr)
        stack.stop()
        return 1
    assert stack.mongo is not None
    print(
        "\nlinkmesh is running\n"
        f"  gateway       {stack.gateway_url}   (OpenAPI: {stack.gateway_url}/api/v1/openapi.json)\n"
        f"  profile       gRPC 127.0.0.1:{stack.profile_port}\n"
        f"  connector     BigCommerce gRPC 127.0.0.1:{stack.connector_ports['bigcommerce']}\n"
        f"  MongoDB       {stack.mongo.kind} at {stack.mongo.uri}\n"
        f"  sandbox       BigCommerce at {stack.sandbox_url('bigcommerce')}\n"
        f"  demo apps     {', '.join(a['name'] for a in apps)}\n"
        "  tokens        " + "\n                ".join(stack.tokens.split(",")) + "\n"
        f"  try           curl -s -H 'Authorization: Bearer {stack.token('agent')}' '{stack.gateway_url}/api/v1/customers?email=jane.smith@example.com'\n"
        "Press Ctrl-C to stop.\n",
        flush=True,
    )
    try:
        while not stopping:
            for service in stack.services.values():
                if not service.running():
                    print(f"linkmesh: {service.name} stopped unexpectedly; stopping everything", file=sys.stderr)
                    stopping = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    print("\nlinkmesh: stopping ...", flush=True)
    stack.stop()
    print("linkmesh: stopped", flush=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="linkmesh_devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start the whole system on embedded defaults")
    run_parser.add_argument("--data-dir", default=str(ROOT / "var"), help="where MongoDB data, the secret key and logs live")
    run_parser.add_argument("--free-ports", action="store_true", help="use any free ports instead of the usual ones")
    args = parser.parse_args()
    sys.exit(run(args))


if __name__ == "__main__":
    main()
