"""The apps in memory: every request reads its apps from here, none from the database."""

from __future__ import annotations

import time
from typing import Any

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from linkmesh_core.singleflight import SingleFlight
from linkmesh_profile.db import queries as q
from linkmesh_profile.model.app import App


class AppCache:
    """Every app, in memory, so a request reads none from the database.

    Apps change rarely and are read by nearly every request. The cache reloads all apps
    when the counter ``meta.apps`` differs from the one it loaded with; it looks at the
    counter at most every ``check_s`` seconds (concurrent requests share one look), so
    another replica's change is seen within ``check_s``, and this replica's own change at
    once. A writer writes the app first and then increases the counter, and the cache
    reads the counter before the apps: whatever interleaves, a cache never keeps an old
    app under a new counter. Documents handed out are shared: callers copy before changing.
    """

    def __init__(self, db: AsyncDatabase[dict[str, Any]], check_s: float = 1.0) -> None:
        self.db = db
        self.check_s = check_s
        self._apps: dict[str, App] | None = None
        self._version: int | None = None
        self._checked_at = float("-inf")
        self._flight: SingleFlight[None] = SingleFlight()

    def _due(self) -> bool:
        return self._apps is None or time.monotonic() - self._checked_at >= self.check_s

    def warm(self) -> None:
        """Starts the look at the counter if one is due, without waiting for it: a request
        reads its customer first and its apps after, so the look goes beside that read."""
        if self._due():
            self._flight.start("check", self._check)

    async def all(self) -> list[App]:
        """Every app, oldest first."""
        if self._due():
            await self._flight.run("check", self._check)
        assert self._apps is not None
        return list(self._apps.values())

    async def get(self, app_id: str) -> App | None:
        await self.all()
        assert self._apps is not None
        return self._apps.get(app_id)

    def invalidate(self) -> None:
        self._checked_at = float("-inf")
        self._version = None

    async def _check(self) -> None:
        checked_at = time.monotonic()
        meta = await q.apps_version().find_one(self.db)
        version = int((meta or {}).get("version", 0))
        if self._apps is None or version != self._version:
            apps = await q.all_apps().find(self.db).to_list(length=None)
            self._apps = {str(a["_id"]): App.from_doc(a) for a in apps}
            self._version = version
        self._checked_at = checked_at

    async def count_change(self, session: AsyncClientSession | None = None) -> None:
        """With an app write (in its transaction, where there is one): other replicas see the new
        counter; this one reloads (``invalidate``) once the write is done."""
        await self.db[q.META].update_one(q.apps_version().filter, {"$inc": {"version": 1}}, upsert=True, session=session)
