"""The reconciliation sweep's cursor per app, in ``meta`` (``_id: sweep:<app id>``): how far the
vendor's changes were read (``since``), when the next sweep is due (``next_at``), how the last
one went (``last``), and the lease of the replica sweeping it now (``lease``, ``db.leases``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pymongo.errors import DuplicateKeyError

from linkmesh_profile.db import leases
from linkmesh_profile.db import queries as q

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store

SWEEPING = leases.QUEUED  # the cursor's ``lease``: its replica sweeping the app now
LEASE_S = 300.0  # a sweep reads at most a few pages: its holder is gone when this ran out


@dataclass(frozen=True)
class Cursor:
    """A cursor this replica holds: what the last sweep read after (None: never swept), and the
    page of it to read on from when that sweep ran out of budget."""

    since: datetime | None
    page_token: str = ""


class SweepCursors:
    def __init__(self, store: Store) -> None:
        self.collection = store.db[q.META]

    async def take(self, app_id: str, at: datetime) -> Cursor | None:
        """The app's cursor, leased, when its sweep is due and no one holds it; None when it is
        not this replica's to sweep now."""
        try:
            taken = await self.collection.find_one_and_update(
                q.sweep_cursor(app_id, at).filter, {"$set": SWEEPING.take(at, LEASE_S)}, upsert=True, return_document=True
            )
        except DuplicateKeyError:  # not due, or another replica sweeps it
            return None
        return Cursor((taken or {}).get("since"), str((taken or {}).get("page_token") or ""))

    async def settle(self, app_id: str, cursor: Cursor, last: dict[str, Any] | None, at: datetime, interval_s: float) -> None:
        """Moves the cursor on, due ``interval_s`` after ``at``, and lets it go; ``last``: how the
        sweep went (None: no sweep ran, the last one's stays)."""
        moved: dict[str, Any] = {"since": cursor.since, "page_token": cursor.page_token, "next_at": at + timedelta(seconds=interval_s)}
        if last is not None:
            moved["last"] = last
        await self.collection.update_one(
            q.sweep_cursor(app_id).filter,
            {"$set": moved, "$unset": SWEEPING.release()},
            upsert=True,
        )

    async def last(self, app_id: str) -> dict[str, Any] | None:
        found = await self.collection.find_one(q.sweep_cursor(app_id).filter, {"last": 1, "since": 1, "page_token": 1, "next_at": 1})
        return dict(found) if found else None
