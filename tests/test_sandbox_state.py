"""A sandbox started with a state file keeps its vendor data across restarts (a cancelled
order stays cancelled, in step with what linkmesh remembers); a file that no longer loads
is set aside and the demo data used."""

from __future__ import annotations

import asyncio
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from linkmesh_sandboxes.bigcommerce.app import create_app
from linkmesh_sandboxes.bigcommerce.data import ACCESS_TOKEN, STORE_HASH
from linkmesh_sandboxes.kit import keep_state

ORDER = f"/stores/{STORE_HASH}/v2/orders/5003"
HEADERS = {"X-Auth-Token": ACCESS_TOKEN, "Accept": "application/json"}


async def status_after(path: Path, change: dict[str, int] | None = None, wait_s: float = 0.0) -> str:
    app = create_app()
    keep_state(app, path, interval_s=0.1)
    async with TestClient(TestServer(app)) as client:
        if change is not None:
            answer = await client.put(ORDER, json=change, headers=HEADERS)
            assert answer.status == 200, await answer.text()
        await asyncio.sleep(wait_s)
        answer = await client.get(ORDER, headers=HEADERS)
        return str((await answer.json())["status"])


def test_a_change_survives_a_restart_and_is_saved_while_running(tmp_path: Path) -> None:
    state = tmp_path / "sandboxes" / "bigcommerce.state"
    first = asyncio.run(status_after(state))
    assert first != "Cancelled" and not state.exists(), "nothing changed: nothing written"
    assert asyncio.run(status_after(state, {"status_id": 5}, wait_s=0.5)) == "Cancelled"
    written = state.stat().st_mtime_ns
    assert asyncio.run(status_after(state)) == "Cancelled", "the cancelled order is still cancelled after a restart"
    assert state.stat().st_mtime_ns == written, "reading changes nothing"


def test_an_unreadable_state_file_is_set_aside_and_the_demo_data_used(tmp_path: Path) -> None:
    state = tmp_path / "bigcommerce.state"
    state.write_bytes(b"not a pickle")
    assert asyncio.run(status_after(state)) != "Cancelled"
    assert (tmp_path / "bigcommerce.state.unreadable").read_bytes() == b"not a pickle"
