"""How every linkmesh service runs Python's cyclic garbage collector.

A service allocates thousands of short-lived containers a request (protobuf messages, BSON
documents, coroutines and their frames), and almost none of them are cycles: reference
counting frees them. With Python's default thresholds (700, 10, 10) the collector still ran
about every 3 searches of five apps in the profile service and the BigCommerce connector,
and every hundredth run scanned the whole heap (gRPC's, protobuf's and PyMongo's objects
from import): measured with ``gc.callbacks`` over 1,500 such searches from 16 callers, the
collector took 6.4-8.1% of the profile's CPU and 4.4-5.9% of the connector's, its full
collections pausing it 34-88 ms at most (every request in flight waits).

``tuned`` (the default) moves everything that exists when the service starts out of the
collector's sight (``gc.freeze``: never scanned again) and collects the young generation
every 10,000 allocations instead of 700 (then 20 and 20 for the older ones). The same load:
the collector's share 0.3-0.5%, no full collection. ``bench/fanout_search.py``, alternating
runs: CPU per search of five apps at 50 callers 36.8 and 31.3 ms -> 27.0 and 25.7 ms, 63.6
and 75.5 -> 75.4 and 77.9 searches a second (this machine's noise is +-15%; at 1 caller,
where the collector seldom runs, no change). Cycles are still collected, later.
``LINKMESH_GC=python`` keeps Python's own settings (to rule this out when chasing memory).
Either way each collection is timed into ``linkmesh_gc_pause_seconds{generation}`` (the
service's /metrics): how often the collector runs, and how long each run stalls the process.
"""

from __future__ import annotations

import gc
import os
import time
from typing import Any

from prometheus_client import Histogram

ENV = "LINKMESH_GC"
THRESHOLDS = (10_000, 20, 20)
GC_PAUSE = Histogram(
    "linkmesh_gc_pause_seconds",
    "Each run of Python's cyclic garbage collector, by the oldest generation it collected (the process stalls meanwhile)",
    ["generation"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
)
_started = [0.0]


def _timed(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _started[0] = time.perf_counter()
    else:
        GC_PAUSE.labels(str(info["generation"])).observe(time.perf_counter() - _started[0])


def apply() -> str:
    """Sets the collector for this process from ``LINKMESH_GC``; answers the choice made.
    An unknown value is refused (``SystemExit``, naming the variable)."""
    choice = os.environ.get(ENV, "tuned").strip().lower() or "tuned"
    if choice not in ("tuned", "python"):
        raise SystemExit(f"invalid configuration:\n  {ENV}: must be tuned or python, not {choice!r}")
    if choice == "tuned":
        gc.collect()  # what import left as garbage is not kept for ever
        gc.freeze()
        gc.set_threshold(*THRESHOLDS)
    if _timed not in gc.callbacks:
        gc.callbacks.append(_timed)
    return choice
