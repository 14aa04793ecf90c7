"""Benchmark: does a search of "all" systems cost about one system's time?

Starts the whole stack (real processes), gives the BigCommerce sandbox a fixed
latency, creates N apps, then measures in the same run:

- baseline: a manual search of one app;
- fan-out:  a search of all N apps at once;

and prints the fan-out's cost as a ratio of the baseline (1.0 is ideal: the
systems are searched in parallel; N would mean one after another).

    make bench            # or: .venv/bin/python bench/fanout_search.py --apps 6 --rounds 30
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path

from linkmesh_devstack.stack import Stack
from linkmesh_sandboxes.bigcommerce import data


def timed(stack: Stack, path: str, body: dict) -> float:
    started = time.perf_counter()
    status, answer = stack.api("POST", path, role="agent", body=body)
    elapsed = time.perf_counter() - started
    if status != 200 or answer.get("failures"):
        raise RuntimeError(f"search failed: {status} {answer}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--latency-ms", type=float, default=80.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = Stack(base_dir=Path(tmp), extra_env={"SANDBOX_RATE_LIMIT_QUOTA": "100000"})
        stack.start()
        try:
            apps = []
            for i in range(args.apps):
                status, app = stack.api("POST", "/api/v1/apps", body={
                    "type": "bigcommerce", "name": f"bench-{i}",
                    "settings": {"store_hash": data.STORE_HASH, "api_base_url": stack.sandbox_url("bigcommerce")},
                    "secrets": {"access_token": data.ACCESS_TOKEN},
                    "search_query_attributes": [{"attribute": "email", "label": "Email"}],
                })
                assert status == 201, app
                apps.append(app)
            status, customer = stack.api("POST", "/api/v1/customers", role="agent", body={"emails": ["bench@example.com"]})
            assert status == 201, customer
            knobs = urllib.request.Request(
                f"{stack.sandbox_url('bigcommerce')}/__sandbox/knobs", method="POST",
                data=json.dumps({"latency_ms": args.latency_ms}).encode(), headers={"Content-Type": "application/json"})
            urllib.request.urlopen(knobs, timeout=5).read()
            path = f"/api/v1/customers/{customer['id']}/external-search"
            query = {"email": "jane.smith@example.com"}
            for _ in range(3):  # warm up channels and connection pools
                timed(stack, path, {"app_id": apps[0]["id"], **query})
                timed(stack, path, {"app_id": "all", **query})
            one, all_ = [], []
            for _ in range(args.rounds):  # interleaved, so drift hits both alike
                one.append(timed(stack, path, {"app_id": apps[0]["id"], **query}))
                all_.append(timed(stack, path, {"app_id": "all", **query}))
        finally:
            stack.stop()
    base, fan = statistics.median(one), statistics.median(all_)
    print(f"vendor latency           {args.latency_ms:.0f} ms per call, {args.apps} apps, {args.rounds} rounds")
    print(f"baseline  one app        median {base * 1000:7.1f} ms")
    print(f"fan-out   all {args.apps} apps     median {fan * 1000:7.1f} ms")
    print(f"ratio fan-out / baseline {fan / base:5.2f}   (1.00 = fully parallel, {args.apps}.00 = sequential)")


if __name__ == "__main__":
    main()
