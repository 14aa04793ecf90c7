"""Demo data of the custom lookup adaptor sandbox: "Trailhead Club", the subscription and
loyalty service of the demo outdoor shop, behind a Gladly Lookup Adaptor.

Its members also exist in the other sandboxes (Jane Smith, John Doe, Priya Patel), so a
profile links to it as it links to the commerce systems. What it answers is written the way
adaptors in the wild answer (``docs/lookup-adaptor-protocol.md``): totals as
formatted strings ("$100.00", "42.50"), numbers as strings or numbers, dates as ISO-8601 or as
"10/05/2026", transactions that are not orders (a SUBSCRIPTION), and fields a display may not
parse (an ``orderTotal`` of "n/a"), which must never fail a lookup.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

SIGNING_KEY = "demo-adaptor-signing-key"
USERNAME, PASSWORD = "linkmesh", "demo-adaptor-password"
SHOP = "https://summit-outfitters.example"


def _order(
    number: str,
    created: str,
    status: str,
    total: str,
    lines: list[tuple[str, str, str, int, str]],
    fulfillments: list[dict[str, Any]] | None = None,
    currency: str | None = "USD",
) -> dict[str, Any]:
    return {
        "type": "ORDER",
        "orderNumber": number,
        "createdAt": created,
        "orderStatus": status,
        "orderTotal": total,
        **({"currencyCode": currency} if currency else {}),
        "itemCount": str(sum(q for _, _, _, q, _ in lines)),
        "orderLink": f"{SHOP}/admin/club/orders/{number}",
        "customerOrderUrl": f"{SHOP}/account/club/orders/{number}",
        "products": [
            {
                "id": pid,
                "name": name,
                "sku": sku,
                "status": "fulfilled" if fulfillments else "unfulfilled",
                "quantity": q,
                "unitPrice": price,
            }
            for pid, name, sku, q, price in lines
        ],
        "fulfillments": fulfillments or [],
        "actions": [{"name": "Cancel this box", "formUrl": f"/actions/cancel-box?order={number}"}] if status == "Processing" else [],
    }


def _jane() -> dict[str, Any]:
    return {
        "externalCustomerId": "club-1001",
        "name": "Jane Smith",
        "address": "12 Market St, San Francisco, CA 94105",
        "emails": [{"original": "jane.smith@example.com"}],
        "phones": [{"original": "+1 415-555-0101", "type": "MOBILE"}],
        "customAttributes": {"tier": "Summit", "points": "2450", "memberSince": "2021-04-12"},
        "actions": [{"name": "Add loyalty points", "formUrl": "/actions/add-points?customer=club-1001"}],
        "transactions": [
            _order(
                "CB-5001",
                "2026-10-01T12:00:00.000Z",
                "Delivered",
                "$64.00",
                [("p1", "Trail Snack Box (October)", "BOX-OCT", 1, "$49.00"), ("p2", "Merino Socks", "SOCK-M", 1, "$15.00")],
                [
                    {
                        "productIds": ["p1", "p2"],
                        "trackingNumber": "1Z999AA10123456784",
                        "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
                        "carrier": "UPS",
                        "status": "delivered",
                    }
                ],
            ),
            _order("CB-5002", "11/01/2026", "Processing", "49.00", [("p3", "Trail Snack Box (November)", "BOX-NOV", 1, "49.00")]),
            {"type": "SUBSCRIPTION", "name": "Trail Snack Box", "status": "active", "renewsAt": "2026-12-01", "price": "$49.00 / month"},
        ],
    }


def members() -> list[dict[str, Any]]:
    return [
        _jane(),
        {
            "externalCustomerId": "club-1002",
            "name": "John Doe",
            "emails": [{"original": "john.doe@example.com"}],
            "phones": [{"original": "415-555-0102"}],
            "customAttributes": {"tier": "Base", "points": 120},
            "transactions": [
                _order(
                    "CB-5003",
                    "2026-09-15",
                    "Cancelled",
                    "n/a",
                    [("p4", "Trail Snack Box (September)", "BOX-SEP", 1, "$49.00")],
                    currency=None,
                )
            ],
        },
        {
            "externalCustomerId": "club-1003",
            "name": "Priya Patel",
            "emails": [{"original": "priya.patel@example.com"}],
            "phones": [],
            "customAttributes": {"tier": "Summit", "points": "980"},
            "transactions": [],
        },
    ]


@dataclass
class Club:
    members: list[dict[str, Any]] = field(default_factory=members)
    # Actions run, newest last: (action, values).
    runs: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Lookup bodies received, newest last (GET /__sandbox/lookups): what a caller asked.
    lookups: list[dict[str, Any]] = field(default_factory=list)

    def copy(self) -> Club:
        return Club(copy.deepcopy(self.members))
