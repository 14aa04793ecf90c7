"""The gateway's JSON answers (orjson): what a client reads is what ``json.dumps`` wrote."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest

from linkmesh_gateway.responses import dumps, json_response

SAMPLES: list[Any] = [
    {},
    [],
    {"name": "Zoë Ångström", "city": "Zürich", "emoji": "📦", "cjk": "東京"},
    {"total": {"amount": "179.00", "currency": "USD"}, "count": 3, "ratio": 0.1, "big": 2**62, "neg": -7},
    {"nested": [{"a": [1, 2, {"b": None}]}, True, False, 1e16, 1.5e-7]},
    {"quote": 'say "hi"\\ back\nslash / tab\t', "control": "\x00\x1f"},
]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 4 else 5)
    if kind == 0:
        return rng.randint(-(2**63), 2**63 - 1)
    if kind == 1:
        return rng.uniform(-1e9, 1e9)
    if kind == 2:
        return "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0xA0, 0xD7FF)])) for _ in range(rng.randrange(12)))
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return rng.randint(0, 1000)
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {f"k{i}_{rng.randrange(99)}": random_value(rng, depth + 1) for i in range(rng.randrange(5))}


@pytest.mark.parametrize("data", SAMPLES + [random_value(random.Random(seed)) for seed in range(200)])
def test_a_client_reads_what_json_dumps_would_have_written(data: Any) -> None:
    assert json.loads(dumps(data)) == json.loads(json.dumps(data))


def test_the_answer_says_json_in_utf8_with_its_status_and_headers() -> None:
    response = json_response({"name": "Zoë"}, status=201, headers={"Cache-Control": "no-store"})
    assert response.status == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    assert isinstance(response.body, bytes)
    assert json.loads(response.body.decode("utf-8")) == {"name": "Zoë"}


def test_problem_details_keep_their_media_type() -> None:
    response = json_response({"title": "x"}, status=422, content_type="application/problem+json")
    assert response.headers["Content-Type"] == "application/problem+json; charset=utf-8"


def test_a_float_json_cannot_hold_is_null_not_invalid_json() -> None:
    text = dumps({"a": math.nan, "b": math.inf})
    assert json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} in the answer")) == {"a": None, "b": None}


def test_a_value_json_has_no_form_for_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"when": object()})


def test_what_orjson_refuses_is_written_as_json_dumps_writes_it() -> None:
    """A lone surrogate (a request's ``"\\ud800"`` echoed in an error) and an integer past 64 bits."""
    for data in ({"field \ud800": "bad \udfff"}, {"n": 2**70, "m": -(2**65)}):
        assert json.loads(dumps(data)) == data
