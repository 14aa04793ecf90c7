"""What an agent is asked before an action runs is what the action does (issue 33, "nothing
dangerous"): a Shopify cancel sent with only a reason refunded the payment while its form showed
"Refund the payment" unchecked. Every boolean of every action's form now declares what the
vendor does when no value is sent, the connector reads that same declaration (one place decides
what an absent box means), and every action says in words what it does in money and goods."""

from __future__ import annotations

import re

import pytest
from linkmesh.lookup.v1 import lookup_pb2

from linkmesh_bigcommerce.connector import BigCommerce
from linkmesh_core import sdk
from linkmesh_core.actions import flag, form_field
from linkmesh_magento.connector import Magento
from linkmesh_returnlogic.connector import ReturnLogic
from linkmesh_shopify.connector import Shopify

CONNECTORS: list[type[sdk.Connector]] = [BigCommerce, Shopify, Magento, ReturnLogic]
CODE_WORDS = re.compile(r"\b[a-z]+_[a-z_]+\b|\btrue or false\b|\bdefault (yes|no|true|false)\b", re.IGNORECASE)


def actions() -> list[tuple[str, lookup_pb2.ActionSpec]]:
    return [(c.description.vendor, a) for c in CONNECTORS for a in c.description.actions]


@pytest.mark.parametrize(("vendor", "action"), actions(), ids=lambda v: v if isinstance(v, str) else v.name)
def test_every_action_says_what_it_does_and_every_box_how_it_acts_when_nothing_is_sent(vendor: str, action: lookup_pb2.ActionSpec) -> None:
    assert action.effect.strip(), f"{vendor} {action.name} does not say what it does"
    for f in action.fields:
        if f.type == "boolean":
            assert f.default_value in ("true", "false"), f"{vendor} {action.name}.{f.name} does not declare its default"
        assert not CODE_WORDS.search(f.hint), f"{vendor} {action.name}.{f.name}: the hint speaks the code's words: {f.hint!r}"
        if f.type == "select":
            labels = {c.value: c.label for c in f.choices}
            unread = [o for o in f.options if "_" in o and o not in labels]
            assert not unread, f"{vendor} {action.name}.{f.name}: options without a label people read: {unread}"


def test_shopifys_cancel_refunds_and_restocks_unless_told_not_to_as_its_form_shows() -> None:
    cancel = next(a for a in Shopify.description.actions if a.name == "cancel")
    boxes = {f.name: f.default_value for f in cancel.fields if f.type == "boolean"}
    assert boxes == {"refund": "true", "restock": "true", "notify_customer": "false"}
    assert flag(cancel, {"reason": "CUSTOMER"}, "refund") is True, "absent: as the form declares"
    assert flag(cancel, {"refund": "false"}, "refund") is False
    assert flag(cancel, {}, "notify_customer") is False


def test_a_boolean_without_a_declared_default_cannot_be_written() -> None:
    with pytest.raises(AssertionError):
        form_field("refund", "Refund the payment", "boolean")
    assert form_field("notify", "Email the customer", "boolean", default=False).default_value == "false"


def test_every_audited_action_and_every_lookup_kind_the_code_writes_is_declared() -> None:
    """The audit log's action filter and the lookup log's kind filter refuse what they do not
    know (issue 33): so every name the code writes must be declared where the filters read."""
    import ast
    from pathlib import Path

    from linkmesh_profile.admin.audit import ACTIONS
    from linkmesh_profile.db.traces import KINDS

    src = Path(__file__).resolve().parents[1] / "services" / "profile" / "src" / "linkmesh_profile"
    actions, kinds = set(), set()
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.fullmatch(r"(action|api_key|app|contact|customer|debugger)\.[a-z_]+", node.value)
            ):
                actions.add(node.value)
            if (
                isinstance(node, ast.keyword)
                and node.arg == "kind"
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                kinds.add(node.value.value)
    assert actions <= set(ACTIONS), actions - set(ACTIONS)
    assert kinds - {"service", "adaptor"} <= set(KINDS), kinds - set(KINDS)  # actors' kinds are not lookups
