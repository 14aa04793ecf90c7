"""Shipments read alongside the order list, from a refresh's hint of the orders it holds.

BigCommerce lists an order's shipments by order only (``/v2/orders/{id}/shipments``), so a
fetch reads them after the order list: two rounds of vendor calls. A refresh tells which
orders it last saw shipped (``FetchRequest.known``); their shipments are asked for at once,
with the order list, and serve an order of the list when they account for every item it
says is shipped. An order that is new, newly shipped or shipped again since is read after
the list, as without the hint: the answer is the same, one round sooner when nothing is new.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from linkmesh_core.errors import ServiceError

if TYPE_CHECKING:
    from linkmesh.lookup.v1 import lookup_pb2

    from linkmesh_bigcommerce.client import BigCommerceClient, Store
    from linkmesh_core.paging import Listing
    from linkmesh_core.vendor_http import Deadline


def shipped_quantity(shipments: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(str(i.get("quantity") or 0)) for s in shipments for i in s.get("items") or ()), Decimal(0))


class EarlyShipments:
    """The shipments of the hinted orders (at most ``max_orders``, as many as a fetch reads),
    one task each, started now; ``close`` ends those no order took."""

    def __init__(self, client: BigCommerceClient, store: Store, known: lookup_pb2.KnownData, max_orders: int, deadline: Deadline) -> None:
        ids = [int(o.id) for o in known.orders[:max_orders] if o.shipped and o.id.isdigit()]
        self.reads: dict[int, asyncio.Task[Listing[dict[str, Any]]]] = {
            i: asyncio.ensure_future(client.order_shipments(store, i, deadline)) for i in dict.fromkeys(ids)
        }

    async def take(self, order_id: int, items_shipped: Decimal) -> Listing[dict[str, Any]] | None:
        """The order's shipments read early, if read, whole and covering ``items_shipped``;
        else None (read them now). An early read that failed is asked again now."""
        read = self.reads.pop(order_id, None)
        if read is None:
            return None
        try:
            found = await read
        except ServiceError:
            return None  # asked again now: the failure, if it lasts, is that read's
        if not found.complete or shipped_quantity(found.items) < items_shipped:
            return None
        return found

    def close(self) -> None:
        """Ends the reads no order of the list took (an order gone from the newest ones)."""
        for read in self.reads.values():
            if read.done():
                if not read.cancelled():
                    read.exception()  # retrieved: a read nobody needed fails nothing
            else:
                read.cancel()
        self.reads.clear()
