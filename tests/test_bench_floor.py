"""The floor benchmark runs and prints figures that hold together (``bench/grpc_floor.py``): its
paced mode starts a server in a process of its own and reads that process's CPU from it, which
nothing else exercises; every other bench sets its figures against these floors."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "grpc_floor.py"
PACED = re.compile(
    r"^\s+(?P<kind>bare grpc\.aio|HTTP/1\.1 \(aiohttp, JSON\))\s+(?P<gap>\d+) ms apart: server\s+(?P<server>\d+) us, "
    r"client\s+(?P<client>\d+) us, together\s+(?P<call>\d+) us = [\d.]+x the back-to-back floor; "
    r"the server's threads woken (?P<wakes>[\d.]+) times a call$",
    re.M,
)


def test_the_floor_bench_prints_back_to_back_and_paced_figures() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--calls", "300", "--repeats", "1", "--paced-calls", "40", "--gaps", "0,5"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^\s+floor \(bare grpc\.aio\)\s+\d+ us\s+1\.00x the floor$", done.stdout, re.M), done.stdout
    paced = [m.groupdict() for m in PACED.finditer(done.stdout)]
    assert [(p["kind"].split()[0], p["gap"]) for p in paced] == [("bare", "0"), ("HTTP/1.1", "0"), ("bare", "5"), ("HTTP/1.1", "5")]
    for p in paced:
        server, client, call = int(p["server"]), int(p["client"]), int(p["call"])
        assert server > 0 and client > 0 and abs(server + client - call) <= 1, p
        # A server that idled between calls is woken at least once a call (gRPC's Python server
        # wakes several threads). Back to back it may find the next request already there and
        # not sleep at all (0.9 a call seen in CI on aiohttp's server).
        assert float(p["wakes"]) >= (1.0 if int(p["gap"]) > 0 else 0.0), p
