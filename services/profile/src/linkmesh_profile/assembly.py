"""The profile service's parts, built once and wired together (the composition root).

``__main__`` assembles them for the server and ``tests/profile_kit.py`` for tests that drive
the use cases directly; each servicer in ``api/`` is handed the parts it serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from linkmesh_profile.actions.resolution import DEFAULT_DELAYS_S
from linkmesh_profile.actions.runner import ActionRunner
from linkmesh_profile.adaptor.actions import ServedActions
from linkmesh_profile.adaptor.served import ServedAdaptor
from linkmesh_profile.admin.api_keys import ApiKeys
from linkmesh_profile.admin.audit import AuditLog, audited_fold
from linkmesh_profile.admin.debugger import Debugger
from linkmesh_profile.admin.lookup_log import LookupLog
from linkmesh_profile.connectors.lookups import Lookups
from linkmesh_profile.customers.contacts import Contacts
from linkmesh_profile.customers.directory import Directory
from linkmesh_profile.customers.folding import DEFAULT_PROVISIONAL_S, Folder, Record
from linkmesh_profile.customers.watch import Watch
from linkmesh_profile.db.inbox import Inbox
from linkmesh_profile.events.consumer import Consumer
from linkmesh_profile.events.receive import Receiver
from linkmesh_profile.events.subscriptions import Subscriptions
from linkmesh_profile.events.sweep import Sweeper
from linkmesh_profile.linking.autolink import AutoLinker
from linkmesh_profile.linking.autolink_queue import AutoLinkQueue
from linkmesh_profile.linking.link import Links
from linkmesh_profile.linking.refresh import Refresher
from linkmesh_profile.linking.search import Search
from linkmesh_profile.privacy.people import People
from linkmesh_profile.privacy.vendor_requests import VendorRequests

if TYPE_CHECKING:
    from linkmesh_profile.admin.apps import AppService
    from linkmesh_profile.db.store import Store
    from linkmesh_profile.db.traces import TraceStore


@dataclass(frozen=True)
class Tuning:
    region: str = "US"
    freshness_s: float = 300.0
    action_timeout_s: float = 20.0
    resolve_delays: tuple[float, ...] = DEFAULT_DELAYS_S
    provisional_s: float = DEFAULT_PROVISIONAL_S
    public_url: str = ""
    events_freshness_s: float = 0.0
    watch_poll_s: float = 0.5
    sweep_interval_s: float = 900.0
    sweep_max_pages: int = 4


@dataclass
class Parts:
    store: Store
    apps: AppService
    traces: TraceStore
    lookups: Lookups
    search: Search
    links: Links
    refresher: Refresher
    queue: AutoLinkQueue
    autolinker: AutoLinker
    contacts: Contacts
    directory: Directory
    actions: ActionRunner
    audit: AuditLog
    api_keys: ApiKeys
    debugger: Debugger
    lookup_log: LookupLog
    inbox: Inbox
    consumer: Consumer
    receiver: Receiver
    subscriptions: Subscriptions
    watch: Watch
    sweeper: Sweeper
    people: People
    served: ServedAdaptor
    served_actions: ServedActions
    region: str


def assemble(
    store: Store, apps: AppService, traces: TraceStore, secret_keys: str, tuning: Tuning = Tuning(), fold_record: Record | None = None
) -> Parts:
    """Every part over one store; ``fold_record`` (default: the audit log) hears of every fold."""
    region = tuning.region
    lookups = Lookups(apps, traces)
    links = Links(store, apps, lookups, region)
    refresher = Refresher(store, apps, lookups, links, tuning.freshness_s, tuning.events_freshness_s)
    queue = AutoLinkQueue(store)
    audit = AuditLog(store)
    autolinker = AutoLinker(store, links, lookups, region, defer=queue.defer, folder=Folder(store, fold_record or audited_fold(audit)))
    actions = ActionRunner(store, apps, refresher, traces, tuning.action_timeout_s, tuning.resolve_delays)
    served = ServedAdaptor(apps, lookups, region)
    inbox = Inbox(store)
    consumer = Consumer(store, refresher, inbox, privacy=VendorRequests(store, audit, traces))
    subscriptions = Subscriptions(store, apps, tuning.public_url)
    watch = Watch(store, tuning.watch_poll_s)
    refresher.wrote = watch.wrote
    return Parts(
        store=store,
        apps=apps,
        traces=traces,
        lookups=lookups,
        search=Search(store, apps, lookups, region),
        links=links,
        refresher=refresher,
        queue=queue,
        autolinker=autolinker,
        contacts=Contacts(store, refresher, autolinker, region, tuning.provisional_s),
        directory=Directory(store, region),
        actions=actions,
        audit=audit,
        api_keys=ApiKeys(store, secret_keys),
        debugger=Debugger(store, apps, lookups, autolinker, region),
        lookup_log=LookupLog(store, apps, traces),
        inbox=inbox,
        consumer=consumer,
        receiver=Receiver(apps, inbox, consumer.wake, subscriptions.callback),
        subscriptions=subscriptions,
        watch=watch,
        people=People(store, traces),
        sweeper=Sweeper(store, apps, inbox, subscriptions, consumer.wake, tuning.sweep_interval_s, tuning.sweep_max_pages),
        served=served,
        served_actions=ServedActions(served, actions),
        region=region,
    )
