"""Magento's ``searchCriteria`` query syntax, parsed and applied as Magento does.

``searchCriteria[filter_groups][i][filters][j][field|value|condition_type]``:
filters in one group are OR-ed, groups are AND-ed. ``sort_orders[k][field|direction]``,
``page_size``, ``current_page``. Magento's REST layer accepts the snake_case and
the camelCase spelling of each key (``filterGroups``, ``conditionType``, ...).
Malformed criteria are refused with Magento's own error body.

Input limits are on, as Adobe recommends for production stores (Stores >
Configuration > Services > Magento Web API > Web Api Input Limits; Magento's
``IOLimit`` ``DefaultPageSizeSetter`` and ``SearchCriteriaValidator``): a search
without a page size answers at most ``default_page_size`` (20) items, and a page
size over ``max_page_size`` (300) is refused with "Maximum SearchCriteria pageSize
is %max". A ``current_page`` past the last page answers the last page again, as
Magento's collections do (``Collection::getCurPage`` clamps), so a client that
pages until an empty page never stops: only ``total_count`` says when to.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any

from multidict import MultiMapping

CONDITIONS = {"eq", "neq", "like", "nlike", "in", "nin", "null", "notnull", "gt", "lt", "gteq", "lteq", "from", "to", "finset", "moreq"}
ALIASES = {
    "filterGroups": "filter_groups",
    "conditionType": "condition_type",
    "sortOrders": "sort_orders",
    "pageSize": "page_size",
    "currentPage": "current_page",
}
KEY = re.compile(r"^searchCriteria((?:\[[^\[\]]*\])+)$")


class MagentoError(Exception):
    """An error answered with Magento's body: ``{"message": "... %1 ...", "parameters": [...]}``."""

    def __init__(self, status: int, message: str, parameters: list[Any] | dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.parameters = status, message, parameters

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"message": self.message}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def required(field_name: str) -> MagentoError:
    return MagentoError(400, '"%fieldName" is required. Enter and try again.', {"fieldName": field_name})


def invalid_value(value: str, field_name: str) -> MagentoError:
    return MagentoError(400, 'Invalid value of "%value" provided for the %fieldName field.', {"value": value, "fieldName": field_name})


@dataclass
class InputLimits:
    enabled: bool = True
    default_page_size: int = 20
    max_page_size: int = 300

    def check(self, criteria: Criteria) -> None:
        """Applies the limits to parsed criteria: the default page size, the maximum."""
        if not self.enabled:
            return
        if criteria.page_size is None:
            criteria.page_size = self.default_page_size
        elif criteria.page_size > self.max_page_size:
            raise MagentoError(400, "Maximum SearchCriteria pageSize is %max", {"max": self.max_page_size})


@dataclass
class Filter:
    field: str
    value: str
    condition_type: str = "eq"


@dataclass
class Criteria:
    filter_groups: list[list[Filter]] = field(default_factory=list)
    sort_orders: list[tuple[str, str]] = field(default_factory=list)
    page_size: int | None = None
    current_page: int = 1

    def echo(self) -> dict[str, Any]:
        """The ``search_criteria`` Magento echoes in a search result."""
        out: dict[str, Any] = {
            "filter_groups": [
                {"filters": [{"field": f.field, "value": f.value, "condition_type": f.condition_type} for f in group]}
                for group in self.filter_groups
            ]
        }
        if self.sort_orders:
            out["sort_orders"] = [{"field": f, "direction": d} for f, d in self.sort_orders]
        if self.page_size is not None:
            out["page_size"] = self.page_size
            out["current_page"] = self.current_page
        return out


