"""Gladly's request signing (linkmesh_core.gladly_signing) against the protocol's golden vector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from linkmesh_core.gladly_signing import SignatureError, sign, signed_headers, verify

KEY = "test-apikey-1"
BODY = (
    b'{"lookupLevel":"DETAILED","query":{"emails":["martha.williams@gmail.com"],"externalCustomerId":"abc",'
    b'"favoriteDate":"2018-08-19T07:00:00.000Z","favoriteFood":"Apple Pie","id":"o2sg-TMTSD2rTwMuxzewbA",'
    b'"name":"Martha Williams","phones":["+15013299800"]},"uniqueMatchRequired":true}'
)
HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json",
    "Gladly-Correlation-Id": "vXmSEPjVSWCaCMzvjufxZg",
    "Gladly-Time": "20190213T214016Z",
    "X-B3-TraceId": "bd799210f8d549609a08ccef8ee7f166",
}
GOLDEN = "4c633fca4914f51df04c9ec40f4545d66d653e771c6634e33eed52a242bc278c"
AT = datetime(2019, 2, 13, 21, 42, 0, tzinfo=UTC)


def test_the_golden_vector() -> None:
    assert sign(KEY, "POST", "/api/v2/customer/lookup", "", HEADERS, BODY) == (
        "SigningAlgorithm=hmac-sha256, SignedHeaders=accept;content-type;gladly-correlation-id;gladly-time;x-b3-traceid, "
        f"Signature={GOLDEN}"
    )
    verify(
        [KEY],
        "POST",
        "/api/v2/customer/lookup",
        "",
        {**HEADERS, "Gladly-Authorization": sign(KEY, "POST", "/api/v2/customer/lookup", "", HEADERS, BODY)},
        BODY,
        now=AT,
    )


@pytest.mark.parametrize(
    "change, reason",
    [
        (lambda h, b: (h, b.replace(b"abc", b"abd")), "does not match"),
        (lambda h, b: ({**h, "Gladly-Correlation-Id": "other"}, b), "does not match"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-B3-TraceId"}, b), "signed header is missing"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "Gladly-Authorization"}, b), "missing"),
        (lambda h, b: ({**h, "Gladly-Authorization": "Bearer x"}, b), "is not SigningAlgorithm"),
    ],
)
def test_a_changed_request_is_refused_with_the_rule_it_broke(change, reason) -> None:
    headers = {**HEADERS, "Gladly-Authorization": sign(KEY, "POST", "/api/v2/customer/lookup", "", HEADERS, BODY)}
    h, b = change(headers, BODY)
    with pytest.raises(SignatureError, match=reason):
        verify([KEY], "POST", "/api/v2/customer/lookup", "", h, b, now=AT)


def test_replays_and_other_keys_are_refused_and_rotated_keys_accepted() -> None:
    headers = {**HEADERS, "Gladly-Authorization": sign(KEY, "POST", "/p", "", HEADERS, BODY)}
    with pytest.raises(SignatureError, match="5 minutes"):
        verify([KEY], "POST", "/p", "", headers, BODY, now=AT + timedelta(minutes=6))
    with pytest.raises(SignatureError, match="does not match"):
        verify(["another-key"], "POST", "/p", "", headers, BODY, now=AT)
    verify(["another-key", KEY], "POST", "/p", "", headers, BODY, now=AT)


def test_a_signed_get_with_a_query_verifies_whichever_way_the_query_was_signed() -> None:
    headers = signed_headers(KEY, "GET", "/forms/refund", "order=1832&b=2", b"", correlation_id="c1", trace_id="ab")
    assert "Content-Type" not in headers
    verify([KEY], "GET", "/forms/refund", "b=2&order=1832", headers, b"")
