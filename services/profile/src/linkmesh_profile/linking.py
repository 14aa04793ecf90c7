"""Links between a customer and external customers: search, link, unlink."""

from __future__ import annotations

from typing import Any

from linkmesh.lookup.v1 import lookup_pb2
from linkmesh.profile.v1 import profile_pb2
from pymongo.errors import DuplicateKeyError

from linkmesh_core.errors import failed_precondition, invalid_argument, not_found
from linkmesh_profile.apps import FILLED_RESULT_ATTRIBUTES, AppService
from linkmesh_profile.contact import normalized_query
from linkmesh_profile.customers import require_customer
from linkmesh_profile.documents import message_to_doc
from linkmesh_profile.store import Store, link_key, now


def result_attributes(app: dict[str, Any], candidate: lookup_pb2.CustomerSummary) -> list[profile_pb2.AttributeValue]:
    """The app's configured result attributes, labelled; unknown ones come back empty."""
    values = {
        "name": candidate.name,
        "email": ", ".join(candidate.emails),
        "phone": ", ".join(p.number for p in candidate.phones),
        "externalCustomerId": candidate.external_id,
    }
    out = []
    for item in app.get("search_result_attributes", []):
        attribute = item["attribute"]
        value = values[attribute] if attribute in FILLED_RESULT_ATTRIBUTES else candidate.extra.get(attribute, "")
        out.append(profile_pb2.AttributeValue(attribute=attribute, label=item["label"], value=value))
    return out


class Linker:
    def __init__(self, store: Store, apps: AppService, region: str) -> None:
        self.store = store
        self.apps = apps
        self.region = region

    async def search_targets(self, customer_id: str) -> list[dict[str, Any]]:
        customer = await require_customer(self.store, customer_id)
        linked = set((customer.get("links") or {}).keys())
        return [a for a in await self.store.list_apps(active_only=True) if str(a["_id"]) not in linked]

    async def search(self, request: profile_pb2.SearchExternalRequest) -> profile_pb2.SearchExternalResponse:
        app = await self.apps.require(request.app_id)
        if not app.get("active", True):
            raise failed_precondition(f"app {app['name']} is inactive")
        customer = await require_customer(self.store, request.customer_id) if request.customer_id else None
        allowed = {a["attribute"] for a in app.get("search_query_attributes", [])}
        email, phone = normalized_query(request.email, request.phone, self.region)
        emails = [email] if email else []
        phones = [phone] if phone else []
        if not emails and not phones and not request.order_number.strip():
            if customer is None:
                raise invalid_argument("give an email, a phone or an order number", {"email": "give an email, a phone or an order number"})
            emails, phones = list(customer.get("emails", [])), list(customer.get("phones", []))
        # Only the attributes this app is configured to search by.
        emails = emails if "email" in allowed else []
        phones = phones if "phone" in allowed else []
        if not emails and not phones and not request.order_number.strip():
            raise invalid_argument(
                f"app {app['name']} searches by {' and '.join(sorted(allowed))} only",
                {"email" if "email" in allowed else "phone": f"this app searches by {' and '.join(sorted(allowed))}"},
            )
        answer = await self.apps.connectors.call(
            app["type"], "Search",
            lookup_pb2.SearchRequest(app=self.apps.context(app), emails=emails, phones=phones, order_number=request.order_number.strip()),
        )
        assert isinstance(answer, lookup_pb2.SearchResponse)
        return profile_pb2.SearchExternalResponse(
            app_id=str(app["_id"]), app_name=app["name"], app_type=app["type"],
            results=[
                profile_pb2.SearchResult(external_customer_id=c.external_id, attributes=result_attributes(app, c))
                for c in answer.candidates
            ],
        )

    async def fetch(self, app: dict[str, Any], external_id: str) -> lookup_pb2.Customer:
        answer = await self.apps.connectors.call(
            app["type"], "Fetch", lookup_pb2.FetchRequest(app=self.apps.context(app), external_id=external_id)
        )
        assert isinstance(answer, lookup_pb2.FetchResponse)
        return answer.customer

    async def link(self, customer_id: str, app_id: str, external_id: str) -> dict[str, Any]:
        external_id = external_id.strip()
        if not external_id:
            raise invalid_argument("external_customer_id is required", {"external_customer_id": "is required"})
        customer = await require_customer(self.store, customer_id)
        app = await self.apps.require(app_id)
        if not app.get("active", True):
            raise failed_precondition(f"app {app['name']} is inactive")
        existing = (customer.get("links") or {}).get(app_id)
        if existing and existing.get("external_customer_id") != external_id:
            raise failed_precondition(
                f"customer is already linked to {app['name']} customer {existing['external_customer_id']}; unlink first"
            )
        other = await self.store.customer_with_link(app_id, external_id)
        if other is not None and other["_id"] != customer["_id"]:
            raise failed_precondition(f"{app['name']} customer {external_id} is already linked to customer {other['_id']}")
        data = await self.fetch(app, external_id)
        stamp = now()
        link = {
            "external_customer_id": external_id, "app_type": app["type"], "linked_at": (existing or {}).get("linked_at") or stamp,
            "refreshed_at": stamp, "data": message_to_doc(data), "stale": None,
        }
        try:
            updated = await self.store.update_customer(
                customer_id,
                {"$set": {f"links.{app_id}": link, "updated_at": stamp}, "$addToSet": {"link_keys": link_key(app_id, external_id)}},
                # Linked to nothing else of this app since we looked.
                {f"links.{app_id}.external_customer_id": {"$in": [None, external_id]}},
            )
        except DuplicateKeyError:
            raise failed_precondition(f"{app['name']} customer {external_id} is already linked to another customer") from None
        if updated is None:
            raise failed_precondition(f"customer {customer_id} was linked to {app['name']} meanwhile; reload and retry")
        return updated

    async def unlink_all(self, customer_id: str) -> dict[str, Any]:
        customer = await require_customer(self.store, customer_id)
        app_ids = list((customer.get("links") or {}).keys())
        update: dict[str, Any] = {"$set": {"links": {}, "link_keys": [], "updated_at": now()}}
        if app_ids:
            update["$addToSet"] = {"unlinked_apps": {"$each": app_ids}}
        updated = await self.store.update_customer(customer_id, update)
        if updated is None:
            raise not_found(f"no customer {customer_id}")
        return updated
