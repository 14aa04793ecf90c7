"""API keys this gateway replica checked lately, when told to remember them.

By default (``GATEWAY_API_KEY_CACHE_S=0``) every request with an API key asks the profile
service, which reads the key: a revoked key fails at once on every replica, for a gRPC call
and a database read per request (1.16-1.38x the mesh's CPU of a search, ``bench/fanout_search.py``).
Given a window, a replica takes a key the profile accepted as accepted for that long from the
answer, never past the key's own expiry; it keeps a digest of the secret, never the secret.
A refused key is never remembered (asked every time, so a forged key costs what it did). A key
revoked through this replica is forgotten at once; one revoked through another replica works
here until its window ends: the window is how long a revocation may take to hold everywhere.
At most ``max_keys`` are kept, the least recently used going first.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class _Kept(Generic[C]):
    caller: C
    key_id: str
    until: float  # time.monotonic()
    expires_at: float | None  # time.time(): the key's own expiry


class KeyCache(Generic[C]):
    def __init__(self, window_s: float, max_keys: int = 10_000) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        self._kept: OrderedDict[bytes, _Kept[C]] = OrderedDict()

    @staticmethod
    def _digest(secret: str) -> bytes:
        return hashlib.sha256(secret.encode()).digest()

    def get(self, secret: str) -> C | None:
        """The caller of a key accepted within the window and not expired since; else None."""
        if self.window_s <= 0:
            return None
        digest = self._digest(secret)
        kept = self._kept.get(digest)
        if kept is None:
            return None
        if time.monotonic() >= kept.until or (kept.expires_at is not None and time.time() >= kept.expires_at):
            del self._kept[digest]
            return None
        self._kept.move_to_end(digest)
        return kept.caller

    def put(self, secret: str, caller: C, key_id: str, expires_at: float | None) -> None:
        """Remembers a key the profile just accepted (``expires_at``: its expiry, epoch seconds)."""
        if self.window_s <= 0:
            return
        digest = self._digest(secret)
        self._kept[digest] = _Kept(caller, key_id, time.monotonic() + self.window_s, expires_at)
        self._kept.move_to_end(digest)
        while len(self._kept) > self.max_keys:
            self._kept.popitem(last=False)

    def forget(self, key_id: str) -> None:
        """A key revoked through this replica: not taken again without asking."""
        for digest in [d for d, kept in self._kept.items() if kept.key_id == key_id]:
            del self._kept[digest]
