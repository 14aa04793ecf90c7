"""No input makes the gateway answer 5xx: schemathesis generates requests for every
operation of the OpenAPI document (valid and invalid ones), sent as agent and as admin,
bounded in examples per operation (and so in time)."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from linkmesh_devstack.stack import Stack

pytestmark = pytest.mark.e2e
EXAMPLES_PER_OPERATION = 10


def fuzz(operation: Any, mode: GenerationMode, stack: Stack) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        for role in ("agent", "admin"):
            headers = {**dict(case.headers or {}), "Authorization": f"Bearer {stack.token(role)}"}
            response = case.call(base_url=stack.gateway_url, headers=headers, timeout=30)
            case.validate_response(response, checks=[not_a_server_error])

    run()


def test_no_operation_answers_5xx_to_any_input(stack: Stack) -> None:
    schema = schemathesis.openapi.from_url(f"{stack.gateway_url}/api/v1/openapi.json")
    failures = []
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 20
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzz(operation, mode, stack)
            except Unsatisfiable:  # no invalid input exists (an operation without parameters or body)
                continue
            except Exception as exc:
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
