"""The profile service's use cases wired in process over the real database, a real BigCommerce
connector and its sandbox (demo data: Jane Smith is customer 101), for tests that drive the use
cases directly (interleavings held at ``linkmesh_profile.linking.checkpoints``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet
from linkmesh.profile.v1 import profile_pb2

from linkmesh_devstack.mongo import MongoServer
from linkmesh_profile.admin.apps import AppService
from linkmesh_profile.admin.secret_box import SecretBox
from linkmesh_profile.assembly import Tuning, assemble
from linkmesh_profile.connectors.registry import ConnectorRegistry
from linkmesh_profile.customers.contacts import Contacts
from linkmesh_profile.customers.folding import DEFAULT_PROVISIONAL_S
from linkmesh_profile.db.store import Store, now
from linkmesh_profile.db.traces import TraceStore
from linkmesh_profile.linking import checkpoints
from linkmesh_profile.linking.autolink import AutoLinker
from linkmesh_profile.linking.link import Links
from linkmesh_profile.linking.refresh import Refresher
from linkmesh_profile.model.app import App
from linkmesh_profile.model.customer import Customer
from linkmesh_sandboxes.bigcommerce import data
from tests.inprocess import bigcommerce_sandbox, bigcommerce_target

JANE = "jane.smith@example.com"  # BigCommerce customer 101 in the sandbox
JANE_PHONE = "+14155550101"


@dataclass
class Kit:
    store: Store
    links: Links
    refresher: Refresher
    autolinker: AutoLinker
    contacts: Contacts
    app: App
    #: (customer kept, customer folded, evidence) of every fold.
    folds: list[tuple[str, str, str]]

    async def customer(self) -> Customer:
        """Jane's profile as an agent or integrator would create it (not provisional)."""
        stamp = now()
        return await self.store.insert_customer(
            {"name": "", "emails": [JANE], "phones": [], "links": {}, "link_keys": [], "created_at": stamp, "updated_at": stamp}
        )

    async def read(self, customer: Customer | str) -> Customer:
        oid = customer if isinstance(customer, str) else customer.id
        doc = await self.store.get_customer(oid)
        assert doc is not None
        return doc


@asynccontextmanager
async def profile_kit(
    mongo: MongoServer, auto_link_fields: tuple[str, ...] = ("email",), provisional_s: float = DEFAULT_PROVISIONAL_S
) -> AsyncIterator[Kit]:
    db = f"kit_{uuid.uuid4().hex[:8]}"
    store = Store(mongo.uri, db)
    await store.ensure_indexes()
    async with bigcommerce_sandbox() as sandbox, bigcommerce_target() as target:
        connectors = ConnectorRegistry({"bigcommerce": target}, 8.0)
        apps = AppService(store, connectors, SecretBox(Fernet.generate_key().decode()))
        app = await apps.create(
            profile_pb2.AppInput(
                type="bigcommerce",
                name="Hold store",
                settings={"store_hash": data.STORE_HASH, "api_base_url": sandbox.url},
                secrets={"access_token": data.ACCESS_TOKEN},
                auto_link_fields=list(auto_link_fields),
                overwrite_existing_values=True,
                search_query_attributes=[profile_pb2.Attribute(attribute="email", label="Email")],
            )
        )
        folds: list[tuple[str, str, str]] = []

        async def record(kept: str, folded: str, evidence: str) -> None:
            folds.append((kept, folded, evidence))

        parts = assemble(
            store,
            apps,
            TraceStore(store, 3600, 100),
            Fernet.generate_key().decode(),
            Tuning(region="US", freshness_s=0.0, provisional_s=provisional_s),
            fold_record=record,
        )
        try:
            yield Kit(store, parts.links, parts.refresher, parts.autolinker, parts.contacts, app, folds)
        finally:
            checkpoints.install(None)
            await connectors.close()
            await store.client.drop_database(db)
            await store.close()


def once_at(point: str, meanwhile: Callable[[], Awaitable[Any]]) -> list[str]:
    """Holds the first use case that reaches ``point`` while ``meanwhile`` runs to its end."""
    seen: list[str] = []

    async def hook(reached: str) -> None:
        if reached == point and not seen:
            seen.append(reached)
            await meanwhile()

    checkpoints.install(hook)
    return seen
