"""A customer contacts in: find or create the profile, auto-link, refresh."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from linkmesh.profile.v1 import profile_pb2
from pymongo.errors import DuplicateKeyError

from linkmesh_core.errors import invalid_argument
from linkmesh_profile.customers.contact_query import normalized_query
from linkmesh_profile.customers.folding import DEFAULT_PROVISIONAL_S, PROVISIONAL_UNTIL, provisional_until
from linkmesh_profile.customers.profiles import MAX_CONTACT_POINTS, MAX_NAME, require_customer
from linkmesh_profile.db.search_keys import contact_stamp
from linkmesh_profile.db.store import Store, now

if TYPE_CHECKING:
    from linkmesh_profile.linking.autolink import AutoLinker
    from linkmesh_profile.linking.refresh import Refresher
    from linkmesh_profile.model.customer import Customer

CHANNELS = ("email", "sms", "chat", "voice", "self_service")


class Contacts:
    def __init__(
        self, store: Store, refresher: Refresher, autolinker: AutoLinker, region: str, provisional_s: float = DEFAULT_PROVISIONAL_S
    ) -> None:
        self.store = store
        self.refresher = refresher
        self.autolinker = autolinker
        self.region = region
        self.provisional_s = provisional_s

    async def record(self, request: profile_pb2.RecordContactRequest) -> profile_pb2.ContactResult:
        errors = {}
        if request.channel not in CHANNELS:
            errors["channel"] = f"must be one of: {', '.join(CHANNELS)}"
        if not request.email.strip() and not request.phone.strip():
            errors["email"] = "give an email or a phone"
        if len(request.name.strip()) > MAX_NAME:
            errors["name"] = f"must be at most {MAX_NAME} characters"
        if errors:
            raise invalid_argument("the contact is invalid", errors)
        email, phone = normalized_query(request.email, request.phone, self.region)
        customer, created = await self.find_or_create(email, phone, request.name.strip())
        auto = await self.autolinker.auto_link(customer)
        if auto.folded_into:  # a burst made this profile twice: go on with the one it was folded into
            customer, created = await require_customer(self.store, auto.folded_into), False
            auto = await self.autolinker.auto_link(customer)
        customer_id = customer.id
        if auto.linked and set(customer.links) - set(auto.linked):
            # The links just made are fresh; the older ones refresh on the profile as it now is.
            customer = await require_customer(self.store, customer_id)
        outcome = await self.refresher.refresh(customer, skip=set(auto.linked))
        names = {app.id: app.name for app in await self.store.list_apps()}  # the app cache: no database call

        def named(app_ids: list[str]) -> list[profile_pb2.AppRef]:
            return [profile_pb2.AppRef(app_id=a, app_name=names.get(a, "")) for a in app_ids]

        for stale in outcome.stale:
            stale.app_name = names.get(stale.app_id, "")
        refreshed = [*auto.linked, *outcome.refreshed]
        return profile_pb2.ContactResult(
            customer_id=customer_id,
            created=created,
            linked=auto.linked,
            pending=auto.pending,
            refreshed=refreshed,
            linked_apps=named(auto.linked),
            refreshed_apps=named(refreshed),
            pending_apps=named(auto.pending),
            stale=outcome.stale,
            not_linked=[
                profile_pb2.AutoLinkMiss(app_id=app.id, app_name=app.name, reason=d.reason, code=d.code) for app, d in auto.not_linked
            ],
        )

    async def find_or_create(self, email: str | None, phone: str | None, name: str) -> tuple[Customer, bool]:
        """The customer who owns the email (else the phone); created when none does.

        Concurrent contacts for one new email or phone make exactly one customer:
        the unique indexes refuse the second insert, which then finds the first.
        """
        for _ in range(5):
            matches = await self.store.find_customers(email, phone)
            if matches:
                found = self._pick(matches, email)
                others = [m for m in matches if m.oid != found.oid]
                return await self._add_missing(found, others, email, phone, name), False
            stamp = now()
            doc = {
                "name": name,
                "emails": [email] if email else [],
                "phones": [phone] if phone else [],
                "links": {},
                "link_keys": [],
                "unlinked_apps": [],
                "created_at": stamp,
                "updated_at": stamp,
                "last_contact_at": stamp,
                PROVISIONAL_UNTIL: provisional_until(stamp, self.provisional_s),
            }
            try:
                return await self.store.insert_customer(doc), True
            except DuplicateKeyError:
                continue  # someone created it meanwhile: find it
        raise RuntimeError("could not find or create the customer after repeated conflicts")

    @staticmethod
    def _pick(matches: list[Customer], email: str | None) -> Customer:
        by_email = [m for m in matches if email and email in m.emails]
        return (by_email or matches)[0]

    async def _add_missing(self, customer: Customer, owners: list[Customer], email: str | None, phone: str | None, name: str) -> Customer:
        """Adds the contact's email or phone to the customer when no other customer owns it. One
        contact that brings the email of one profile and the phone of another says they are one
        person: a provisional one of them is folded into the other (``linkmesh_profile.customers.folding``)."""
        if owners:
            survivor = await self.autolinker.folder.fold(
                customer, owners, "one contact brought the email of one and the phone of the other"
            )
            if survivor is not None:
                customer, owners = survivor, []
        owned = {point for o in owners for point in o.contact_points}
        add: dict[str, Any] = {}
        # A contact adds its email or phone only while the profile holds fewer than the API allows
        # (contacts sharing a phone each brought a new email: 43 of them made every search huge).
        emails, phones = customer.emails, customer.phones
        if email and email not in emails and len(emails) < MAX_CONTACT_POINTS and email not in owned:
            add["emails"] = email
        if phone and phone not in phones and len(phones) < MAX_CONTACT_POINTS and phone not in owned:
            add["phones"] = phone
        update: dict[str, Any] = {}
        if add:
            update["$addToSet"] = add
        if name and not customer.name:
            update["$set"] = {"name": name}
        stamp = now()
        contacted = contact_stamp(customer, stamp)  # up the recent list, at most once a minute
        if not update and not contacted:
            return customer
        if update:
            update.setdefault("$set", {})["updated_at"] = stamp
        update.setdefault("$set", {}).update(contacted)
        # The cap holds under concurrent contacts too: the add is conditional on the count read.
        condition = {f"{field}.{MAX_CONTACT_POINTS - 1}": {"$exists": False} for field in add}
        try:
            return await self.store.update_customer(customer.id, update, condition or None) or customer
        except DuplicateKeyError:
            return customer  # taken meanwhile by another customer: leave it there
