"""A request that changes a vendor's state is sent once, whatever fails; reads are
retried at one layer only (the vendor client), within the caller's deadline."""

from __future__ import annotations

import grpc
import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce.client import BigCommerceErrors
from linkmesh_core.channels import retryable_methods
from linkmesh_core.errors import NOT_SENT, OUTCOME_UNKNOWN, ServiceError
from linkmesh_core.vendor_http import Deadline, VendorHTTP
from linkmesh_devstack.ports import free_port
from linkmesh_sandboxes.bigcommerce import data
from linkmesh_sandboxes.knobs import Failure
from tests.inprocess import bigcommerce_app, bigcommerce_connector, bigcommerce_sandbox

REFUND = {"lines": "500102:1"}


async def rpc_error(call) -> ServiceError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return ServiceError.from_rpc_error(info.value)


def refund_request(url: str) -> lookup_pb2.RunActionRequest:
    return lookup_pb2.RunActionRequest(
        app=bigcommerce_app(url), action="refund", external_customer_id="101", order_id="5001", params=REFUND, idempotency_key="c:k1"
    )


def calls(sandbox, fragment: str, method: str = "POST") -> int:
    return sum(1 for r in sandbox.requests if fragment in r["path"] and r["method"] == method)


async def test_a_refund_the_vendor_performed_but_answered_502_is_sent_once_and_unknown() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector(max_attempts=3) as stub:
        sandbox.knobs.fail = Failure(status=502, path="/payment_actions/refunds", method="POST", after=True)
        err = await rpc_error(stub.RunAction(refund_request(sandbox.url), timeout=10))
        assert err.code == grpc.StatusCode.UNAVAILABLE
        assert err.outcome == OUTCOME_UNKNOWN, "the vendor may have acted: the caller must not repeat it"
        assert calls(sandbox, "/payment_actions/refunds") == 1, "a state-changing request is sent once"
        assert calls(sandbox, "/payment_actions/refund_quotes") == 1


async def test_a_refund_whose_connector_call_fails_is_not_retried_by_the_channel() -> None:
    """gRPC's service-config retries used to run RunAction again on UNAVAILABLE (3 x 3 refund POSTs)."""
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector(max_attempts=3) as stub:
        sandbox.knobs.fail = Failure(status=500, path="/payment_actions/refunds", method="POST")
        for _ in range(2):
            err = await rpc_error(stub.RunAction(refund_request(sandbox.url), timeout=10))
            assert err.code == grpc.StatusCode.UNAVAILABLE and err.outcome == OUTCOME_UNKNOWN
        assert calls(sandbox, "/payment_actions/refunds") == 2, "one refund POST per request"


async def test_a_read_retried_by_the_vendor_client_is_not_retried_again_by_the_channel() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector(max_attempts=3) as stub:
        sandbox.knobs.fail = Failure(status=500, path="/v3/customers")
        err = await rpc_error(
            stub.Search(lookup_pb2.SearchRequest(app=bigcommerce_app(sandbox.url), emails=["jane.smith@example.com"]), timeout=10)
        )
        assert err.code == grpc.StatusCode.UNAVAILABLE
        assert calls(sandbox, "/v3/customers", "GET") == 3, "three attempts at one layer, not three times three"


async def test_an_action_that_failed_before_any_write_says_nothing_was_sent() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector(max_attempts=2) as stub:
        sandbox.knobs.fail = Failure(status=503, path="/v2/orders/5001", method="GET")
        err = await rpc_error(stub.RunAction(refund_request(sandbox.url), timeout=10))
        assert err.code == grpc.StatusCode.UNAVAILABLE and err.outcome == NOT_SENT
        assert calls(sandbox, "/payment_actions/") == 0


async def test_a_write_that_timed_out_after_the_vendor_acted_is_unknown_and_sent_once() -> None:
    async with bigcommerce_sandbox() as sandbox:
        http = VendorHTTP("BigCommerce", errors=BigCommerceErrors(), allow_private_hosts=True, max_attempts=3)
        await http.start()
        try:
            sandbox.knobs.fail = Failure(status=0, path="/v2/coupons", after=True, hang_s=2.0)
            url = f"{sandbox.url}/stores/{data.STORE_HASH}/v2/coupons"
            coupon = {
                "name": "x",
                "code": "ONCE-1",
                "type": "free_shipping",
                "amount": "0",
                "applies_to": {"entity": "categories", "ids": [0]},
            }
            with pytest.raises(ServiceError) as info:
                await http.request(
                    "POST", url, bucket="b", deadline=Deadline.after(1.0), headers={"X-Auth-Token": data.ACCESS_TOKEN}, json_body=coupon
                )
            assert info.value.code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)
            assert info.value.outcome == OUTCOME_UNKNOWN
            assert calls(sandbox, "/v2/coupons") == 1
        finally:
            await http.close()


async def test_a_write_that_could_not_connect_was_not_sent() -> None:
    http = VendorHTTP("BigCommerce", errors=BigCommerceErrors(), allow_private_hosts=True, max_attempts=2)
    await http.start()
    try:
        with pytest.raises(ServiceError) as info:
            await http.request("POST", f"http://127.0.0.1:{free_port()}/v2/coupons", bucket="b", deadline=Deadline.after(3.0), json_body={})
        assert info.value.code == grpc.StatusCode.UNAVAILABLE and info.value.outcome == NOT_SENT
    finally:
        await http.close()


def test_only_reads_are_retried_by_channel_service_config() -> None:
    methods = set(retryable_methods())
    lookup, customers, admin = "linkmesh.lookup.v1.LookupService", "linkmesh.profile.v1.CustomerService", "linkmesh.profile.v1.AdminService"
    assert {(lookup, m) for m in ("Search", "Fetch", "Describe", "ValidateApp")} <= methods
    assert (customers, "GetCustomer") in methods and (customers, "SearchExternal") in methods
    assert ("linkmesh.profile.v1.AuthService", "AuthenticateApiKey") in methods and (admin, "ListApps") in methods
    assert (lookup, "RunAction") not in methods and (customers, "RunAction") not in methods
    for write in ("CreateCustomer", "UpdateCustomer", "LinkCustomer", "UnlinkCustomer", "RecordContact"):
        assert (customers, write) not in methods, write
    for write in ("CreateApp", "UpdateApp", "DeleteApp", "CreateApiKey", "RevokeApiKey"):
        assert (admin, write) not in methods, write
    adaptor = "linkmesh.profile.v1.AdaptorService"
    assert (adaptor, "AdaptorLookup") in methods and (adaptor, "GetAdaptorActionForm") in methods
    assert (adaptor, "RunAdaptorAction") not in methods, "a served action is a write"
    assert (adaptor, "VerifyAdaptorRequest") not in methods, "it notes the signature: a second look is a replay"
