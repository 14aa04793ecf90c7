"""A burst of contacts for one new person makes one customer (linkmesh_profile.customers.folding).

Sent one after another, an email contact, then a phone-only contact make one customer: the
first auto-link brings the vendor's phone onto the profile and the phone finds it. Sent at once,
the phone-only contact made a second profile while the first auto-link was at the vendor, each
then held a contact point of the other's vendor record, and every auto-link after answered a
conflict for good. Interleavings are held at ``linkmesh_profile.linking.checkpoints``; over the real
database, a real BigCommerce connector and its sandbox (Jane: email and phone)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest
from linkmesh.profile.v1 import profile_pb2

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.customers.profiles import update_customer
from linkmesh_profile.db import queries as q
from linkmesh_profile.db.store import now
from linkmesh_profile.linking.autolink import AutoLinker, AutoLinkResult
from linkmesh_profile.model.customer import Customer
from tests.profile_kit import JANE, JANE_PHONE, Kit, once_at, profile_kit


@pytest.fixture()
async def kit(mongo: MongoServer) -> AsyncIterator[Kit]:
    async with profile_kit(mongo, auto_link_fields=("email", "phone")) as made:
        yield made


async def holders(kit: Kit) -> list[Customer]:
    """Every customer holding Jane's email or phone."""
    return await kit.store.find_customers(JANE, JANE_PHONE)


def contact(email: str = "", phone: str = "") -> profile_pb2.RecordContactRequest:
    return profile_pb2.RecordContactRequest(channel="chat", email=email, phone=phone)


async def test_a_phone_only_profile_made_while_the_email_auto_link_was_at_the_vendor_is_folded_into_it(kit: Kit) -> None:
    first, created = await kit.contacts.find_or_create(JANE, None, "")
    assert created
    made: list[str] = []

    async def phone_contact_meanwhile() -> None:
        second, new = await kit.contacts.find_or_create(None, JANE_PHONE, "Jane")
        assert new, "the phone had no owner yet: a second profile, as in the burst"
        made.append(second.id)

    held = once_at("link.before_write", phone_contact_meanwhile)
    result = await kit.autolinker.auto_link(first)
    assert held and made
    app_id = kit.app.id
    assert result.linked == [app_id], [d.reason for _, d in result.not_linked]
    [one] = await holders(kit)
    assert one.oid == first.oid and JANE_PHONE in one.phones and one.links[app_id].external_customer_id == "101"
    assert (await kit.read(made[0])).oid == first.oid, "the folded id reads as the customer it was folded into"
    assert await q.customer_by_id(one.oid.__class__(made[0])).find_one(kit.store.db) is None
    assert kit.folds == [(first.id, made[0], "Hold store customer 101 matched both")]


async def test_a_fold_another_replica_made_first_is_no_conflict_and_the_link_goes_on(kit: Kit) -> None:
    """Each profile of a burst finds the other holding a contact point of the vendor's record.
    The email profile's auto-link named the phone profile as the conflict; before it read them to
    fold, another replica's auto-link of the phone profile folded it into the email one. Its read
    then found one profile where it looked for two and answered the conflict: nothing linked (a CI
    run of tests/e2e/test_burst_of_contacts.py)."""
    email_only, _ = await kit.contacts.find_or_create(JANE, None, "")
    phone_only, _ = await kit.contacts.find_or_create(None, JANE_PHONE, "")
    other_replica = AutoLinker(kit.store, kit.links, kit.autolinker.lookups, "US", folder=kit.autolinker.folder)
    theirs: list[AutoLinkResult] = []

    async def other_replica_links_the_phone_profile() -> None:
        theirs.append(await other_replica.auto_link(phone_only))

    held = once_at("fold.before_read", other_replica_links_the_phone_profile)
    result = await kit.autolinker.auto_link(email_only)
    assert held and theirs[0].folded_into == email_only.id
    assert result.linked == [kit.app.id], [d.reason for _, d in result.not_linked]
    [one] = await holders(kit)
    assert one.oid == email_only.oid and JANE_PHONE in one.phones and one.links[kit.app.id].external_customer_id == "101"


