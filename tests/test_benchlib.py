"""The benchmarks' accounting (``bench/benchlib.py``): a figure per request covers exactly the
requests its timings cover. Counters read before a warm-up charge the warm-up's work to the
timed requests: at 50 callers, 50 warm-up searches on 200 timed ones overstated CPU per search
by a quarter (``fanout_search.py`` did, until it used ``per_call``)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


@pytest.fixture
def benchlib() -> Iterator[ModuleType]:
    sys.path.insert(0, str(BENCH))
    try:
        yield importlib.import_module("benchlib")
    finally:
        sys.path.remove(str(BENCH))


@pytest.mark.parametrize(("concurrency", "rounds"), [(1, 30), (50, 200)])
async def test_a_figure_per_call_covers_the_timed_calls_alone(benchlib: ModuleType, concurrency: int, rounds: int) -> None:
    work = {"units": 0, "calls": 0}

    async def call() -> None:  # each call costs exactly 3 units of a counter, 1 of another
        work["units"] += 3
        work["calls"] += 1

    load, grew = await benchlib.per_call(
        call, concurrency, rounds, {"units": lambda: float(work["units"]), "calls": lambda: float(work["calls"])}
    )
    assert load.done == rounds
    assert grew == {"units": 3.0, "calls": 1.0}
    assert work["calls"] == rounds + max(concurrency, 10), "the warm-up ran before the timed calls"
