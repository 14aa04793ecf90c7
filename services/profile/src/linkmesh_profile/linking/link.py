"""Link: a customer to one external customer of an app, by an agent or by auto-link, in one conditional write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkmesh.lookup.v1 import lookup_pb2
from pymongo.errors import DuplicateKeyError

from linkmesh_core.errors import failed_precondition, invalid_argument
from linkmesh_profile.customers.profiles import MAX_CONTACT_POINTS, require_customer
from linkmesh_profile.db.search_keys import order_keys
from linkmesh_profile.db.store import LINKS_VERSION, Store, link_key, now
from linkmesh_profile.db.writes import duplicate_of
from linkmesh_profile.linking import checkpoints
from linkmesh_profile.linking.merge import contact_points, profile_update

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.connectors.lookups import Fetched, Lookups
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Customer


def with_contact_points(update: dict[str, Any], emails: list[str], phones: list[str]) -> dict[str, Any]:
    """``update`` that also adds these emails and phones."""
    return {**update, "$addToSet": {**update.get("$addToSet", {}), "emails": {"$each": emails}, "phones": {"$each": phones}}}


class LinkedMeanwhile(Exception):
    """A first link lost to a concurrent one (or the customer is gone)."""


class Links:
    def __init__(self, store: Store, apps: AppService, lookups: Lookups, region: str) -> None:
        self.store = store
        self.apps = apps
        self.lookups = lookups
        self.region = region

    async def link(self, customer_id: str, app_id: str, external_id: str) -> Customer:
        """Manual link: DETAILED lookup, then one write. Allowed even after an unlink."""
        external_id = external_id.strip()
        if not external_id:
            raise invalid_argument("external_customer_id is required", {"external_customer_id": "is required"})
        customer = await require_customer(self.store, customer_id)
        app = await self.apps.require(app_id)
        if not app.active:
            raise failed_precondition(f"app {app.name} is inactive")
        existing = customer.links.get(app_id)
        if existing and existing.external_customer_id != external_id:
            raise failed_precondition(f"customer is already linked to {app.name} customer {existing.external_customer_id}; unlink first")
        other = await self.store.customer_with_link(app_id, external_id)
        if other is not None and other.oid != customer.oid:
            raise failed_precondition(f"{app.name} customer {external_id} is already linked to customer {other.id}")
        linked = await self.store_link(
            customer, app, external_id, await self.lookups.fetch(app, customer_id, external_id, customer=customer)
        )
        assert linked is not None
        return linked

    async def store_link(
        self,
        customer: Customer,
        app: App,
        external_id: str,
        fetched: Fetched,
        *,
        first: bool = False,
        unique_check: bool = False,
        read_back: bool = True,
    ) -> Customer | None:
        """Stores the link with its DETAILED data and merges the data into the profile, in one write.
        ``first`` (auto-link): only if the customer is linked to nothing of this app yet, so of
        concurrent attempts exactly one makes the link; the others get ``LinkedMeanwhile``.
        ``unique_check``: the app's emails and phones are written without looking up their
        owners first, and a ``DuplicateKeyError`` (of a link key, email or phone) is raised.
        Without ``read_back`` the profile is not read again (None)."""
        app_id = app.id
        data = fetched.customer
        stamp = now()
        previous = customer.links.get(app_id)
        link = {
            "external_customer_id": external_id,
            "app_type": app.type,
            "linked_at": (previous.linked_at if previous is not None else None) or stamp,
            "refreshed_at": stamp,
            "data": fetched.doc,
            "stale": None,
        }
        set_, unset = profile_update(customer, app_id, app.overwrite_existing_values, data)
        update: dict[str, Any] = {
            "$set": {**set_, f"links.{app_id}": link, "updated_at": stamp},
            "$addToSet": {"link_keys": link_key(app_id, external_id), "order_keys": {"$each": order_keys(app_id, fetched.doc)}},
        }
        if unset:
            update["$unset"] = unset
        update["$inc"] = {LINKS_VERSION: 1}
        # Linked to nothing else of this app since we looked (to nothing at all, for a first link);
        # an auto-link also only if no agent unlinked the app meanwhile (never again after an unlink).
        condition: dict[str, Any] = {f"links.{app_id}.external_customer_id": None if first else {"$in": [None, external_id]}}
        if first:
            condition["unlinked_apps"] = {"$ne": app_id}
        await checkpoints.reached("link.before_write")
        try:
            written = await self.write_with_contact_points(customer, data, update, condition, look_up_owners=not unique_check)
            updated = await self.store.get_customer(customer.id) if written and read_back else None
        except DuplicateKeyError:
            if unique_check:
                raise
            raise failed_precondition(f"{app.name} customer {external_id} is already linked to another customer") from None
        if not written:
            if first:
                raise LinkedMeanwhile(f"customer {customer.id} was linked to {app.name} meanwhile")
            raise failed_precondition(f"customer {customer.id} was linked to {app.name} meanwhile; reload and retry")
        return updated

    async def write_with_contact_points(
        self,
        customer: Customer,
        data: lookup_pb2.Customer,
        update: dict[str, Any],
        condition: dict[str, Any],
        *,
        look_up_owners: bool = True,
    ) -> bool:
        """Adds the app's emails and phones that no other customer owns, along with ``update``
        (whether ``condition`` held). Without ``look_up_owners`` a duplicate email or phone is
        the caller's to handle."""
        emails, phones = contact_points(data, self.region)
        emails = [e for e in emails if e not in customer.emails]
        phones = [p for p in phones if p not in customer.phones]
        if look_up_owners:
            owned = await self.store.owners_of(emails, phones, customer.oid)
            taken = {point for o in owned for point in o.contact_points}
            emails = [e for e in emails if e not in taken]
            phones = [p for p in phones if p not in taken]
        # Never past what the API allows a profile to hold.
        emails = emails[: max(0, MAX_CONTACT_POINTS - len(customer.emails))]
        phones = phones[: max(0, MAX_CONTACT_POINTS - len(customer.phones))]
        if emails or phones:
            try:
                return await self.store.change_customer(customer.id, with_contact_points(update, emails, phones), condition)
            except DuplicateKeyError as err:
                if not look_up_owners or not duplicate_of(err) & {"emails", "phones"}:
                    raise
                # Another customer took one of them meanwhile: write without them.
        return await self.store.change_customer(customer.id, update, condition)
