"""Shipments read alongside the order list, from a refresh's hint of the orders it holds.

Magento lists shipments by order id (``/V1/shipments`` with ``order_id in``), so a fetch reads
them after the order list: two rounds of vendor calls. A refresh tells which orders it holds
(``FetchRequest.known``); their shipments are asked for at once, in one request with the order
list, and serve when that list is whole and covers every order listed. A new order is read
after the list with the others, as without the hint: the same answer, one round sooner when
nothing is new.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from linkmesh_core.errors import ServiceError
from linkmesh_core.paging import Listing

if TYPE_CHECKING:
    from linkmesh.lookup.v1 import lookup_pb2

    from linkmesh_core.vendor_http import Deadline
    from linkmesh_magento.client import MagentoClient, Shop


class EarlyShipments:
    def __init__(self, client: MagentoClient, shop: Shop, known: lookup_pb2.KnownData, max_orders: int, deadline: Deadline) -> None:
        self.client = client
        self.shop = shop
        self.deadline = deadline
        self.ids = {int(o.id) for o in known.orders[:max_orders] if o.id.isdigit()}
        self.read: asyncio.Task[Listing[dict[str, Any]]] | None = (
            asyncio.ensure_future(client.shipments(shop, sorted(self.ids), deadline)) if self.ids else None
        )

    async def shipments(self, order_ids: list[int]) -> Listing[dict[str, Any]]:
        """Every shipment of ``order_ids``: the early read when it is whole and covers them all,
        else one read now (an early read that failed is asked again now)."""
        if self.read is not None and set(order_ids) <= self.ids:
            try:
                found = await self.read
            except ServiceError:
                found = None
            if found is not None and found.complete:
                return found
        return await self.client.shipments(self.shop, order_ids, self.deadline)

    def close(self) -> None:
        """Ends the early read if no order list took it."""
        if self.read is None:
            return
        if not self.read.done():
            self.read.cancel()
        elif not self.read.cancelled():
            self.read.exception()  # retrieved: a read nobody needed fails nothing