def _tree(query: MultiMapping[str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, value in query.items():
        if not key.startswith("searchCriteria"):
            continue
        match = KEY.match(key)
        if match is None:
            raise MagentoError(400, 'The "%1" parameter is malformed.', [key])
        parts = [ALIASES.get(p, p) for p in re.findall(r"\[([^\[\]]*)\]", match.group(1))]
        if any(p == "" for p in parts):
            raise MagentoError(400, 'The "%1" parameter is malformed.', [key])
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise MagentoError(400, 'The "%1" parameter is malformed.', [key])
            node = child
        node[parts[-1]] = value
    return tree


def _index(key: str, name: str) -> int:
    if not key.isdigit():
        raise MagentoError(400, 'The "%1" parameter is malformed.', [f"searchCriteria[{name}][{key}]"])
    return int(key)


def _int(value: Any, name: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"\d+", value):
        raise MagentoError(
            400,
            'The "%value" value\'s type is invalid. The "%type" type was expected. Verify and try again.',
            {"value": str(value), "type": "int"},
        )
    return int(value)


def parse(query: MultiMapping[str], *, require: bool = True) -> Criteria:
    tree = _tree(query)
    if not tree:
        if require:
            raise required("searchCriteria")
        return Criteria()
    unknown = set(tree) - {"filter_groups", "sort_orders", "page_size", "current_page"}
    if unknown:
        raise MagentoError(
            400,
            'Property "%fieldName" does not have accessor method "%accessMethod" in class "%className".',
            {
                "fieldName": sorted(unknown)[0],
                "accessMethod": "get" + sorted(unknown)[0].title().replace("_", ""),
                "className": "Magento\\Framework\\Api\\SearchCriteriaInterface",
            },
        )
    criteria = Criteria()
    groups = tree.get("filter_groups", {})
    if not isinstance(groups, dict):
        raise MagentoError(400, 'The "%1" parameter is malformed.', ["searchCriteria[filter_groups]"])
    for gkey in sorted(groups, key=lambda k: _index(k, "filter_groups")):
        group = groups[gkey]
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, dict):
            raise required("filters")
        parsed = []
        for fkey in sorted(filters, key=lambda k: _index(k, "filters")):
            item = filters[fkey]
            if not isinstance(item, dict):
                raise MagentoError(400, 'The "%1" parameter is malformed.', [f"searchCriteria[filter_groups][{gkey}][filters][{fkey}]"])
            if not item.get("field"):
                raise required("field")
            condition = item.get("condition_type") or "eq"
            if condition not in CONDITIONS:
                raise invalid_value(condition, "condition_type")
            if "value" not in item and condition not in ("null", "notnull"):
                raise required("value")
            parsed.append(Filter(item["field"], item.get("value", ""), condition))
        criteria.filter_groups.append(parsed)
    orders = tree.get("sort_orders", {})
    for okey in sorted(orders, key=lambda k: _index(k, "sort_orders")) if isinstance(orders, dict) else []:
        order = orders[okey]
        if not isinstance(order, dict) or not order.get("field"):
            raise required("field")
        direction = (order.get("direction") or "ASC").upper()
        if direction not in ("ASC", "DESC"):
            raise invalid_value(order.get("direction", ""), "direction")
        criteria.sort_orders.append((order["field"], direction))
    if "page_size" in tree:
        criteria.page_size = _int(tree["page_size"], "page_size")
    if "current_page" in tree:
        criteria.current_page = max(_int(tree["current_page"], "current_page"), 1)
    return criteria


def _cmp_value(value: Any) -> Any:
    if isinstance(value, (int, float)):
        return value
    text = "" if value is None else str(value)
    try:
        return float(text)
    except ValueError:
        return text.lower()


def _matches(item_value: Any, f: Filter) -> bool:
    c = f.condition_type
    if c == "null":
        return item_value in (None, "")
    if c == "notnull":
        return item_value not in (None, "")
    if item_value is None:
        return False
    mine, theirs = _cmp_value(item_value), _cmp_value(f.value)
    if c == "eq":
        return mine == theirs
    if c == "neq":
        return mine != theirs
    if c in ("in", "nin"):
        values = {_cmp_value(v.strip()) for v in f.value.split(",")}
        return (mine in values) == (c == "in")
    if c in ("like", "nlike"):
        pattern = fnmatch.translate(f.value.lower().replace("*", r"[*]").replace("%", "*").replace("_", "?"))
        return bool(re.match(pattern, str(item_value).lower())) == (c == "like")
    if c == "finset":
        return str(f.value) in str(item_value).split(",")
    try:
        if c == "gt":
            return mine > theirs
        if c == "lt":
            return mine < theirs
        if c in ("gteq", "from", "moreq"):
            return mine >= theirs
        if c in ("lteq", "to"):
            return mine <= theirs
    except TypeError:
        return False
    return False


def apply(items: list[dict[str, Any]], criteria: Criteria, searchable: set[str], value_of: Any = None) -> tuple[list[dict[str, Any]], int]:
    """Filters, sorts and pages ``items``; answers (page, total_count)."""
    get = value_of or (lambda item, name: item.get(name))
    for group in criteria.filter_groups:
        for f in group:
            if f.field not in searchable:
                raise MagentoError(400, "Invalid attribute name: %1", [f.field])
    for name, _ in criteria.sort_orders:
        if name not in searchable:
            raise MagentoError(400, "Invalid attribute name: %1", [name])
    matched = [item for item in items if all(any(_matches(get(item, f.field), f) for f in group) for group in criteria.filter_groups)]
    for name, direction in reversed(criteria.sort_orders):
        matched.sort(key=lambda item: (get(item, name) is None, _cmp_value(get(item, name))), reverse=direction == "DESC")
    total = len(matched)
    if criteria.page_size:
        last_page = max((total + criteria.page_size - 1) // criteria.page_size, 1)
        start = (min(criteria.current_page, last_page) - 1) * criteria.page_size
        matched = matched[start : start + criteria.page_size]
    return matched, total
