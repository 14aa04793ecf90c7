"""Every write to a customer's links is conditional on what its decision read: a use case held
between its read and its write (linkmesh_profile.linking.checkpoints) while another one writes never
undoes the other's work. Over the real database, a real BigCommerce connector and sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.linking import checkpoints
from linkmesh_profile.linking.unlink import unlink
from tests.profile_kit import Kit, once_at, profile_kit


@pytest.fixture()
async def kit(mongo: MongoServer) -> AsyncIterator[Kit]:
    async with profile_kit(mongo) as made:
        yield made


async def test_an_auto_link_that_read_before_an_unlink_does_not_link_again(kit: Kit) -> None:
    """It read the profile (not linked), spent its time at the vendor; meanwhile an agent linked
    the record by hand and unlinked it. Its first-link condition saw no link and wrote it back."""
    customer = await kit.customer()
    app_id = kit.app.id

    async def agent() -> None:
        checkpoints.install(None)
        await kit.links.link(customer.id, app_id, "101")
        await unlink(kit.store, customer.id, None)

    held = once_at("link.before_write", agent)
    result = await kit.autolinker.auto_link(customer)
    assert held, "the auto-link was held between its read and its write"
    doc = await kit.read(customer)
    assert doc.links == {} and app_id in doc.unlinked_apps, "an unlinked app never links again"
    assert app_id not in result.linked


async def test_an_unlink_that_read_before_a_link_removes_it_and_what_it_pulled(kit: Kit) -> None:
    """It read the profile, then a link was written: unlinking from the stale read dropped the
    link but left its pulled name and sources on the profile."""
    customer = await kit.customer()
    app_id = kit.app.id

    async def agent() -> None:
        checkpoints.install(None)
        await kit.links.link(customer.id, app_id, "101")

    held = once_at("unlink.before_write", agent)
    await unlink(kit.store, customer.id, None)
    assert held
    doc = await kit.read(customer)
    assert doc.links == {} and doc.link_keys == ()
    assert doc.name == "" and not doc.field_sources, f"pulled values stayed: {doc.name!r}, {doc.field_sources}"
    assert app_id in doc.unlinked_apps


async def test_a_refresh_that_fetched_before_an_unlink_writes_nothing_back(kit: Kit) -> None:
    customer = await kit.customer()
    cid, app_id = customer.id, kit.app.id
    await kit.links.link(cid, app_id, "101")
    held = once_at("refresh.before_write", lambda: unlink(kit.store, cid, None))
    linked = await kit.read(customer)
    await kit.refresher.refresh_app(cid, kit.app, force=True, customer=linked)
    assert held
    doc = await kit.read(customer)
    assert doc.links == {} and doc.name == "" and not doc.field_sources


async def test_a_manual_link_held_while_another_unlink_ran_leaves_a_whole_link(kit: Kit) -> None:
    """A manual link is allowed after an unlink: written after it, it is whole (data, key, pulled values)."""
    customer = await kit.customer()
    cid, app_id = customer.id, kit.app.id
    held = once_at("link.before_write", lambda: unlink(kit.store, cid, None))
    await kit.links.link(cid, app_id, "101")
    assert held
    doc = await kit.read(customer)
    assert doc.links[app_id].external_customer_id == "101" and f"{app_id}:101" in doc.link_keys
    assert doc.name == "Jane Smith" and doc.field_sources["name"] == app_id


async def test_one_system_is_unlinked_alone_and_never_auto_links_again(kit: Kit) -> None:
    customer = await kit.customer()
    cid, app_id = customer.id, kit.app.id
    result = await kit.autolinker.auto_link(customer)
    assert app_id in result.linked
    doc = await unlink(kit.store, cid, app_id)
    assert app_id not in doc.links and not any(k.startswith(f"{app_id}:") for k in doc.link_keys)
    assert not any(k.endswith(app_id) for k in doc.order_keys) and app_id in doc.unlinked_apps
    again = await kit.autolinker.auto_link(await kit.read(customer))
    assert app_id not in again.linked
