"""Auto-link: link a customer to an app's external profile without an agent.

For every active app with at least one auto-link field on, that the profile is
not linked to and has never been unlinked from: a BASIC search with the
profile's emails and phones (only the enabled fields); link only when exactly
one external profile answers, at least one enabled field matches (emails
trimmed and case-insensitive, phones in E.164) and nothing conflicts; then pull
the DETAILED profile. Every decision, including a skip, leaves a trace with its
reason. A search or fetch that a rate limit (or a known pause) refused is not a
decision: the pair is handed to the deferred queue (``autolink_queue``) and
reported as pending.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
from linkmesh.lookup.v1 import lookup_pb2
from pymongo.errors import DuplicateKeyError

from linkmesh_core.contact_points import email_key, phone_key
from linkmesh_core.errors import ServiceError
from linkmesh_core.singleflight import SingleFlight
from linkmesh_profile.customers.folding import Folder
from linkmesh_profile.linking.link import LinkedMeanwhile, Links
from linkmesh_profile.linking.merge import contact_points

if TYPE_CHECKING:
    from linkmesh_profile.connectors.lookups import Fetched, Lookups
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.model.app import App
    from linkmesh_profile.model.customer import Customer

LINKED, NOT_LINKED, SKIPPED, PENDING = "linked", "not_linked", "skipped", "pending"
DEFAULT_DEFER_S = 5.0
MAX_FOLDS = 3
# (customer_id, app_id, delay_s, reason): queues an auto-link a rate limit refused.
Defer = Callable[[str, str, float, str], Awaitable[None]]


def deferrable(err: ServiceError) -> bool:
    """A refusal that says when to come back: a rate limit, a maintenance window, an open circuit."""
    return err.code == grpc.StatusCode.RESOURCE_EXHAUSTED or (err.code == grpc.StatusCode.UNAVAILABLE and err.retry_after is not None)


@dataclass
class Decision:
    outcome: str
    reason: str
    external_id: str = ""
    steps: list[dict[str, Any]] = field(default_factory=list)
    retry_after: float | None = None
    candidate: lookup_pb2.CustomerSummary | None = None
    #: The gRPC code name when a call failed (not a "no unique match").
    code: str = ""
    #: The customer this profile was folded into while linking (``linkmesh_profile.customers.folding``).
    folded_into: str = ""

    @property
    def would_link(self) -> bool:
        return self.outcome == LINKED


def skip_reason(customer: Customer, app: App) -> str | None:
    app_id = app.id
    if not app.active:
        return "the app is inactive"
    if not app.auto_link_fields:
        return "auto-linking is off for this app"
    if app_id in customer.links:
        return "the customer is already linked to this app"
    if app_id in customer.unlinked_apps:
        return "the customer was unlinked from this app, so it never auto-links again"
    emails, phones = query_of(customer, app)
    if not emails and not phones:
        fields = " or ".join(app.auto_link_fields)
        return f"the customer has no {fields} to auto-link by"
    return None


MAX_SEARCH_POINTS = 5


def query_of(customer: Customer, app: App) -> tuple[list[str], list[str]]:
    """What an auto-link searches by: the enabled fields, at most MAX_SEARCH_POINTS of each (the
    most recently added: a contact's own), so one search stays small whatever the profile holds
    (43 emails made a query Magento refused and 560 ReturnLogic requests for 43 contacts)."""
    fields = set(app.auto_link_fields)
    emails = list(customer.emails[-MAX_SEARCH_POINTS:]) if "email" in fields else []
    phones = list(customer.phones[-MAX_SEARCH_POINTS:]) if "phone" in fields else []
    return emails, phones


def match_reason(customer: Customer, app: App, candidate: lookup_pb2.CustomerSummary, region: str) -> str | None:
    """Which enabled field matches, or None."""
    fields = set(app.auto_link_fields)
    if "email" in fields:
        mine = {email_key(e) for e in customer.emails}
        hit = next((e for e in candidate.emails if email_key(e) in mine), None)
        if hit:
            return f"email {email_key(hit)} matches"
    if "phone" in fields:
        mine = set(customer.phones)
        hit = next((p.number for p in candidate.phones if phone_key(p.number, region) in mine), None)
        if hit:
            return f"phone {phone_key(hit, region)} matches"
    return None


@dataclass
class AutoLinkResult:
    linked: list[str]
    pending: list[str]
    #: (app, decision) of every app tried that did not link.
    not_linked: list[tuple[App, Decision]] = field(default_factory=list)
    #: The customer the profile was folded into meanwhile; the contact goes on with that one.
    folded_into: str = ""


class FoldedInto(Exception):
    """The profile being linked was folded into another (``linkmesh_profile.customers.folding``)."""

    def __init__(self, customer_id: str) -> None:
        super().__init__(customer_id)
        self.customer_id = customer_id


def pending(err: ServiceError, what: str, external_id: str = "", steps: list[dict[str, Any]] | None = None) -> Decision:
    delay = err.retry_after if err.retry_after is not None else DEFAULT_DEFER_S
    return Decision(
        PENDING, f"the {what} was refused for now ({err.message}); queued to run again in {delay:.0f}s", external_id, steps or [], delay
    )


class AutoLinker:
    def __init__(
        self, store: Store, links: Links, lookups: Lookups, region: str, defer: Defer | None = None, folder: Folder | None = None
    ) -> None:
        self.store = store
        self.folder = folder or Folder(store)
        self.links = links
        self.lookups = lookups
        self.region = region
        self.defer = defer
        self._flights: SingleFlight[Decision] = SingleFlight()

    async def auto_link(self, customer: Customer) -> AutoLinkResult:
        """Tries every eligible app in parallel; answers the apps it linked and those deferred.
        ``customer`` is the profile as the caller just read it (not read again per app)."""
        apps = await self.store.list_apps(active_only=True)
        decisions = await asyncio.gather(*(self.auto_link_app(customer, app) for app in apps))
        return AutoLinkResult(
            [app.id for app, d in zip(apps, decisions, strict=True) if d.would_link],
            [app.id for app, d in zip(apps, decisions, strict=True) if d.outcome == PENDING],
            [(app, d) for app, d in zip(apps, decisions, strict=True) if d.outcome == NOT_LINKED],
            next((d.folded_into for d in decisions if d.folded_into), ""),
        )

    async def auto_link_app(self, customer: Customer, app: App) -> Decision:
        """Concurrent contacts of one customer share one attempt per app; only the
        caller that made the attempt reports its link."""
        customer_id = customer.id
        decision, leader = await self._flights.run((customer_id, app.id), lambda: self._auto_link_app(customer, app))
        if decision.would_link and not leader:
            return Decision(SKIPPED, "linked by a concurrent contact", decision.external_id)
        return decision

    async def _auto_link_app(self, customer: Customer, app: App) -> Decision:
        customer_id = customer.id
        decision = await self.evaluate(customer, app, dry_run=False)
        if decision.would_link:
            assert decision.candidate is not None
            try:
                fetched = await self.lookups.fetch(app, customer_id, decision.external_id, kind="autolink_fetch", customer=customer)
                conflict = await self._link(customer, app, decision.candidate, fetched)
                if conflict is not None:
                    decision = Decision(NOT_LINKED, conflict, decision.external_id)
            except LinkedMeanwhile:
                decision = Decision(SKIPPED, "linked by a concurrent contact", decision.external_id)
            except FoldedInto as folded:
                decision = Decision(
                    SKIPPED,
                    f"this profile was folded into customer {folded.customer_id}, which holds the rest of "
                    f"{app.name} customer {decision.external_id}'s contact points",
                    decision.external_id,
                    folded_into=folded.customer_id,
                )
            except ServiceError as err:
                if deferrable(err):
                    decision = pending(err, "DETAILED lookup", decision.external_id)
                else:
                    decision = Decision(
                        NOT_LINKED, f"the DETAILED lookup or the link failed: {err.message}", decision.external_id, code=err.code.name
                    )
        if decision.outcome == PENDING and self.defer is not None:
            await self.defer(customer_id, app.id, decision.retry_after or DEFAULT_DEFER_S, decision.reason)
        await self.lookups.decision(
            app,
            customer_id,
            decision.outcome,
            decision.reason,
            request={"external_customer_id": decision.external_id} if decision.external_id else None,
        )
        return decision

    async def evaluate(self, customer: Customer, app: App, *, dry_run: bool) -> Decision:
        """Decides whether ``app`` would auto-link ``customer``; runs the BASIC search it needs."""
        customer_id = customer.id
        reason = skip_reason(customer, app)
        if reason is not None:
            return Decision(SKIPPED, reason)
        emails, phones = query_of(customer, app)
        try:
            answer, trace = await self.lookups.search(
                app, customer_id, emails=emails, phones=phones, kind="autolink_search", dry_run=dry_run, auto_link_of=customer
            )
        except ServiceError as err:
            failed = err.trace
            if deferrable(err):
                return pending(err, "search", steps=[failed] if failed else [])
            return Decision(
                NOT_LINKED, f"the search failed ({err.code.name}): {err.message}", steps=[failed] if failed else [], code=err.code.name
            )
        steps = [trace]
        candidates = list(answer.candidates)
        if not candidates:
            return Decision(NOT_LINKED, "no external profile matches", steps=steps)
        if len(candidates) > 1:
            ids = ", ".join(c.external_id for c in candidates)
            return Decision(NOT_LINKED, f"{len(candidates)} external profiles match ({ids}); auto-link needs exactly one", steps=steps)
        candidate = candidates[0]
        matched = match_reason(customer, app, candidate, self.region)
        if matched is None:
            return Decision(NOT_LINKED, f"external profile {candidate.external_id} matches no enabled auto-link field", steps=steps)
        if dry_run:  # a real run finds conflicts by writing (``_link``)
            conflict = await self.conflict(customer, app, candidate)
            if conflict is not None:
                return Decision(NOT_LINKED, conflict, candidate.external_id, steps=steps)
        return Decision(
            LINKED,
            f"exactly one external profile ({candidate.external_id}); {matched}",
            candidate.external_id,
            steps=steps,
            candidate=candidate,
        )

    async def _link(self, customer: Customer, app: App, candidate: lookup_pb2.CustomerSummary, fetched: Fetched) -> str | None:
        """Makes the first link, or answers the conflict that forbids it. A conflict with a
        provisional profile (a burst of contacts for one new person made two) folds it
        (``linkmesh_profile.customers.folding``) and the link is tried again on the survivor; when this
        profile is the one folded away, raises ``FoldedInto``."""
        conflict: tuple[str, list[Customer]] | None = None
        for _ in range(MAX_FOLDS):
            conflict = await self._link_once(customer, app, candidate, fetched)
            if conflict is None:
                return None
            survivor = await self.folder.fold(customer, conflict[1], f"{app.name} customer {candidate.external_id} matched both")
            if survivor is None:
                return conflict[0]
            if survivor.oid != customer.oid:
                raise FoldedInto(survivor.id)
            customer = survivor
        return conflict[0] if conflict else None

    async def _link_once(
        self, customer: Customer, app: App, candidate: lookup_pb2.CustomerSummary, fetched: Fetched
    ) -> tuple[str, list[Customer]] | None:
        """Makes the first link in one write, or answers the conflict that forbids it with the
        customers it names.

        The unique indexes are the conflict check: the write adds the link key and the
        app's emails and phones the profile lacks, and a duplicate key says another customer
        holds one of them. Only then (or when the search answer named an email or phone the
        write does not cover) are the owners looked up, to name them in the reason; a
        duplicate on an email or phone the search did not show is no conflict, and the link
        is written without it, as a manual link is.
        """
        emails, phones = contact_points(fetched.customer, self.region)
        covered = set(customer.contact_points) | set(emails) | set(phones)
        shown = {email_key(e) for e in candidate.emails if e.strip()} | {
            p for p in (phone_key(ph.number, self.region) for ph in candidate.phones) if p
        }
        if shown - covered:
            conflict = await self.conflict_with(customer, app, candidate)
            if conflict is not None:
                return conflict
        try:
            await self.links.store_link(customer, app, candidate.external_id, fetched, first=True, unique_check=True, read_back=False)
            return None
        except DuplicateKeyError:
            conflict = await self.conflict_with(customer, app, candidate)
            if conflict is not None:
                return conflict
        await self.links.store_link(customer, app, candidate.external_id, fetched, first=True, read_back=False)
        return None

    async def conflict(self, customer: Customer, app: App, candidate: lookup_pb2.CustomerSummary) -> str | None:
        found = await self.conflict_with(customer, app, candidate)
        return found[0] if found else None

    async def conflict_with(self, customer: Customer, app: App, candidate: lookup_pb2.CustomerSummary) -> tuple[str, list[Customer]] | None:
        """Why ``candidate`` may not be linked to ``customer``, with the customers in the way."""
        other = await self.store.customer_with_link(app.id, candidate.external_id)
        if other is not None and other.oid != customer.oid:
            return f"external profile {candidate.external_id} is already linked to customer {other.id}", [other]
        emails = [email_key(e) for e in candidate.emails if e.strip()]
        phones = [p for p in (phone_key(ph.number, self.region) for ph in candidate.phones) if p]
        owners = await self.store.owners_of(emails, phones, customer.oid)
        for owner in owners:
            shared = sorted((set(emails) & set(owner.emails)) | (set(phones) & set(owner.phones)))
            return f"conflict: {', '.join(shared)} of external profile {candidate.external_id} belongs to customer {owner.id}", owners
        return None
