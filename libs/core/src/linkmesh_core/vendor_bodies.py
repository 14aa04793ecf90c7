"""Vendor request and answer bodies: JSON whose money never passes through a float, texts capped for messages and the debugger."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from linkmesh_core.money import json_number

MAX_MESSAGE = 300
MAX_DEBUG = 4000


def cut_message(message: str) -> str:
    message = " ".join((message or "").split())
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 1] + "…"


def debug_text(status: int, raw: bytes) -> str:
    return f"HTTP {status}: {raw[:MAX_DEBUG].decode('utf-8', 'replace')}"


def dumps_body(body: Any) -> str:
    """Request bodies: Decimal amounts become exact JSON numbers (never rounded through a float)."""

    def encode(value: Any) -> Any:
        if isinstance(value, Decimal):
            return json_number(value)
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    return json.dumps(body, default=encode)


def parse_body(raw: bytes) -> tuple[Any, bool]:
    """(the body, whether it was JSON); a body that is not JSON comes back as text.
    Numbers with a fraction become Decimal: a vendor's money never passes through a float."""
    if not raw or not raw.strip():
        return None, True
    try:
        return json.loads(raw, parse_float=Decimal), True
    except ValueError:
        return raw.decode("utf-8", "replace")[:500], False
