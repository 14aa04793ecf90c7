"""The Shopify connector's webhooks over real gRPC against the sandbox over real HTTP (issue 34):
Subscribe makes what is missing and nothing twice; a delivery is read only when Shopify's
signature holds, and says whose data changed; Unsubscribe removes every subscription."""

from __future__ import annotations

import grpc
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_core.errors import ServiceError
from linkmesh_sandboxes.shopify import data
from linkmesh_sandboxes.shopify.app import create_app
from linkmesh_shopify.webhooks import TOPICS
from tests.inprocess import running
from tests.test_shopify_connector import rpc_error, shopify_app, shopify_connector
from tests.test_shopify_webhooks_sandbox import CANCEL, arrived, graphql, receiver


def app_with_secret(url: str, secret: str = data.CLIENT_SECRET) -> lookup_pb2.AppContext:
    app = shopify_app(url)
    app.secrets["client_secret"] = secret
    return app


async def test_subscribe_makes_each_topic_once_and_unsubscribe_removes_them() -> None:
    async with running(create_app()) as sandbox, receiver() as box, shopify_connector() as stub:
        app = app_with_secret(sandbox.url)
        first = await stub.Subscribe(lookup_pb2.SubscribeRequest(app=app, callback_url=box.url), timeout=10)
        assert sorted(s.topic for s in first.subscriptions) == sorted(TOPICS) and len(first.created) == len(TOPICS)
        again = await stub.Subscribe(lookup_pb2.SubscribeRequest(app=app, callback_url=box.url), timeout=10)
        assert list(again.created) == [] and len(again.subscriptions) == len(TOPICS), "asking again makes none twice"
        assert all(s.callback_url == box.url and s.state == "active" for s in again.subscriptions)
        gone = await stub.Unsubscribe(lookup_pb2.UnsubscribeRequest(app=app, callback_url=box.url), timeout=10)
        assert sorted(gone.removed) == sorted(s.id for s in first.subscriptions)
        assert (await graphql(sandbox, "{ webhookSubscriptions(first: 10) { nodes { id } } }"))["webhookSubscriptions"]["nodes"] == []
        unsigned = await rpc_error(
            stub.Subscribe(lookup_pb2.SubscribeRequest(app=shopify_app(sandbox.url), callback_url=box.url), timeout=10)
        )
        assert unsigned.code == grpc.StatusCode.INVALID_ARGUMENT and "client_secret" in unsigned.fields, (
            "no secret: no deliveries to verify"
        )


async def test_a_delivery_is_read_when_its_signature_holds_and_says_whose_data_changed() -> None:
    async with running(create_app(cancel_delay_s=0.01)) as sandbox, receiver() as box, shopify_connector() as stub:
        app = app_with_secret(sandbox.url)
        await stub.Subscribe(lookup_pb2.SubscribeRequest(app=app, callback_url=box.url), timeout=10)
        await graphql(sandbox, CANCEL, {"id": "gid://shopify/Order/5102"})
        got = await arrived(box, 3)
        changes = {}
        for headers, body in got:
            read = await stub.ReadDelivery(lookup_pb2.ReadDeliveryRequest(app=app, headers=headers, body=body), timeout=5)
            changes[read.change.topic] = read.change
        assert set(changes) == {"orders/cancelled", "orders/updated", "refunds/create"}
        cancelled = changes["orders/cancelled"]
        assert (cancelled.external_customer_id, cancelled.order_id, cancelled.kind) == ("7001", "5102", "change")
        assert cancelled.event_id and cancelled.happened_at.seconds > 0
        assert (changes["refunds/create"].external_customer_id, changes["refunds/create"].order_id) == ("", "5102"), (
            "a refund names its order"
        )
        headers, body = got[0]
        for forged in (body + b" ", body.replace(b"5102", b"5103")):
            refused = await rpc_error(stub.ReadDelivery(lookup_pb2.ReadDeliveryRequest(app=app, headers=headers, body=forged), timeout=5))
            assert refused.code == grpc.StatusCode.UNAUTHENTICATED, "a body changed after signing is refused"
        other = app_with_secret(sandbox.url, "another-apps-secret")
        refused = await rpc_error(stub.ReadDelivery(lookup_pb2.ReadDeliveryRequest(app=other, headers=headers, body=body), timeout=5))
        assert refused.code == grpc.StatusCode.UNAUTHENTICATED and "another-apps-secret" not in refused.message


async def test_a_connector_whose_webhooks_are_not_written_says_so() -> None:
    """The SDK's default: UNIMPLEMENTED, so the profile service keeps such an app fresh by reading it."""
    from tests.inprocess import magento_app, magento_connector

    async with magento_connector() as stub:
        request = lookup_pb2.SubscribeRequest(app=magento_app("http://127.0.0.1:9"), callback_url="https://h.example/x")
        err: ServiceError = await rpc_error(stub.Subscribe(request, timeout=5))
    assert err.code == grpc.StatusCode.UNIMPLEMENTED and "sends no change events" in err.message


async def test_shopifys_privacy_requests_are_verified_and_read_as_privacy() -> None:
    """customers/data_request, customers/redact and shop/redact (Shopify's mandatory topics, set in
    the app's configuration): checked as every delivery is, and read as privacy events, whose
    customer is named, for the privacy machinery to carry out (issue 35)."""
    import base64
    import hashlib
    import hmac
    import json

    async with shopify_connector() as stub:
        app = app_with_secret("http://127.0.0.1:9")
        for topic, body in (
            (
                "customers/redact",
                {"shop_domain": data.SHOP, "customer": {"id": 7001, "email": "jane.smith@example.com"}, "orders_to_redact": [5101]},
            ),
            ("customers/data_request", {"shop_domain": data.SHOP, "customer": {"id": 7001}, "orders_requested": [5101]}),
            ("shop/redact", {"shop_id": 1, "shop_domain": data.SHOP}),
        ):
            raw = json.dumps(body).encode()
            signed = base64.b64encode(hmac.new(data.CLIENT_SECRET.encode(), raw, hashlib.sha256).digest()).decode()
            headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signed, "X-Shopify-Event-Id": f"ev-{topic}"}
            change = (await stub.ReadDelivery(lookup_pb2.ReadDeliveryRequest(app=app, headers=headers, body=raw), timeout=5)).change
            assert (change.kind, change.topic) == ("privacy", topic)
            assert change.external_customer_id == ("" if topic == "shop/redact" else "7001")
            forged = {**headers, "X-Shopify-Hmac-Sha256": base64.b64encode(b"x" * 32).decode()}
            refused = await rpc_error(stub.ReadDelivery(lookup_pb2.ReadDeliveryRequest(app=app, headers=forged, body=raw), timeout=5))
            assert refused.code == grpc.StatusCode.UNAUTHENTICATED
