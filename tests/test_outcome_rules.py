"""Which failures release an action's idempotency key: only an explicit NOT_SENT in linkmesh's
own error domain. Everything gRPC can make up by itself after the action left is unknown; and
an error never grows past gRPC's metadata limit, so it always arrives as the connector sent it."""

from __future__ import annotations

import grpc
import pytest

from linkmesh_core.errors import MAX_DEBUG, NOT_SENT, OUTCOME_UNKNOWN, ServiceError, clip, invalid_argument, rate_limited
from linkmesh_profile.actions.outcomes import settled_state
from linkmesh_sandboxes.knobs import Failure
from tests.e2e.test_unknown_outcomes import LEGACY_PAGE
from tests.inprocess import bigcommerce_connector, bigcommerce_sandbox
from tests.test_sent_once import calls, refund_request

TRANSPORT_CODES = [
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
]


class _FakeRpcError(grpc.aio.AioRpcError):
    """What the channel raises for a status it made up: a code and a message, no details."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


@pytest.mark.parametrize("code", TRANSPORT_CODES, ids=lambda c: c.name)
def test_a_status_the_transport_made_up_after_dispatch_is_unknown(code: grpc.StatusCode) -> None:
    err = ServiceError.from_rpc_error(_FakeRpcError(code, "received metadata size exceeds soft limit"), "the connector")
    assert err.foreign and err.outcome is None
    assert settled_state(err) == "unknown", f"{code.name} from gRPC itself says nothing about what the vendor did"


@pytest.mark.parametrize("code", TRANSPORT_CODES, ids=lambda c: c.name)
def test_the_same_codes_from_a_connector_that_said_nothing_was_sent_release_the_key(code: grpc.StatusCode) -> None:
    assert settled_state(ServiceError(code, "no connection", outcome=NOT_SENT)) is None
    assert settled_state(ServiceError(code, "it may have acted", outcome=OUTCOME_UNKNOWN)) == "unknown"
    assert settled_state(ServiceError(code, "nothing claimed")) == "unknown"


def test_a_rate_limit_says_nothing_was_sent_explicitly() -> None:
    assert settled_state(rate_limited("BigCommerce rate limit reached", retry_after=2.0)) is None
    assert settled_state(invalid_argument("bad lines", {"lines": "no such line"})) == "failed"


def test_texts_are_cut_by_their_bytes_never_inside_a_character() -> None:
    text = "\ufffd" * 4000
    cut = clip(text, MAX_DEBUG)
    assert len(cut.encode()) <= MAX_DEBUG and cut.endswith("…")
    assert clip("short", 10) == "short"


def test_an_error_about_huge_values_stays_well_under_the_metadata_limit() -> None:
    err = ServiceError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "é" * 5000,
        {f"field-{'ж' * 300}-{i}": "ж" * 900 for i in range(50)},
        retry_after=1.5,
        outcome=OUTCOME_UNKNOWN,
        debug="\ufffd" * 4000,
        app_id="x" * 900,
    )
    status = err.to_status()
    # grpc-message travels percent-encoded: up to 3 bytes for every byte of the message.
    size = len(status.details.encode()) * 3 + sum(len(k) + len(v) for k, v in status.trailing_metadata)
    assert size < 6 * 1024, size


async def test_a_large_non_utf8_5xx_after_the_vendor_acted_arrives_whole_and_unknown() -> None:
    async with bigcommerce_sandbox() as sandbox, bigcommerce_connector() as stub:
        sandbox.knobs.fail = Failure(
            status=502, path="/payment_actions/refunds", method="POST", after=True, raw_body=LEGACY_PAGE, raw_body_charset="cp1251"
        )
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.RunAction(refund_request(sandbox.url), timeout=10)
        err = ServiceError.from_rpc_error(info.value)
        assert not err.foreign, f"the connector's error was replaced by gRPC's own: {info.value.details()}"
        assert err.code == grpc.StatusCode.UNAVAILABLE and err.outcome == OUTCOME_UNKNOWN
        assert err.debug.startswith("HTTP 502") and len(err.debug.encode()) <= MAX_DEBUG
        # Well under the 8 KiB soft limit, past which gRPC refuses metadata at random (12 KB before).
        metadata = sum(len(k) + len(v) for k, v in info.value.trailing_metadata())
        assert metadata < 4 * 1024, metadata
        assert settled_state(err) == "unknown"
        assert calls(sandbox, "/payment_actions/refunds") == 1
