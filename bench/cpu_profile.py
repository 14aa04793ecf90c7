"""Where a service's CPU goes: py-spy samples one process of the running mesh under load.

Starts the whole stack (vendors at 0 ms, rate limits lifted, ReturnLogic's app off as in
``mesh_load.py``), warms it up, then samples ``--service`` (the profile service unless told)
only while it holds the GIL (its own CPU, not its waiting) during ``--seconds`` of contacts
from ``--concurrency`` clients, half of new emails and half of linked customers whose data
is refreshed (``--load search``: searches of every app for Jane), and prints its own time by
whose code it is (linkmesh's, or which library's), then the functions with the largest share
of samples: their own time and with what they call.

    .venv/bin/python bench/cpu_profile.py [--service profile|gateway|connector-bigcommerce|database] [--seconds 15]

py-spy reads another process's memory: on a machine that forbids it (ptrace scope, a
container without SYS_PTRACE) this prints why and stops.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).parent))
from benchlib import NO_VENDOR_LIMITS, closed_loop
from fanout_search import prepare_apps
from mesh_load import RETURNING, Client

from linkmesh_devstack.stack import Stack

JANE = "jane.smith@example.com"

PLUMBING = (
    "runpy",
    "asyncio/runners",
    "run_forever",
    "run_until_complete",
    "__main__",
    "run_service",
    "_bootstrap",
    "event_loop.py",
    "uvloop/__init__",
    "run_connector",
)


# Whose code a frame runs, by its file's path: linkmesh's own, or the library it belongs to. The
# event loop's native work (uvloop's, and gRPC's C core and the sockets' system calls made from
# it) is sampled in the frame that runs the loop: asyncio's runner, or aiohttp's run_app.
LOOP = ("Runner.run (asyncio/runners.py", "run_app (aiohttp/web.py")
NATIVE = "native: the event loop, gRPC's C core, system calls"
PACKAGES = (
    "linkmesh",
    "grpc",
    "aiohttp",
    "pymongo",
    "bson",
    "structlog",
    "prometheus_client",
    "google/protobuf",
    "json",
    "asyncio",
    "uvloop",
    "multidict",
    "yarl",
)
FILE = re.compile(r"\((?P<path>[^():]+)(?::\d+)?\)$")


def package_of(frame: str) -> str:
    if frame.startswith(LOOP):
        return NATIVE
    found = FILE.search(frame)
    path = found["path"] if found else frame
    return next((p for p in PACKAGES if p in path), "other (the standard library, the interpreter)")


def report(raw: Path, top: int) -> None:
    own: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        samples += n
        frames = stack.split(";")
        own[frames[-1]] += n
        by_package[package_of(frames[-1])] += n
        for frame in set(frames):
            total[frame] += n
    print(f"{samples} samples while holding the GIL")
    print("\nown time by whose code it is")
    for package, n in by_package.most_common():
        print(f"  {n * 100 / samples:5.1f}%  {package}")
    print("\nown time (the function itself)")
    for frame, n in own.most_common(top):
        print(f"  {n * 100 / samples:5.1f}%  {frame}")
    print("\nwith what it calls")
    shown = [(f, n) for f, n in total.most_common() if not any(p in f for p in PLUMBING)][:top]
    for frame, n in shown:
        print(f"  {n * 100 / samples:5.1f}%  {frame}")


def service_pid(stack: Stack, name: str) -> int:
    """The process of ``name``: a service of the stack, or ``database`` (the embedded server,
    a Python process too; a MONGODB_URI or a container has no process here to sample)."""
    if name == "database":
        if stack.mongo is None or stack.mongo.process is None:
            raise SystemExit(f"the database runs outside this stack ({stack.mongo.kind if stack.mongo else 'none'}): nothing to sample")
        return stack.mongo.process.pid
    service = stack.services.get(name)
    if service is None or service.process is None:
        raise SystemExit(f"no process {name!r}: one of {', '.join(sorted(stack.services))} or database")
    return service.process.pid


async def load(stack: Stack, args: argparse.Namespace, out: Path) -> None:
    # The commerce mesh, as before (BigCommerce and Magento), and --extra-apps more BigCommerce stores.
    prepare_apps(stack, stack.ensure_demo_apps(), args.extra_apps)
    async with aiohttp.ClientSession() as session:
        client = Client(stack, session)
        for email in RETURNING:
            await client.contact(email)
        for _ in range(20):
            await client.contact(f"warm-{uuid.uuid4().hex[:10]}@example.net")
        pid = service_pid(stack, args.service)
        # The profiler, started once before the load.
        spy = subprocess.Popen(  # noqa: ASYNC220
            [
                args.py_spy,
                "record",
                "--gil",
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                str(out),
                "--duration",
                str(int(args.seconds) + 2),
                "--pid",
                str(pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        await asyncio.sleep(1.0)
        if spy.poll() is not None:
            raise SystemExit(f"py-spy could not sample the {args.service} process: {spy.stderr.read().decode().strip()}")  # type: ignore[union-attr]
        if args.load == "search":
            searcher = (await client.contact(f"cpu-search-{uuid.uuid4().hex[:10]}@example.net"))["customer_id"]
            path = f"{stack.gateway_url}/api/v1/customers/{searcher}/external-search"
            headers = {"Authorization": f"Bearer {stack.token('agent')}"}

            async def search(_: int) -> None:
                async with session.post(path, json={"app_id": "all", "email": JANE}, headers=headers) as resp:
                    assert resp.status == 200, await resp.text()
                    await resp.read()

            done = await closed_loop(search, args.concurrency, seconds=args.seconds)
        else:

            async def contact(i: int) -> None:
                await client.contact(RETURNING[i % 3] if i % 2 else f"cpu-{uuid.uuid4().hex[:10]}@example.net")

            done = await closed_loop(contact, args.concurrency, seconds=args.seconds)
        await asyncio.to_thread(spy.wait)
        print(f"{done.done} {args.load}es in {done.seconds:.1f}s while sampling {args.service}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--service", default="profile")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument(
        "--load", choices=("contact", "search"), default="contact", help="contacts (half new, half refreshed) or searches of every app"
    )
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--extra-apps", type=int, default=0, help="more BigCommerce stores, each a search of all searches too")
    args = parser.parse_args()
    args.py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(args.py_spy).exists():
        raise SystemExit("py-spy is not installed (make install puts it in .venv)")
    with tempfile.TemporaryDirectory() as tmp:
        stores = (
            {"SANDBOX_BIGCOMMERCE_STORES": ",".join(f"bench{i}:bench-token-{i}" for i in range(args.extra_apps))} if args.extra_apps else {}
        )
        stack = Stack(
            base_dir=Path(tmp),
            extra_env={"PROFILE_FRESHNESS_S": "0", "PROFILE_EVENTS_FRESHNESS_S": "0", **stores, **NO_VENDOR_LIMITS},
        )
        stack.start()
        try:
            out = Path(tmp) / "samples.txt"
            asyncio.run(load(stack, args, out))
        finally:
            stack.stop()
        report(out, args.top)


if __name__ == "__main__":
    main()
