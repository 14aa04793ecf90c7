"""Contact points no other test of the session holds: the e2e stack's database lives for the
whole session, and a phone is unique across customers, so two tests drawing the same random
number made one of them fail (the create of the other's phone is a 409)."""

from __future__ import annotations

import random

_LAST_FOUR = iter(random.sample(range(1000, 10000), 9000))  # drawn without replacement


def unique_phone() -> str:
    """A US number in 646-555-1000..9999 that no other caller of this session got."""
    return f"+1 646-555-{next(_LAST_FOUR)}"
