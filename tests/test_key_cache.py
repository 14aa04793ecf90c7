"""The gateway's memory of checked API keys (``linkmesh_gateway.key_cache``): off at 0, bounded,
least recently used out first, a revoked key's every entry forgotten."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from linkmesh_gateway.config import Settings
from linkmesh_gateway.key_cache import KeyCache


def test_off_at_zero_remembers_nothing() -> None:
    cache: KeyCache[str] = KeyCache(0)
    cache.put("lmk_a_s", "caller", "a", None)
    assert cache.get("lmk_a_s") is None


def test_bounded_least_recently_used_out() -> None:
    cache: KeyCache[str] = KeyCache(60, max_keys=2)
    cache.put("lmk_a_s", "A", "a", None)
    cache.put("lmk_b_s", "B", "b", None)
    assert cache.get("lmk_a_s") == "A"  # a is now the more recent
    cache.put("lmk_c_s", "C", "c", None)
    assert (cache.get("lmk_a_s"), cache.get("lmk_b_s"), cache.get("lmk_c_s")) == ("A", None, "C")


def test_expiry_and_revocation() -> None:
    cache: KeyCache[str] = KeyCache(60)
    cache.put("lmk_a_s", "A", "a", time.time() - 1)
    assert cache.get("lmk_a_s") is None, "past its own expiry"
    cache.put("lmk_b_s", "B", "b", time.time() + 60)
    cache.put("lmk_b_other", "B2", "b", None)
    cache.forget("b")
    assert cache.get("lmk_b_s") is None and cache.get("lmk_b_other") is None
    assert "lmk_" not in repr(cache._kept), "a digest of the secret, never the secret"


@pytest.mark.parametrize("value", ["-1", "301"])
def test_the_window_is_bounded(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINKMESH_TOKENS", "admin:x")
    monkeypatch.setenv("GATEWAY_API_KEY_CACHE_S", value)
    with pytest.raises(ValidationError, match="api_key_cache_s"):
        Settings()  # type: ignore[call-arg]
