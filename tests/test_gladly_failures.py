"""The served adaptor's failures in the protocol's terms (``linkmesh_gateway.gladly.failures``):
what a gRPC code from the profile service means depends on what was asked, and a failure the
profile service did not answer says so (on an action, that its outcome is unknown)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import cast

import grpc
import pytest
from aiohttp import web

from linkmesh_core.errors import NOT_SENT, OUTCOME_UNKNOWN, ServiceError
from linkmesh_gateway.gladly import failures

Code = grpc.StatusCode


def said(response: web.Response) -> tuple[int, object]:
    return response.status, json.loads(cast(bytes, response.body))


@pytest.mark.parametrize(
    ("asked", "err", "status"),
    [
        (failures.verify_failure, ServiceError(Code.UNAUTHENTICATED, "the request signature does not verify"), 401),
        (failures.lookup_failure, ServiceError(Code.UNAUTHENTICATED, "BigCommerce refused the access token", app_id="a"), 502),
        (failures.lookup_failure, ServiceError(Code.PERMISSION_DENIED, "scope missing"), 502),
        (failures.lookup_failure, ServiceError(Code.FAILED_PRECONDITION, "app Shop is inactive"), 503),
        (failures.lookup_failure, ServiceError(Code.INVALID_ARGUMENT, "lookupLevel must be BASIC or DETAILED"), 400),
        (failures.lookup_failure, ServiceError(Code.RESOURCE_EXHAUSTED, "the vendor's budget is spent", retry_after=2.5), 429),
        (failures.form_failure, ServiceError(Code.INVALID_ARGUMENT, "no action 'x'", {"action": "must be one of: refund"}), 404),
        (failures.form_failure, ServiceError(Code.FAILED_PRECONDITION, "actions are turned off"), 406),
        (failures.run_failure, ServiceError(Code.INVALID_ARGUMENT, "no action 'x'", {"action": "must be one of: refund"}), 404),
        (failures.run_failure, ServiceError(Code.UNAVAILABLE, "the vendor is down", outcome=NOT_SENT), 503),
        (failures.run_failure, ServiceError(Code.UNAVAILABLE, "the answer was lost", outcome=OUTCOME_UNKNOWN), 502),
        (failures.run_failure, ServiceError(Code.ABORTED, "the first attempt still runs"), 503),
        (failures.run_failure, ServiceError(Code.FAILED_PRECONDITION, "the order is cancelled"), 406),
    ],
)
def test_each_code_answers_the_status_of_what_was_asked(
    asked: Callable[[ServiceError], web.Response], err: ServiceError, status: int
) -> None:
    got, body = said(asked(err))
    assert got == status
    assert isinstance(body, dict) and set(body) == {"errors"} and body["errors"][0]["message"] == err.message


def test_a_lookup_of_a_record_that_is_not_there_is_an_answer() -> None:
    assert said(failures.lookup_failure(ServiceError(Code.NOT_FOUND, "no customer 999"))) == (200, {"results": []})


def test_a_rate_limit_says_when_to_come_back() -> None:
    response = failures.lookup_failure(ServiceError(Code.RESOURCE_EXHAUSTED, "spent", retry_after=2.5))
    assert response.headers["Retry-After"] == "3"


def test_values_to_correct_are_named_by_their_attr() -> None:
    err = ServiceError(Code.INVALID_ARGUMENT, "the action is invalid", {"params.lines": "unknown line 9", "order_id": "is required"})
    status, body = said(failures.run_failure(err))
    assert status == 400
    assert body == {"errors": [{"attr": "lines", "detail": "unknown line 9"}, {"message": "order_id: is required"}]}


def test_an_unanswered_action_says_its_outcome_is_unknown() -> None:
    late = ServiceError(Code.DEADLINE_EXCEEDED, "linkmesh did not answer in time (DEADLINE_EXCEEDED)", foreign=True)
    status, body = said(failures.run_failure(late))
    assert status == 504 and "outcome is unknown" in str(body)
    status, body = said(failures.lookup_failure(late))
    assert status == 504 and "outcome" not in str(body), "a lookup changes nothing"
