"""Values a connector keeps a while per account (a store's product links): asked of the vendor
again once older than ``ttl_s``, at most ``most`` per account, the least recently kept first out."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Kept(Generic[K, V]):
    def __init__(self, ttl_s: float, most: int) -> None:
        self.ttl_s = ttl_s
        self.most = most
        self._by_account: dict[str, OrderedDict[K, tuple[float, V]]] = {}

    def known(self, account: str, keys: Iterable[K]) -> tuple[dict[K, V], list[K]]:
        """Those of ``keys`` kept within the time, and the others (to ask for), in order."""
        at = time.monotonic()
        kept = self._by_account.get(account) or OrderedDict()
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in dict.fromkeys(keys):
            held = kept.get(key)
            if held is not None and at - held[0] < self.ttl_s:
                found[key] = held[1]
            else:
                missing.append(key)
        return found, missing

    def keep(self, account: str, values: Mapping[K, V]) -> None:
        at = time.monotonic()
        kept = self._by_account.setdefault(account, OrderedDict())
        for key, value in values.items():
            kept[key] = (at, value)
            kept.move_to_end(key)
        while len(kept) > self.most:
            kept.popitem(last=False)
