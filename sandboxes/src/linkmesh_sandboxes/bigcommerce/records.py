"""What BigCommerce keeps of the writes made to it, read back as its API answers them:
``GET /v3/orders/{id}/payment_actions/refunds`` (an order's refunds, oldest first) and
``GET /v2/coupons`` with its ``code`` filter (BigCommerce answers an empty v2 list with 204)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from linkmesh_sandboxes.bigcommerce.data import Store


def refunds_of(store: Store) -> dict[int, list[dict[str, Any]]]:
    """The store's refunds by order id (a store saved before refunds were kept has none)."""
    refunds: dict[int, list[dict[str, Any]]] = store.__dict__.setdefault("refunds", {})
    return refunds


def keep_refund(store: Store, refund: dict[str, Any]) -> None:
    refunds_of(store).setdefault(int(refund["order_id"]), []).append(refund)


def list_refunds(store: Store, order_id: int) -> web.Response:
    return web.json_response({"data": refunds_of(store).get(order_id, []), "meta": {}})


def list_coupons(store: Store, query: Any) -> web.Response:
    found = [c for c in store.coupons.values() if "code" not in query or c["code"].lower() == str(query["code"]).lower()]
    if "id" in query:
        found = [c for c in found if str(c["id"]) == str(query["id"])]
    if not found:
        return web.Response(status=204)
    return web.json_response(sorted(found, key=lambda c: c["id"]))
