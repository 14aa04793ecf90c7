"""Public tracking pages of the common carriers, for vendors that give a
tracking number without a link."""

from __future__ import annotations

from urllib.parse import quote

TEMPLATES = {
    "ups": "https://www.ups.com/track?tracknum={n}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={n}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={n}",
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id={n}",
}
ALIASES = {"united parcel service": "ups", "united states postal service": "usps", "federal express": "fedex"}


def tracking_url(carrier: str, number: str) -> str:
    """The carrier's tracking page for ``number``, or "" for an unknown carrier."""
    key = carrier.strip().lower()
    key = ALIASES.get(key, key.split("_")[0])
    template = TEMPLATES.get(key)
    return template.format(n=quote(number.strip())) if template and number.strip() else ""
