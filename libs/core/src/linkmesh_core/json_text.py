"""JSON text, written by orjson: the gateway's answers, and the customer the profile writes
for the gateway to pass through (``GetCustomerJson``).

A profile of a customer with a lot of data is an answer of 100 KB and more: ``json.dumps``
took about 1 ms of CPU for 140 KB, orjson 0.08 ms (``bench/big_profile.py`` prints each
process's CPU per open). The text is compact UTF-8 (no spaces, no ``\\u`` escapes for
non-ASCII), which any JSON reader reads as ``json.dumps``'s; a float that is not a number (NaN,
infinity), which JSON cannot hold, becomes null rather than invalid JSON. What orjson refuses
and ``json.dumps`` writes (a lone surrogate echoed from a request's ``"\\ud800"``, an integer
past 64 bits) is written by ``json.dumps``.
"""

from __future__ import annotations

import json
from typing import Any

import orjson


def dumps(data: Any) -> bytes:
    """``data`` as JSON text (UTF-8); a value JSON has no form for raises TypeError, naming it."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return json.dumps(data).encode()
