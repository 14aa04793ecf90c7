"""Link: a customer to one external customer of an app, by an agent or by auto-link, in one conditional write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkmesh.lookup.v1 import lookup_pb2
from pymongo.errors import DuplicateKeyError

from linkmesh_core.errors import failed_precondition, invalid_argument
from linkmesh_profile.customers.profiles import MAX_CONTACT_POINTS, require_customer
from linkmesh_profile.db.search_keys import order_keys
from linkmesh_profile.db.store import LINKS_VERSION, Store, link_key, now
from linkmesh_profile.linking import checkpoints
from linkmesh_profile.linking.merge import contact_points, profile_update

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.connectors.lookups import Fetched, Lookups
    from linkmesh_profile.model.app import App


class LinkedMeanwhile(Exception):
    """A first link lost to a concurrent one (or the customer is gone)."""


class Links:
    def __init__(self, store: Store, apps: AppService, lookups: Lookups, region: str) -> None:
        self.store = store
        self.apps = apps
        self.lookups = lookups
        self.region = region

    async def link(self, customer_id: str, app_id: str, external_id: str) -> dict[str, Any]:
        """Manual link: DETAILED lookup, then one write. Allowed even after an unlink."""
        external_id = external_id.strip()
        if not external_id:
            raise invalid_argument("external_customer_id is required", {"external_customer_id": "is required"})
        customer = await require_customer(self.store, customer_id)
        app = await self.apps.require(app_id)
        if not app.active:
            raise failed_precondition(f"app {app.name} is inactive")
        existing = (customer.get("links") or {}).get(app_id)
        if existing and existing.get("external_customer_id") != external_id:
            raise failed_precondition(f"customer is already linked to {app.name} customer {existing['external_customer_id']}; unlink first")
        other = await self.store.customer_with_link(app_id, external_id)
        if other is not None and other["_id"] != customer["_id"]:
            raise failed_precondition(f"{app.name} customer {external_id} is already linked to customer {other['_id']}")
        return await self.store_link(customer, app, external_id, await self.lookups.fetch(app, customer_id, external_id, customer=customer))

    async def store_link(
        self,
        customer: dict[str, Any],
        app: App,
        external_id: str,
        fetched: Fetched,
        *,
        first: bool = False,
        unique_check: bool = False,
        read_back: bool = True,
    ) -> dict[str, Any]:
        """Stores the link with its DETAILED data and merges the data into the profile, in one write.
        ``first`` (auto-link): only if the customer is linked to nothing of this app yet, so of
        concurrent attempts exactly one makes the link; the others get ``LinkedMeanwhile``.
        ``unique_check``: the app's emails and phones are written without looking up their
        owners first, and a ``DuplicateKeyError`` (of a link key, email or phone) is raised.
        Without ``read_back`` the profile is not read again (``{}``)."""
        app_id = app.id
        data = fetched.customer
        stamp = now()
        previous = (customer.get("links") or {}).get(app_id) or {}
        link = {
            "external_customer_id": external_id,
            "app_type": app.type,
            "linked_at": previous.get("linked_at") or stamp,
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
            updated = await self.write_with_contact_points(
                customer, data, update, condition, look_up_owners=not unique_check, read_back=read_back
            )
        except DuplicateKeyError:
            if unique_check:
                raise
            raise failed_precondition(f"{app.name} customer {external_id} is already linked to another customer") from None
        if updated is None:
            if first:
                raise LinkedMeanwhile(f"customer {customer['_id']} was linked to {app.name} meanwhile")
            raise failed_precondition(f"customer {customer['_id']} was linked to {app.name} meanwhile; reload and retry")
        return updated

    async def write_with_contact_points(
        self,
        customer: dict[str, Any],
        data: lookup_pb2.Customer,
        update: dict[str, Any],
        condition: dict[str, Any],
        *,
        look_up_owners: bool = True,
        read_back: bool = True,
    ) -> dict[str, Any] | None:
        """Adds the app's emails and phones that no other customer owns, along with ``update``.
        Without ``look_up_owners`` a duplicate email or phone is the caller's to handle."""
        emails, phones = contact_points(data, self.region)
        emails = [e for e in emails if e not in customer.get("emails", [])]
        phones = [p for p in phones if p not in customer.get("phones", [])]
        if look_up_owners:
            owned = await self.store.owners_of(emails, phones, customer["_id"])
            taken = {e for o in owned for e in o.get("emails", [])} | {p for o in owned for p in o.get("phones", [])}
            emails = [e for e in emails if e not in taken]
            phones = [p for p in phones if p not in taken]
        # Never past what the API allows a profile to hold.
        emails = emails[: max(0, MAX_CONTACT_POINTS - len(customer.get("emails", [])))]
        phones = phones[: max(0, MAX_CONTACT_POINTS - len(customer.get("phones", [])))]
        if emails or phones:
            with_points = {**update, "$addToSet": {**update.get("$addToSet", {}), "emails": {"$each": emails}, "phones": {"$each": phones}}}
            try:
                return await self.store.update_customer(str(customer["_id"]), with_points, condition, read_back=read_back)
            except DuplicateKeyError as err:
                if not look_up_owners or not set((err.details or {}).get("keyPattern", {})) & {"emails", "phones"}:
                    raise
                # Another customer took one of them meanwhile: write without them.
        return await self.store.update_customer(str(customer["_id"]), update, condition, read_back=read_back)
