"""Vendor dates → ``google.protobuf.Timestamp``, one parser per format."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from google.protobuf.timestamp_pb2 import Timestamp


def from_datetime(dt: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(dt)
    return ts


def from_iso(value: object) -> Timestamp | None:
    """ISO 8601 (``2026-03-01T15:00:00.000Z``)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return from_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def from_rfc2822(value: object) -> Timestamp | None:
    """RFC 2822 (``Wed, 10 Jan 2018 21:05:30 +0000``)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return from_datetime(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None


def from_utc_sql(value: object) -> Timestamp | None:
    """``Y-m-d H:i:s`` in UTC (Magento)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return from_datetime(datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC))
    except ValueError:
        return None
