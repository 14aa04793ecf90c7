"""A database that does not answer: every request gets 503 within its deadline, no
create reports its own success as a conflict, and service resumes without a restart."""

from __future__ import annotations

import os
import signal
import time
import uuid

import grpc
import pytest
from linkmesh.profile.v1 import customers_pb2_grpc, profile_pb2

from tests.conftest import Api

pytestmark = pytest.mark.e2e


def test_a_database_that_does_not_answer_is_503_within_the_deadline(api: Api) -> None:
    mongo = api.stack.mongo
    assert mongo is not None
    if mongo.process is None:
        pytest.skip(f"the database ({mongo.kind}) is not a process this test run can pause")
    email = f"outage-{uuid.uuid4().hex[:8]}@example.com"
    os.kill(mongo.process.pid, signal.SIGSTOP)  # alive, holding its connections, answering nothing
    try:
        with grpc.insecure_channel(f"127.0.0.1:{api.stack.profile_port}") as channel:
            stub = customers_pb2_grpc.CustomerServiceStub(channel)
            with pytest.raises(grpc.RpcError) as info:
                stub.CreateCustomer(profile_pb2.CreateCustomerRequest(customer=profile_pb2.CustomerInput(emails=[email])), timeout=8)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE, "answered before the caller's deadline, as unavailable"
        started = time.monotonic()
        response = api.post("/api/v1/customers", {"emails": [email]})
        elapsed = time.monotonic() - started
        assert response.status_code == 503, response.text
        assert response.headers.get("Retry-After") and "database" in response.json()["error"]["message"]
        assert elapsed < 14, "within the gateway's deadline (15 s in the test stack); one operation times out after 5 s"
    finally:
        os.kill(mongo.process.pid, signal.SIGCONT)
    # The database resumed: service goes on without a restart. A create the client gave up on
    # may have landed when the database woke (503 says nothing about a write's outcome); the
    # client finds it by its email, and there is never more than one.
    created = api.post("/api/v1/customers", {"emails": [email]})
    assert created.status_code in (201, 409), created.text
    found = api.get("/api/v1/customers", params={"email": email}).json()["customers"]
    assert len(found) == 1
    if created.status_code == 201:
        assert found[0]["id"] == created.json()["id"]
