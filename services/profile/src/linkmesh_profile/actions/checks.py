"""Everything an action can be refused for before anything runs: the app, the link, the action
the connector (or the linked record) offers, its form's values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2

from linkmesh_core.actions import validate_params
from linkmesh_core.errors import failed_precondition, invalid_argument
from linkmesh_profile.customers.profiles import require_customer

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Customer, Link


def record_action(link: Link, form_url: str) -> tuple[str, str]:
    """(name, order id) of the action with ``form_url`` that the linked record offers, on the
    customer, one of its orders or transactions; INVALID_ARGUMENT when it offers none: a form
    URL is never taken from the caller alone (the connector signs requests to it)."""
    wanted = form_url.strip()
    if not wanted:
        raise invalid_argument("form_url is required", {"form_url": "is required"})
    offered = link.offered_action(wanted)
    if offered is None:
        raise invalid_argument(
            "the linked record offers no such action (refresh the profile)",
            {"form_url": "is not an action the customer's linked record offers"},
        )
    return offered


class ActionChecks:
    def __init__(self, store: Store, apps: AppService) -> None:
        self.store = store
        self.apps = apps

    async def linked_app(self, customer_id: str, app_id: str) -> tuple[Customer, App, Link]:
        """(customer, app, link) of an app whose actions may run for this customer."""
        customer = await require_customer(self.store, customer_id)
        app = await self.apps.require(app_id)
        if not app.active:
            raise failed_precondition(f"app {app.name} is inactive")
        if not app.actions_enabled:
            raise failed_precondition(f"actions are turned off for app {app.name}")
        link = customer.links.get(app_id)
        if link is None:
            raise failed_precondition(f"the customer is not linked to {app.name}")
        return customer, app, link

    async def action_form(self, request: profile_pb2.GetActionFormRequest) -> lookup_pb2.ActionForm:
        """The form of an action the customer's linked record offers."""
        _, app, link = await self.linked_app(request.customer_id, request.app_id)
        record_action(link, request.form_url)
        return await self.apps.connectors.action_form(
            app, lookup_pb2.GetActionFormRequest(app=self.apps.context(app), form_url=request.form_url.strip())
        )

    async def check(self, request: profile_pb2.RunActionRequest) -> tuple[Customer, App, str]:
        """Everything that can be refused before anything runs; answers (customer, app, external id)."""
        key = request.idempotency_key.strip()
        if not key or len(key) > 255:
            raise invalid_argument(
                "an idempotency key is required", {"idempotency_key": "give 1 to 255 characters (the Idempotency-Key header)"}
            )
        customer, app, link = await self.linked_app(request.customer_id, request.app_id)
        request.customer_id = customer.id  # the key's scope is the customer, however its id was spelt (6B… or 6b…)
        if request.form_url.strip():
            # An action the record offers: its form (read by the connector) checks the values.
            name, order_id = record_action(link, request.form_url)
            if not request.action.strip():
                request.action = name
            if not request.order_id.strip() and order_id:
                request.order_id = order_id
            return customer, app, link.external_customer_id
        await self.check_params(app, request)
        return customer, app, link.external_customer_id

    async def action_spec(self, app: App, name: str) -> lookup_pb2.ActionSpec:
        """The connector's form of action ``name``; INVALID_ARGUMENT naming ``action`` when it has none."""
        describe = await self.apps.connectors.describe(app.type)
        spec = next((a for a in describe.capabilities.actions if a.name == name), None)
        if spec is None:
            offered = ", ".join(a.name for a in describe.capabilities.actions) or "none"
            raise invalid_argument(f"{describe.display_name} has no action {name!r}", {"action": f"must be one of: {offered}"})
        return spec

    async def check_params(self, app: App, request: profile_pb2.RunActionRequest) -> None:
        spec = await self.action_spec(app, request.action)
        errors = validate_params(spec, request.params)
        if spec.order_required and not request.order_id.strip():
            errors["order_id"] = f"is required to {spec.label.lower()}"
        if errors:
            raise invalid_argument("the action is invalid", errors)
