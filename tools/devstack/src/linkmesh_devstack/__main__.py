"""``python -m linkmesh_devstack run``: the whole system on embedded defaults (make run)."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path

from linkmesh_core.connector_spec import discover
from linkmesh_devstack.stack import Stack, Terminal

ROOT = Path(__file__).resolve().parents[4]


def run(args: argparse.Namespace) -> int:
    specs = discover()
    terminal = Terminal()
    # Each service's lines, prefixed by its name: JSON, or easier to read on a terminal.
    extra_env = {} if os.environ.get("LINKMESH_LOG_FORMAT") or not sys.stdout.isatty() else {"LINKMESH_LOG_FORMAT": "console"}
    if args.free_ports:
        stack = Stack(
            base_dir=Path(args.data_dir).resolve(), capture_logs=False, terminal=terminal, extra_env=extra_env, keep_sandbox_state=True
        )
    else:
        stack = Stack(
            base_dir=Path(args.data_dir).resolve(),
            capture_logs=False,
            terminal=terminal,
            extra_env=extra_env,
            keep_sandbox_state=True,
            gateway_port=int(os.environ.get("GATEWAY_PORT", "8080")),
            profile_port=50051,
            connector_ports={t: spec.port for t, spec in specs.items()},
            sandbox_ports={t: spec.sandbox_port for t, spec in specs.items() if spec.sandbox},
            mongo_port=27018,
        )
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    # Ctrl-C stops it even when started from a shell or job that ignores SIGINT (a
    # background job does, and a Python started with SIGINT ignored never raises
    # KeyboardInterrupt).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    running = running_pid(stack.base_dir)
    if running is not None:
        terminal.say(f"linkmesh: already running from {stack.base_dir} (process {running}); stop it first")
        return 1
    (stack.base_dir / PID_FILE).write_text(str(os.getpid()))
    try:
        return _run(stack, terminal, lambda: stopping)
    finally:
        (stack.base_dir / PID_FILE).unlink(missing_ok=True)


def _run(stack: Stack, terminal: Terminal, stopping_now: Callable[[], bool]) -> int:
    terminal.say(f"linkmesh: starting (data in {stack.base_dir}) ...")
    try:
        stack.start()
        apps = stack.ensure_demo_apps()
    except KeyboardInterrupt:
        stack.stop()
        return 130
    except Exception as exc:
        terminal.say(f"linkmesh: could not start: {exc}")
        stack.stop()
        return 1
    assert stack.mongo is not None
    lines = [
        "",
        "linkmesh is running",
        f"  web console   {stack.gateway_url}/",
        f"  gateway       {stack.gateway_url}   (OpenAPI: {stack.gateway_url}/api/v1/openapi.json)",
        f"  profile       gRPC 127.0.0.1:{stack.profile_port}",
        *[f"  connector     {v} gRPC 127.0.0.1:{p}" for v, p in stack.connector_ports.items()],
        f"  MongoDB       {stack.mongo.kind} at {stack.mongo.uri}",
        *[f"  sandbox       {v} at {stack.sandbox_url(v)}" for v, spec in stack.specs.items() if spec.sandbox],
        f"  demo apps     {', '.join(a['name'] for a in apps)}",
        "  tokens        " + "\n                ".join(stack.tokens.split(",")),
        f"  try           curl -s -X POST -H 'Authorization: Bearer {stack.token('agent')}' {stack.gateway_url}/api/v1/contacts"
        ' -d \'{"channel": "chat", "email": "jane.smith@example.com"}\'',
        "Press Ctrl-C to stop.",
    ]
    terminal.say("\n".join(lines))
    failed = False
    try:
        while not (failed or stopping_now()):
            for service in stack.services.values():
                if not service.running():
                    terminal.say(f"linkmesh: {service.name} stopped unexpectedly; stopping everything")
                    failed = True
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    terminal.say("\nlinkmesh: stopping ...")
    stack.stop()
    terminal.say("linkmesh: stopped")
    return 0


PID_FILE = "linkmesh.pid"
# What make reset removes from the data folder: linkmesh's database, the sandboxes' vendor data,
# the secret key the apps' secrets were encrypted with, the logs and the certificates.
RESET = ("mongodb", "sandboxes", "secret.key", "logs", "tls")


def running_pid(base_dir: Path) -> int | None:
    """The process of a make run using ``base_dir``, if one runs."""
    try:
        pid = int((base_dir / PID_FILE).read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def reset(args: argparse.Namespace) -> int:
    base_dir = Path(args.data_dir).resolve()
    running = running_pid(base_dir)
    if running is not None:
        print(f"linkmesh: make run is running from {base_dir} (process {running}); stop it (Ctrl-C) before a reset", file=sys.stderr)
        return 1
    removed = []
    for name in RESET:
        path = base_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        else:
            continue
        removed.append(name)
    print(
        f"linkmesh: reset {base_dir}: "
        + (", ".join(removed) + " removed" if removed else "nothing to remove")
        + "; the next make run starts from the demo data in linkmesh and every sandbox"
    )
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="linkmesh_devstack")
    sub = parser.add_subparsers(dest="command", required=True)
    run_parser = sub.add_parser("run", help="start the whole system on embedded defaults")
    run_parser.add_argument("--data-dir", default=str(ROOT / "var"), help="where MongoDB data, the secret key and logs live")
    run_parser.add_argument("--free-ports", action="store_true", help="use any free ports instead of the usual ones")
    reset_parser = sub.add_parser("reset", help="forget everything make run kept: linkmesh's data and the sandboxes' together")
    reset_parser.add_argument("--data-dir", default=str(ROOT / "var"), help="the data folder of make run")
    args = parser.parse_args()
    sys.exit(run(args) if args.command == "run" else reset(args))


if __name__ == "__main__":
    main()
