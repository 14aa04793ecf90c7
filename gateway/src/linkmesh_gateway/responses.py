"""The gateway's JSON answers, written by orjson.

A profile of a customer with a lot of data is an answer of 100 KB and more: ``json.dumps``
took about 1 ms of the gateway's CPU for 140 KB, orjson 0.08 ms (``bench/big_profile.py``
prints the gateway's CPU per open). The text is compact UTF-8 (no spaces, no ``\\u``
escapes for non-ASCII), which any JSON reader reads as ``json.dumps``'s; a float that is
not a number (NaN, infinity), which JSON cannot hold, becomes null rather than invalid JSON.
What orjson refuses and ``json.dumps`` writes (a lone surrogate echoed from a request's
``"\\ud800"``, an integer past 64 bits) is written by ``json.dumps``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

JSON = "application/json"


def dumps(data: Any) -> bytes:
    """``data`` as JSON text (UTF-8); a value JSON has no form for raises TypeError, naming it."""
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        return json.dumps(data).encode()


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None, content_type: str = JSON) -> web.Response:
    """``web.json_response`` with orjson: the same status, headers and ``; charset=utf-8``."""
    return web.Response(body=dumps(data), status=status, headers=headers, content_type=content_type, charset="utf-8")
