"""Every service runs the garbage collector tuned (``linkmesh_core.gc_policy``), unless told
otherwise, and a wrong choice is refused by name. Each case runs in a process of its own:
the collector's settings are the process's."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from linkmesh_core import gc_policy

SHOW = """
import gc
print(gc.get_threshold(), gc.get_freeze_count() > 0)
"""


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != gc_policy.ENV}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env={**environ, **env}, capture_output=True, text=True, timeout=60)


def test_a_service_runs_the_collector_tuned() -> None:
    """Through ``run_service``, as every gRPC service starts: the heap at start frozen, the
    young generation collected every 10,000 allocations."""
    done = python(
        """
        import gc
        from linkmesh_core.grpc_server import run_service

        async def main():
            print(gc.get_threshold(), gc.get_freeze_count() > 0)

        run_service("test", main())
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == f"{gc_policy.THRESHOLDS} True"


def test_pythons_own_settings_on_request() -> None:
    done = python(
        """
        import gc
        from linkmesh_core import gc_policy
        before = gc.get_threshold()
        print(gc_policy.apply(), gc.get_threshold() == before, gc.get_freeze_count())
        """,
        LINKMESH_GC="python",
    )
    assert done.stdout.split() == ["python", "True", "0"], done.stderr


@pytest.mark.parametrize("value", ["off", "fast"])
def test_an_unknown_choice_is_refused_naming_the_setting(value: str) -> None:
    done = python("from linkmesh_core import gc_policy\ngc_policy.apply()", LINKMESH_GC=value)
    assert done.returncode == 1
    assert f"LINKMESH_GC: must be tuned or python, not {value!r}" in done.stderr


def test_the_gateway_applies_it_too() -> None:
    """The gateway refuses a wrong choice at start, one log line naming it, exit code 2."""
    done = subprocess.run(
        [sys.executable, "-m", "linkmesh_gateway"],
        env={**os.environ, "LINKMESH_GC": "off", "LINKMESH_TOKENS": "admin:test-token-gc-policy", "GATEWAY_METRICS_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert "LINKMESH_GC: must be tuned or python" in done.stderr + done.stdout


def test_each_collection_is_timed_into_the_metrics() -> None:
    done = python(
        """
        import gc
        from prometheus_client import REGISTRY
        from linkmesh_core import gc_policy

        gc_policy.apply()
        gc_policy.apply()  # once is enough: not timed twice
        for _ in range(3):
            gc.collect(1)
        gc.collect()
        count = lambda g: REGISTRY.get_sample_value("linkmesh_gc_pause_seconds_count", {"generation": g})
        print(count("1"), count("2") >= 1, REGISTRY.get_sample_value("linkmesh_gc_pause_seconds_sum", {"generation": "1"}) > 0)
        """
    )
    assert done.stdout.split() == ["3.0", "True", "True"], done.stderr
