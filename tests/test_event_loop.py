"""Services run on uvloop unless told otherwise, and a wrong choice is refused by name."""

from __future__ import annotations

import asyncio

import pytest

from linkmesh_core import event_loop


async def loop_name() -> str:
    return event_loop.name(asyncio.get_running_loop())


def test_uvloop_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(event_loop.ENV, raising=False)
    assert event_loop.run(loop_name()) == "uvloop"
    loop = event_loop.new_event_loop()
    try:
        assert event_loop.name(loop) == "uvloop"
    finally:
        loop.close()


def test_the_standard_loop_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(event_loop.ENV, "asyncio")
    assert event_loop.run(loop_name()) == "asyncio"


def test_an_unknown_loop_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(event_loop.ENV, "trio")
    with pytest.raises(SystemExit, match="LINKMESH_EVENT_LOOP: must be uvloop or asyncio"):
        event_loop.run(loop_name())
