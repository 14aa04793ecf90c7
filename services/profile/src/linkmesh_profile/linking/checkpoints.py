"""Named points between a use case's read of a customer and its write, where a test can hold
the use case (to drive an interleaving deterministically). Nothing waits unless a hook is
installed; production installs none.

- ``link.before_write``: an auto-link or a manual link decided from its read, about to write;
- ``unlink.before_write``: an unlink computed what to remove, about to write;
- ``refresh.before_write``: a refresh fetched the app's data, about to write it;
- ``fold.before_read``: a conflict named provisional profiles, about to read them to fold them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Hook = Callable[[str], Awaitable[None]]
_hook: Hook | None = None


def install(hook: Hook | None) -> None:
    """Sets (or with None, removes) the hook every checkpoint awaits."""
    global _hook
    _hook = hook


async def reached(point: str) -> None:
    if _hook is not None:
        await _hook(point)
