"""Benchmark: does an acknowledged write survive kill -9 of the database process?

Starts the embedded MongoDB-compatible server (SecantusDB) on a fresh data folder, sends a
burst of contact-sized inserts from several writers with the write concern the deployment
uses (w=majority, journal=true), kills the server with SIGKILL while the burst runs, starts it
again on the same folder and counts the writes it had acknowledged that are gone. Measured
with and without --sync-on-commit, each with its inserts per second before the kill as the
ratio to the other in the same run.

    .venv/bin/python bench/durability.py
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from linkmesh_devstack.mongo import wait_for
from linkmesh_devstack.ports import free_port

WRITERS = 8
BURST_S = 3.0


def server(data: Path, port: int, sync: bool) -> subprocess.Popen[bytes]:
    cmd = [
        str(Path(sys.executable).parent / "secantusd-py"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--storage-path",
        str(data),
        "--log-level",
        "WARNING",
        *(["--sync-on-commit"] if sync else []),
    ]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(uri(port), process=process)
    return process


def uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?directConnection=true&retryWrites=false&w=majority&journal=true"


def burst(port: int, acknowledged: list[int], stop: threading.Event) -> None:
    client: MongoClient[dict[str, object]] = MongoClient(uri(port), serverSelectionTimeoutMS=2000, socketTimeoutMS=2000)
    collection = client["durability"]["customers"]
    n = 0
    base = threading.get_ident() % 100_000 * 1_000_000
    while not stop.is_set():
        doc_id = base + n
        try:
            collection.insert_one({"_id": doc_id, "emails": [f"c{doc_id}@example.com"], "name": "Burst", "links": {}})
        except PyMongoError:
            break  # the server is gone: what was acknowledged is counted
        acknowledged.append(doc_id)
        n += 1
    client.close()


def run(sync: bool) -> tuple[int, int, float]:
    """(acknowledged, lost, inserts per second before the kill)."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        process = server(Path(tmp), port, sync)
        acknowledged: list[int] = []
        stop = threading.Event()
        writers = [threading.Thread(target=burst, args=(port, acknowledged, stop)) for _ in range(WRITERS)]
        started = time.perf_counter()
        for w in writers:
            w.start()
        time.sleep(BURST_S)
        os.killpg(process.pid, signal.SIGKILL)  # mid-burst: writers are still sending
        process.wait()
        elapsed = time.perf_counter() - started
        stop.set()
        for w in writers:
            w.join(10)
        done = list(acknowledged)
        process = server(Path(tmp), port, sync)
        try:
            client: MongoClient[dict[str, object]] = MongoClient(uri(port))
            present = {d["_id"] for d in client["durability"]["customers"].find({}, {"_id": 1})}
            client.close()
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(10)
        return len(done), len([i for i in done if i not in present]), len(done) / elapsed


def main() -> None:
    print(f"{'embedded server':<28} {'acknowledged':>12} {'lost':>6} {'inserts/s':>10}")
    results = {}
    for sync in (False, True):
        acknowledged, lost, rate = run(sync)
        results[sync] = rate
        print(f"{'--sync-on-commit' if sync else 'default':<28} {acknowledged:>12} {lost:>6} {rate:>10.0f}")
    print(f"\n--sync-on-commit costs {results[True] / results[False]:.2f}x the default's insert rate; goal: 0 acknowledged writes lost")


if __name__ == "__main__":
    main()
