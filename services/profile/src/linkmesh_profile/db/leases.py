"""One lease mechanism, for every piece of work one replica does at a time.

A lease is a sub-document ``{until, by}`` at a path of the document whose work it holds:

- ``apps.<app id>.<state>`` of a customer's refresh lease document: the app's refresh, taken on
  one state of its link (``refresh_leases``);
- ``lease`` of a queued auto-link: the replica running it (``linking.autolink_queue``);
- ``lease`` of a running action: the replica calling the vendor; once its time has run out
  the replica is taken to have died and the outcome is unknown (``actions.runner``);
- ``resolution.lease`` of an action whose outcome is unknown: the replica asking the vendor's
  own record (``actions.resolution``).

It is taken by an update conditional on it being free (never taken, let go, or its time run
out: a holder that dies frees it by the clock, never by another replica's guess), let go by
the holder's own write of the work's result (``$unset`` in the same update; a refresh lease,
kept beside the customer rather than in it, by the new state of the link that write makes), and it names its
holder (this process and the taking), so a write conditional on ``held_by`` lands only while
the lease is still the one taken.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

REPLICA = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Lease:
    path: str

    def free(self, at: datetime) -> dict[str, Any]:
        """The condition: nobody holds it at ``at`` (absent, let go, or run out)."""
        return {f"{self.path}.until": {"$not": {"$gt": at}}}

    def expired(self, at: datetime) -> dict[str, Any]:
        """The condition: taken, and its time ran out before ``at`` (its holder is gone)."""
        return {f"{self.path}.until": {"$lt": at}}

    def take(self, at: datetime, seconds: float) -> dict[str, Any]:
        """The ``$set`` that takes it until ``seconds`` after ``at``, named for this taking."""
        return {self.path: {"until": at + timedelta(seconds=seconds), "by": f"{REPLICA}:{uuid.uuid4().hex[:8]}"}}

    def release(self) -> dict[str, str]:
        """The ``$unset`` that lets it go, carried by the holder's own write."""
        return {self.path: ""}

    def held_by(self, holder: str) -> dict[str, Any]:
        """The condition: still held by ``holder`` (a ``by`` this taking wrote)."""
        return {f"{self.path}.by": holder}

    def of(self, doc: dict[str, Any] | None) -> dict[str, Any]:
        """The lease as ``doc`` holds it (``{}`` when free of one)."""
        value: Any = doc or {}
        for part in self.path.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return value if isinstance(value, dict) else {}

    def holder(self, doc: dict[str, Any] | None) -> str:
        return str(self.of(doc).get("by") or "")

    def held_at(self, doc: dict[str, Any] | None, at: datetime) -> bool:
        until = self.of(doc).get("until")
        return until is not None and until > at


def refresh_app(app_id: str) -> str:
    """Where a customer's refresh lease document keeps the app's lease (``refresh_leases``)."""
    return f"apps.{app_id}"


def refresh(app_id: str, state: str) -> Lease:
    """The app's refresh lease taken on ``state`` of its link (``refresh_leases.state_key``)."""
    return Lease(f"{refresh_app(app_id)}.{state}")


QUEUED = Lease("lease")
RUNNING = Lease("lease")
CHECKING = Lease("resolution.lease")
