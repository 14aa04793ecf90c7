"""Shopify's calculated query cost (shopify.dev, "API rate limits": cost calculation):
a scalar or enum costs 0, an object 1, a connection 2 plus the cost of its nodes times the
number asked for (``first`` or ``last``), a list of objects the cost of its items times
the number asked for, a mutation 10. The requested cost counts what a query may return;
the actual cost counts what it did return (Shopify refunds the difference to the bucket).
A connection asked for without ``first`` or ``last`` is refused, as Shopify refuses it."""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    value_from_ast_untyped,
)

MUTATION_COST = 10
MAX_PAGE = 250


class CostError(Exception):
    pass


def _size(node: FieldNode, variables: dict[str, Any]) -> int | None:
    for arg in node.arguments or ():
        if arg.name.value in ("first", "last"):
            value = value_from_ast_untyped(arg.value, variables)
            if value is None:
                continue
            if not isinstance(value, int) or value < 0 or value > MAX_PAGE:
                raise CostError(f"{node.name.value}: {arg.name.value} must be between 0 and {MAX_PAGE}")
            return value
    return None


class Coster:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode], variables: dict[str, Any]) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables

    def fields(self, selection: SelectionSetNode | None, data: Any) -> list[FieldNode]:
        out: list[FieldNode] = []
        for s in selection.selections if selection else ():
            if isinstance(s, FieldNode):
                out.append(s)
            elif isinstance(s, InlineFragmentNode):
                cond = s.type_condition.name.value if s.type_condition else None
                if data is None or cond is None or not isinstance(data, dict) or data.get("__typename", cond) == cond:
                    out += self.fields(s.selection_set, data)
            elif isinstance(s, FragmentSpreadNode):
                out += self.fields(self.fragments[s.name.value].selection_set, data)
        return out

    def object_cost(self, type_: Any, selection: SelectionSetNode | None, data: Any, actual: bool) -> int:
        """The cost of the fields selected on one object (not counting the object itself)."""
        total = 0
        for node in self.fields(selection, data if actual else None):
            if node.name.value.startswith("__"):
                continue
            parent = get_named_type(type_)
            field = parent.fields.get(node.name.value) if isinstance(parent, GraphQLObjectType) or hasattr(parent, "fields") else None
            if field is None:
                continue
            key = node.alias.value if node.alias else node.name.value
            value = data.get(key) if actual and isinstance(data, dict) else None
            total += self.field_cost(node, field.type, value, actual)
        return total

    def field_cost(self, node: FieldNode, type_: Any, value: Any, actual: bool) -> int:
        named = get_named_type(type_)
        if is_leaf_type(named):
            return 0
        if actual and value is None:
            return 0
        inner = type_.of_type if is_non_null_type(type_) else type_
        size = _size(node, self.variables)
        if named.name.endswith("Connection"):
            if size is None:
                raise CostError(f"you must provide one of first or last for the {node.name.value} connection")
            per = self.connection_item_cost(named, node.selection_set)
            count = len(value.get("nodes") or value.get("edges") or []) if actual else size
            return 2 + count * per
        if is_list_type(inner):
            if actual:
                return sum(1 + self.object_cost(named, node.selection_set, item, True) for item in value or [])
            return (size if size is not None else 1) * (1 + self.object_cost(named, node.selection_set, None, False))
        return 1 + self.object_cost(named, node.selection_set, value, actual)

    def connection_item_cost(self, connection: Any, selection: SelectionSetNode | None) -> int:
        per = 0
        for node in self.fields(selection, None):
            if node.name.value == "nodes":
                per = max(per, 1 + self.object_cost(get_named_type(connection.fields["nodes"].type), node.selection_set, None, False))
            elif node.name.value == "edges":
                edge = get_named_type(connection.fields["edges"].type)
                for inner in self.fields(node.selection_set, None):
                    if inner.name.value == "node":
                        per = max(per, 1 + self.object_cost(get_named_type(edge.fields["node"].type), inner.selection_set, None, False))
        return per


def costs(
    schema: GraphQLSchema, document: Any, operation: OperationDefinitionNode, variables: dict[str, Any], data: Any = None
) -> tuple[int, int]:
    """(requested, actual) cost of ``operation``; ``data`` is what it answered."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    coster = Coster(schema, fragments, variables)
    if operation.operation.value == "mutation":
        count = len(coster.fields(operation.selection_set, None))
        return MUTATION_COST * count, MUTATION_COST * count
    root = schema.query_type
    requested = coster.object_cost(root, operation.selection_set, None, False)
    actual = coster.object_cost(root, operation.selection_set, data, True) if data is not None else requested
    return requested, actual
