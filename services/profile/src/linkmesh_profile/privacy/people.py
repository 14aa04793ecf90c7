"""Export and erase one customer (GDPR articles 15 and 17, CCPA, Shopify's privacy requests).

The export is every document about them, by collection, as one JSON document. The erase is
recorded first (``meta``: ``erasure:<id>``, with their records at the vendors until it is done),
then removes or pseudonymises what each collection holds about them, the profile last, so a crash
leaves a profile that is erased again by asking again; asking after it is done answers the same
record (``already``). Nothing of the person is logged: ids and counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from bson import json_util

from linkmesh_core.errors import not_found
from linkmesh_profile.db import person
from linkmesh_profile.db.store import now

if TYPE_CHECKING:
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.db.traces import TraceStore

log = structlog.get_logger("linkmesh.privacy")
JSON = json_util.JSONOptions(json_mode=json_util.JSONMode.RELAXED, tz_aware=True)


@dataclass(frozen=True)
class Exported:
    customer_id: str
    at: datetime
    document: bytes
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Erased:
    customer_id: str
    erased_at: datetime
    removed: dict[str, int]
    pseudonymised: dict[str, int]
    already: bool = False


class People:
    def __init__(self, store: Store, traces: TraceStore) -> None:
        self.store = store
        self.traces = traces  # lookups are traced a moment later: what this replica holds is written first

    async def export(self, customer_id: str) -> Exported:
        await self.traces.settle()
        held = await person.documents_about(self.store, customer_id)
        if held.profile is None:
            raise not_found(f"no customer {customer_id}")
        at = now()
        counts = held.counts()
        document = json_util.dumps(  # the profile, with its links and the data they pulled, then the rest by collection
            {"customer_id": customer_id, "exported_at": at, "customer": held.profile, **held.others}, json_options=JSON, indent=2
        )
        log.info("customer_exported", customer_id=customer_id, **counts)
        return Exported(customer_id, at, document.encode(), counts)

    async def erase(self, customer_id: str) -> Erased:
        await self.traces.settle()
        held = await person.documents_about(self.store, customer_id)
        record = await person.erasure_of(self.store, customer_id)
        if held.profile is None and record is None:
            raise not_found(f"no customer {customer_id}")
        already = record is not None and record.done
        at = now()
        if record is None or not record.done:
            record = await person.begin_erasure(self.store, customer_id, held.records, at)
        day = (record.started_at or at).date().isoformat()
        naming = await person.anonymous_traces(self.store, held.profile or {})  # the served adaptor's lookups of them
        removed, pseudonymised = await person.erase_documents(self.store, customer_id, list(record.records), day, naming)
        await self.traces.forget(person.traces_about(customer_id))  # and what another replica traced a moment ago
        done = await person.finish_erasure(self.store, customer_id, at, removed, pseudonymised)
        log.info("customer_erased", customer_id=customer_id, already=already, **{f"removed_{k}": v for k, v in removed.items()})
        return Erased(customer_id, done.erased_at or at, dict(done.removed), dict(done.pseudonymised), already)