async def test_the_younger_profile_folds_itself_into_the_older_and_the_contact_goes_on_there(kit: Kit) -> None:
    older, _ = await kit.contacts.find_or_create(JANE, None, "")
    younger, _ = await kit.contacts.find_or_create(None, JANE_PHONE, "")
    result = await kit.contacts.record(contact(phone=JANE_PHONE))
    assert result.customer_id == older.id and not result.created
    assert result.linked == [kit.app.id]
    [one] = await holders(kit)
    assert one.oid == older.oid and set(one.phones) == {JANE_PHONE}
    assert kit.folds[0][:2] == (older.id, younger.id)


async def test_one_contact_with_the_email_of_one_profile_and_the_phone_of_another_folds_them(kit: Kit) -> None:
    older, _ = await kit.contacts.find_or_create(JANE, None, "")
    await kit.contacts.find_or_create(None, JANE_PHONE, "Jane Smith")
    one, created = await kit.contacts.find_or_create(JANE.upper().lower(), JANE_PHONE, "")
    assert not created and one.oid == older.oid
    [only] = await holders(kit)
    assert set(only.emails) == {JANE} and set(only.phones) == {JANE_PHONE} and only.name == "Jane Smith"
    assert kit.folds[0][2] == "one contact brought the email of one and the phone of the other"


@pytest.mark.parametrize("why", ["edited by an agent", "older than the window"])
async def test_profiles_no_longer_provisional_stay_a_conflict(kit: Kit, why: str) -> None:
    email_only, _ = await kit.contacts.find_or_create(JANE, None, "")
    phone_only, _ = await kit.contacts.find_or_create(None, JANE_PHONE, "")
    for doc in (email_only, phone_only):
        if why == "edited by an agent":
            await update_customer(kit.store, doc.id, profile_pb2.CustomerInput(name="Someone"), ["name"], "US")
        else:
            await kit.store.update_customer(doc.id, {"$set": {"provisional_until": now() - timedelta(seconds=1)}})
    result = await kit.contacts.record(contact(email=JANE))
    assert result.customer_id == email_only.id and result.linked == []
    assert "belongs to customer" in result.not_linked[0].reason
    assert len(await holders(kit)) == 2 and kit.folds == []


async def test_a_profile_an_agent_made_is_no_part_of_a_burst(kit: Kit) -> None:
    """The linking rules' conflict holds: the agent's profile owns the email, a phone contact
    for the same vendor record makes a new profile that does not link (nor fold)."""
    owner = await kit.customer()
    result = await kit.contacts.record(contact(phone=JANE_PHONE))
    assert result.customer_id != owner.id and result.linked == [] and kit.folds == []


async def test_a_provisional_profile_that_linked_meanwhile_is_not_folded_away(kit: Kit) -> None:
    keeper, _ = await kit.contacts.find_or_create(JANE, None, "")
    young, _ = await kit.contacts.find_or_create(None, JANE_PHONE, "")
    await kit.store.update_customer(young.id, {"$set": {"link_keys": ["other-app:9"]}})
    assert await kit.store.fold_away(young.oid, keeper.oid, now()) is None
    assert (await kit.read(young)).oid == young.oid, "nothing deleted, and no alias left behind"
    assert await q.customer_alias(young.oid).find_one(kit.store.db) is None


def test_every_replica_picks_the_same_survivor_whatever_copy_it_holds() -> None:
    """A copy just written carries microseconds; the stored one, milliseconds. Ordered by the
    copy, two folds went both ways and both profiles were lost (found by the burst test)."""
    from bson import ObjectId

    from linkmesh_profile.customers.folding import survivor_of

    stamp = now().replace(microsecond=167_800)
    until = stamp + timedelta(seconds=120)
    older = Customer(ObjectId("6b0000000000000000000001"), created_at=stamp, provisional_until=until)
    younger = Customer(ObjectId("6b0000000000000000000002"), created_at=stamp.replace(microsecond=167_000), provisional_until=until)
    stored_older = replace(older, created_at=stamp.replace(microsecond=167_000))
    first, second = survivor_of([older, younger], stamp), survivor_of([stored_older, younger], stamp)
    assert first is not None and second is not None and first.oid == second.oid == older.oid
    linked = replace(younger, link_keys=("app:1",))
    assert survivor_of([older, linked], stamp) is linked, "the one already linked keeps the link"
    assert survivor_of([replace(older, link_keys=("app:2",)), linked], stamp) is None, "two linked: a real conflict"
    made_by_an_agent = replace(older, provisional_until=None)
    assert survivor_of([made_by_an_agent, younger], stamp) is None, "an agent's profile is never folded into"
