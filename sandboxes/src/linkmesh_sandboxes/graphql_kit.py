"""What a GraphQL vendor's sandbox shares: the vendor's published schema, and every request
validated against it before it is answered.

The schema is built with graphql-core's ``build_client_schema`` from the vendor's own
introspection result, so a query or variables the vendor would reject (an unknown field, a
missing argument, a wrong enum value, a variable of the wrong type) fail here exactly as they
would there, with GraphQL's own messages. Answers come from plain data: a field's value is
a dict entry, or a callable taking ``(info, **arguments)``; an interface or union value names
its type in ``__typename``.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    build_client_schema,
    execute,
    parse,
    validate,
    validate_schema,
)
from graphql.execution.values import get_variable_values


@lru_cache(maxsize=4)
def load_schema(path: Path) -> GraphQLSchema:
    """A schema from an introspection result (``{"data": {"__schema": ...}}``, gzipped or not)."""
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    result = json.loads(raw)
    schema = build_client_schema(result.get("data", result))
    problems = validate_schema(schema)
    # A published schema may break a rule of the type system that vendors' servers do not
    # enforce (Shopify 2025-01 deprecates fields that implement non-deprecated interface
    # fields, a rule graphql-core 3.3 added). Only those are tolerated; they change nothing
    # in how a request is validated or run.
    fatal = [p for p in problems if "must not be deprecated" not in p.message]
    if fatal:
        raise TypeError("\n".join(p.message for p in fatal))
    schema._validation_errors = []  # checked above: validate() and execute() accept it
    return schema


@dataclass
class Request:
    """A parsed and validated request: its document and the operation it runs."""

    document: DocumentNode
    operation: OperationDefinitionNode
    variables: dict[str, Any]
    # The variables as the schema's types read them (checked: a wrong type is refused first).
    values: dict[str, Any] = field(default_factory=dict)


class Rejected(Exception):
    """The request is not one the vendor would run: ``errors`` as the GraphQL response lists them."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors[0]["message"] if errors else "rejected")
        self.errors = errors


def read_request(schema: GraphQLSchema, body: Any) -> Request:
    """Parses ``{"query", "variables", "operationName"}`` and validates it against the schema."""
    if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
        raise Rejected([{"message": "Parameter Missing or Invalid: query"}])
    variables = body.get("variables") or {}
    if not isinstance(variables, Mapping):
        raise Rejected([{"message": "Parameter Missing or Invalid: variables must be an object"}])
    try:
        document = parse(body["query"])
    except GraphQLError as err:
        raise Rejected([dict(err.formatted)]) from None
    problems = validate(schema, document)
    if problems:
        raise Rejected([dict(p.formatted) for p in problems])
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = body.get("operationName")
    chosen = [o for o in operations if name is None or (o.name and o.name.value == name)]
    if len(chosen) != 1:
        raise Rejected(
            [
                {
                    "message": "An operation name is required when the document holds several operations"
                    if name is None
                    else f'Unknown operation named "{name}"'
                }
            ]
        )
    coerced = get_variable_values(schema, chosen[0].variable_definitions or [], dict(variables))
    if isinstance(coerced, list):
        raise Rejected([dict(e.formatted) for e in coerced])
    values: Any = getattr(coerced, "coerced", coerced)  # graphql-core 3.3 wraps them in VariableValues
    return Request(document, chosen[0], dict(variables), dict(values))


def run(schema: GraphQLSchema, request: Request, root: Mapping[str, Any]) -> ExecutionResult:
    """Runs a validated request over plain data (variables coerced and checked by graphql-core)."""
    name = request.operation.name.value if request.operation.name else None
    result = execute(schema, request.document, root_value=root, variable_values=request.variables, operation_name=name)
    if not isinstance(result, ExecutionResult):  # pragma: no cover - resolvers here are synchronous
        raise TypeError("the sandbox's resolvers must be synchronous")
    return result


def connection(
    items: list[Any], first: int | None = None, last: int | None = None, after: str | None = None, before: str | None = None
) -> dict[str, Any]:
    """A Relay connection of ``items`` (cursors are positions)."""
    start = int(after) + 1 if after and after.isdigit() else 0
    end = int(before) if before and before.isdigit() else len(items)
    window = list(enumerate(items))[start:end]
    if first is not None:
        window = window[:first]
    if last is not None:
        window = window[-last:] if last else []
    return {
        "edges": [{"cursor": str(i), "node": item} for i, item in window],
        "nodes": [item for _, item in window],
        "pageInfo": {
            "hasNextPage": bool(window) and window[-1][0] < min(end, len(items)) - 1,
            "hasPreviousPage": bool(window) and window[0][0] > 0,
            "startCursor": str(window[0][0]) if window else None,
            "endCursor": str(window[-1][0]) if window else None,
        },
    }
