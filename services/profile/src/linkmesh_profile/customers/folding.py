"""Folding: a burst of contacts for one new person makes one customer.

Contacts for a person linkmesh does not know yet, sent on several channels at once (an email,
the same email in upper case, the email with a phone, the phone alone), race: the phone-only
contact finds no owner of its phone and makes a second profile while the first one's auto-link
is still at the vendor. Sent one after another they make one customer (the first auto-link
brings the vendor's phone onto the profile, and the phone-only contact finds it), so a burst
must too: otherwise each profile holds a contact point of the other's vendor record, every
auto-link sees the other as a conflict, and nothing ever links.

A profile a contact created is *provisional* for ``PROFILE_PROVISIONAL_S`` (120 s) unless an
agent edits it or it is unlinked (each ends it for good). When evidence says two provisional
profiles are one person (one contact that brings the email of one and the phone of the other,
or the one external profile an auto-link matched, whose emails, phones or link belong to both),
the one linked to nothing is folded into the other (of two linked to nothing, into the older):
it is deleted on the condition that it is still provisional and unlinked, its id becomes an
alias of the survivor (a read by the old id answers the survivor), and its emails, phones and
name move over. A profile that is not provisional (an agent made or edited it, or it is older
than the window) is never folded nor folded into: with it, a conflict stays a conflict (nothing
links, as the linking rules say). Every fold is audited (``customer.fold``, naming both ids and
the evidence).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from linkmesh_profile.customers.profiles import MAX_CONTACT_POINTS
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.linking import checkpoints

if TYPE_CHECKING:
    from bson import ObjectId

    from linkmesh_profile.model.customer import Customer

log = structlog.get_logger("linkmesh.folding")
DEFAULT_PROVISIONAL_S = 120.0
PROVISIONAL_UNTIL = "provisional_until"
# (customer_id of the survivor, id folded into it, evidence): writes the audit entry.
Record = Callable[[str, str, str], Awaitable[None]]


def provisional_until(stamp: datetime, window_s: float) -> datetime:
    return stamp + timedelta(seconds=window_s)


def in_burst(customer: Customer, at: datetime) -> bool:
    """Made by a contact less than the window ago, and neither edited by an agent nor unlinked."""
    until = customer.provisional_until
    return until is not None and until > at and not customer.unlinked_apps


def foldable(customer: Customer, at: datetime) -> bool:
    """In the burst and linked to nothing: it may be folded away."""
    return in_burst(customer, at) and not customer.link_keys and not customer.links


def survivor_of(participants: list[Customer], at: datetime) -> Customer | None:
    """The profile the others fold into: the one already linked, else the oldest; None when one
    of them is not from the burst (an agent made or edited it, it was unlinked, it is older than
    the window) or two are linked: a real conflict. Every replica picks the same one from the
    same documents, and a profile never becomes foldable again once it is not (a link, an
    unlink or an edit is for good, and time passes), so two folds never go both ways."""
    if not all(in_burst(p, at) for p in participants):
        return None
    linked = [p for p in participants if not foldable(p, at)]
    if len(linked) > 1:
        return None
    if linked:
        return linked[0]
    return min(participants, key=lambda p: (_millis(p.created_at or at), p.oid))


def _millis(stamp: datetime) -> datetime:
    """What MongoDB keeps of a time: milliseconds."""
    return stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)


class Folder:
    def __init__(self, store: Store, record: Record | None = None) -> None:
        self.store = store
        self.record = record

    async def fold(self, customer: Customer, others: list[Customer], evidence: str) -> Customer | None:
        """Folds ``customer`` and ``others`` (the owners the evidence names) into one profile
        where the rules allow; answers the survivor as it now is, or None when nothing may be
        folded (a real conflict, or a profile that stopped being provisional meanwhile)."""
        await checkpoints.reached("fold.before_read")
        # Everyone as stored now (the caller's copy may be stale, and carries times finer than
        # the database keeps): every replica orders the same documents the same way.
        participants: dict[ObjectId, Customer] = {}
        for oid in dict.fromkeys([customer.oid, *(other.oid for other in others)]):
            full = await self.store.get_customer(str(oid))
            if full is not None:
                participants[full.oid] = full
        if len(participants) == 1:
            # The evidence names one profile now: the others were folded into it meanwhile (or it
            # into one of them) by another contact of the burst. Not a conflict: answer it as it
            # is, and the caller goes on with it.
            return next(iter(participants.values()))
        if not participants:
            return None
        at = now()
        survivor = survivor_of(list(participants.values()), at)
        if survivor is None:
            return None
        for oid, young in participants.items():
            if oid != survivor.oid and not await self._fold_one(young, survivor.oid, evidence, at):
                return None
        return await self.store.get_customer(survivor.id)

    async def _fold_one(self, young: Customer, into: ObjectId, evidence: str, at: datetime) -> bool:
        gone = await self.store.fold_away(young.oid, into, at)
        if gone is None:
            return False  # it linked, was edited or folded meanwhile: not provisional any more
        for field, values in (("emails", gone.emails), ("phones", gone.phones)):
            for value in values:  # one at a time: one taken meanwhile by someone else stays theirs
                await self.store.add_contact_point(into, field, value, MAX_CONTACT_POINTS)
        if gone.name:
            await self.store.fill_name(into, gone.name)
        log.info("customer_folded", customer_id=str(into), folded=young.id, evidence=evidence)
        if self.record is not None:
            await self.record(str(into), young.id, evidence)
        return True
