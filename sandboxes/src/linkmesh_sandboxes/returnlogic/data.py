"""Demo data of the ReturnLogic sandbox, in the shapes ``linkmesh_returnlogic.mapping``
documents (the best public knowledge of ReturnLogic's V1 API).

RMAs belong to customers who also exist in the other sandboxes: Jane Smith has
two (one refunded with a return label, one exchange in progress), John Doe one;
Priya Patel has orders but no returns; Mo Gento has one, refunded as a gift card.
Totals are nested as public client code corrected against live answers reads them:
``totals.refund.total``, ``totals.exchange.total``, ``totals.giftCard.total``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

API_KEY = "demo-returnlogic-key"
BASE = datetime(2026, 3, 1, 15, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class Account:
    api_key: str
    rmas: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)


def order(number: str, email: str, name: str, created: datetime, lines: list[tuple[str, str, int, float]]) -> dict[str, Any]:
    return {
        "id": f"ord_{number}",
        "orderNumber": number,
        "orderName": f"#{number}",
        "customerEmail": email,
        "customerName": name,
        "createDate": iso(created),
        "currency": "USD",
        "lineItems": [{"name": n, "sku": sku, "quantity": q, "price": f"{p:.2f}"} for n, sku, q, p in lines],
        "total": f"{sum(q * p for _, _, q, p in lines):.2f}",
    }


def rma(
    code: str,
    order: dict[str, Any],
    created: datetime,
    status: str,
    items: list[tuple[str, str, int, str]],
    refund: float,
    exchange: float,
    label: dict[str, str] | None,
    gift_card: float = 0.0,
) -> dict[str, Any]:
    return {
        "id": f"rma_{code.lower()}",
        "rlRmaId": code,
        "workflowStatus": status,
        "orderName": order["orderName"],
        "orderNumber": order["orderNumber"],
        "customerEmail": order["customerEmail"],
        "customerName": order["customerName"],
        "timeline": {"createDate": iso(created), "updateDate": iso(created + timedelta(days=2))},
        "totals": {
            "currency": "USD",
            "refund": {"total": f"{refund:.2f}"},
            "exchange": {"total": f"{exchange:.2f}"},
            "giftCard": {"total": f"{gift_card:.2f}"},
        },
        "shippingLabel": label or {},
        "rmaItems": [{"name": n, "sku": sku, "quantity": q, "returnReasonDescription": reason} for n, sku, q, reason in items],
    }


def build_account(api_key: str = API_KEY) -> Account:
    account = Account(api_key)
    jane1 = order(
        "1001",
        "jane.smith@example.com",
        "Jane Smith",
        BASE - timedelta(days=40),
        [("Trail Runner Shoe", "TR-SHOE-42", 1, 89.95), ("Merino Hiking Sock", "MER-SOCK-M", 3, 14.50)],
    )
    jane2 = order(
        "1002", "jane.smith@example.com", "Jane Smith", BASE - timedelta(days=10), [("Waterproof Shell Jacket", "SHELL-JKT-L", 1, 179.0)]
    )
    john = order("1003", "john.doe@example.com", "John Doe", BASE - timedelta(days=20), [("Daypack 22L", "PACK-22", 1, 74.50)])
    priya = order(
        "1004", "priya.patel@example.com", "Priya Patel", BASE - timedelta(days=5), [("Insulated Bottle 750ml", "BOTTLE-750", 2, 32.0)]
    )
    mo = order("1005", "mo.gento@example.com", "Mo Gento", BASE - timedelta(days=15), [("Camp Lantern", "MH-LAMP", 1, 39.50)])
    account.orders = [jane1, jane2, john, priya, mo]
    account.rmas = [
        rma(
            "RL-20001",
            jane1,
            BASE - timedelta(days=30),
            "REFUNDED",
            [("Trail Runner Shoe", "TR-SHOE-42", 1, "Too small")],
            89.95,
            0.0,
            {
                "trackingNumber": "9400111899223344556677",
                "carrier": "USPS",
                "trackingUrl": "https://tools.usps.com/go/TrackConfirmAction?tLabels=9400111899223344556677",
            },
        ),
        rma(
            "RL-20002",
            jane2,
            BASE - timedelta(days=3),
            "APPROVED",
            [("Waterproof Shell Jacket", "SHELL-JKT-L", 1, "Wrong colour")],
            0.0,
            179.0,
            {"trackingNumber": "1Z999AA10199887766", "carrier": "UPS", "trackingUrl": ""},
        ),
        rma("RL-20003", john, BASE - timedelta(days=12), "RECEIVED", [("Daypack 22L", "PACK-22", 1, "Defective zipper")], 74.50, 0.0, None),
        rma(
            "RL-20004",
            mo,
            BASE - timedelta(days=7),
            "PENDING",
            [("Camp Lantern", "MH-LAMP", 1, "Changed my mind")],
            0.0,
            0.0,
            None,
            gift_card=39.50,
        ),
    ]
    return account


def copy_account(account: Account) -> Account:
    return copy.deepcopy(account)
