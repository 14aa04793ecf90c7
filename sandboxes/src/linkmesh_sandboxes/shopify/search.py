"""Shopify's search syntax, as far as the Admin API's ``query`` arguments need it here:
``field:value`` terms, values quoted or bare, joined by ``AND`` (or nothing) and ``OR``
(``OR`` binds looser). Unknown fields match nothing, as a filter Shopify does not index
finds nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

TERM = re.compile(r'\s*(?:(OR|AND)\b|(-?)(\w+):("(?:[^"\\]|\\.)*"|\S+)|(\S+))')

Matcher = Callable[[str, str, Any], bool]


def parse(query: str) -> list[list[tuple[bool, str, str]]]:
    """``'email:a@b.c OR phone:+1415'`` → ``[[(False, "email", "a@b.c")], [(False, "phone", "+1415")]]``
    (groups OR-ed, terms in a group AND-ed; True marks a negated term)."""
    groups: list[list[tuple[bool, str, str]]] = [[]]
    pos = 0
    while pos < len(query):
        m = TERM.match(query, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m.group(1) == "OR":
            groups.append([])
        elif m.group(3):
            value = m.group(4)
            if value.startswith('"'):
                value = value[1:-1].replace('\\"', '"')
            groups[-1].append((m.group(2) == "-", m.group(3).lower(), value))
        elif m.group(5):
            groups[-1].append((False, "", m.group(5)))
    return [g for g in groups if g]


def matches(query: str | None, record: Any, match: Matcher) -> bool:
    if not query or not query.strip():
        return True
    return any(all(match(field, value, record) != negated for negated, field, value in group) for group in parse(query))
