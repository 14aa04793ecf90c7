"""A person's data on request (admins): everything linkmesh holds about a customer exported as one
JSON document, and the customer erased (PrivacyService)."""

from __future__ import annotations

from aiohttp import web
from linkmesh.profile.v1 import privacy_pb2

from linkmesh_gateway.middleware import allow
from linkmesh_gateway.responses import json_response
from linkmesh_gateway.serialize import to_json
from linkmesh_gateway.state import PRIVACY
from linkmesh_gateway.views.common import rpc_timeout


@allow("admin")
async def export_customer(request: web.Request) -> web.Response:
    """``GET /api/v1/customers/{customer_id}/export``: the document, as a download."""
    customer_id = request.match_info["customer_id"]
    done = await request.app[PRIVACY].ExportCustomer(
        privacy_pb2.ExportCustomerRequest(customer_id=customer_id), timeout=rpc_timeout(request)
    )
    headers = {"Content-Disposition": f'attachment; filename="linkmesh-customer-{customer_id}.json"', "Cache-Control": "no-store"}
    return web.Response(body=done.document, content_type="application/json", headers=headers)


@allow("admin")
async def erase_customer(request: web.Request) -> web.Response:
    """``POST /api/v1/customers/{customer_id}/erase``: what was removed and kept without the data."""
    ask = privacy_pb2.EraseCustomerRequest(customer_id=request.match_info["customer_id"])
    done = await request.app[PRIVACY].EraseCustomer(ask, timeout=rpc_timeout(request))
    answer = to_json(done)
    answer.setdefault("removed", {})
    answer.setdefault("pseudonymised", {})
    return json_response(answer)
