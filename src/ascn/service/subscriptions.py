"""Subscriptions (clause 5.8): create, retrieve, query, update and delete; and their
notifications: every write is matched against the subscriptions (in its transaction, so that
its notifications are written with it) and the delivery sends them.

A subscription keeps the @context it was created with ("_context"): its notifications are
compacted with it (or with its jsonldContext)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from ascn.errors import AlreadyExists, AscnError, ResourceNotFound
from ascn.ngsild import names, subscription
from ascn.ngsild.entity import Entity
from ascn.ngsild.query import MAX_LIMIT, EntityQuery, Selector
from ascn.ngsild.subscription import Subscription
from ascn.ngsild.timestamps import now
from ascn.service.contexts import ContextService
from ascn.service.entities import Scope
from ascn.store import Changes, Store
from ascn.store.base import Notification
from ascn.subscriptions.delivery import Attempt, Delivery, Policy
from ascn.subscriptions.matching import Index, Watcher

CONTEXT = "_context"
TICK = 0.5
"""Seconds between two looks at the timeInterval subscriptions."""
log = logging.getLogger("ascn.subscriptions")


def now_ms() -> int:
    return int(time.time() * 1000)


class SubscriptionService:
    def __init__(self, store: Store, contexts: ContextService, policy: Policy) -> None:
        self.store = store
        self.contexts = contexts
        self.index = Index()
        self.delivery = Delivery(store, self._current, self._report, policy)
        self._periodic: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._dirty: set[tuple[str, str]] = set()

    async def open(self) -> None:
        for tenant, stored in await self.store.every_subscription():
            self.index.add(await self._watcher(tenant, stored))
        self.store.watch(self)
        self.delivery.start()
        self._periodic = asyncio.create_task(self._every_interval())
        self._flusher = asyncio.create_task(self._flush_every_second())

    async def close(self) -> None:
        for task in (self._periodic, self._flusher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.delivery.stop()
        await self.flush()

    async def _every_interval(self) -> None:
        """Notify each timeInterval subscription of the entities it selects, once per interval
        (the first interval counted from its creation)."""
        while True:
            await asyncio.sleep(TICK)
            moment_ms = now_ms()
            for watcher in list(self.index.watchers.values()):
                interval = watcher.stored.get("timeInterval")
                if interval is None or moment_ms - watcher.last_ms < interval * 1000:
                    continue
                watcher.last_ms = moment_ms
                if subscription.status(watcher.stored, moment_ms) != "active":
                    continue
                try:
                    await self._notify_periodically(watcher)
                except AscnError as error:
                    log.warning("periodic notification of %s failed: %s", watcher.id, error)

    async def _notify_periodically(self, watcher: Watcher) -> None:
        selectors = tuple(
            Selector(ids=(entity_id,) if entity_id else None, types=types, id_pattern=pattern)
            for types, entity_id, pattern in watcher.selectors
        )
        query = EntityQuery(selectors=selectors, q=watcher.q, geo=watcher.geo, limit=MAX_LIMIT)
        entities, _ = await self.store.query(watcher.tenant, query)
        entities = [e for e in entities if watcher.selects(e)]
        if not entities:
            return
        headers, body = watcher.periodic(entities, now())
        outbox = [(watcher.id, headers, body)]
        await self.store.transact(
            watcher.tenant, [], lambda _: (Changes(history=[], outbox=outbox), None)
        )
        self.delivery.wake()

    # --- the store's observer -----------------------------------------------------------

    def notifications(
        self, tenant: str, existing: Mapping[str, Entity], changes: Changes
    ) -> list[Notification]:
        return self.index.notifications(
            tenant, existing, changes.puts, changes.deletes, now(), now_ms()
        )

    def committed(self) -> None:
        self.delivery.wake()

    # --- the API ------------------------------------------------------------------------

    async def create(self, scope: Scope, raw: Any, context: Any) -> str:
        stored = subscription.parse(raw, scope.terms, now())
        stored[CONTEXT] = context
        watcher = await self._watcher(scope.tenant, stored)
        if not await self.store.add_subscription(scope.tenant, stored):
            raise AlreadyExists(f"subscription {stored['id']} already exists")
        self.index.add(watcher)
        return str(stored["id"])

    async def retrieve(self, tenant: str, subscription_id: str) -> Subscription:
        names.check_uri(subscription_id, "subscription id")
        found = await self.store.get_subscription(tenant, subscription_id)
        if found is None:
            raise ResourceNotFound(f"subscription {subscription_id} does not exist")
        return self._latest(tenant, found)

    async def query(self, tenant: str, limit: int, offset: int) -> tuple[list[Subscription], int]:
        found, total = await self.store.list_subscriptions(tenant, limit, offset)
        return [self._latest(tenant, s) for s in found], total

    def _latest(self, tenant: str, stored: Subscription) -> Subscription:
        """The subscription with the notification status the delivery keeps in memory (the
        store has it within a second)."""
        watcher = self.index.watchers.get((tenant, stored["id"]))
        return watcher.stored if watcher is not None else stored

    async def update(self, scope: Scope, subscription_id: str, raw: Any) -> None:
        stored = await self.retrieve(scope.tenant, subscription_id)
        updated = subscription.update(stored, raw, scope.terms, now())
        watcher = await self._watcher(scope.tenant, updated)
        if not await self.store.replace_subscription(scope.tenant, updated):
            raise ResourceNotFound(f"subscription {subscription_id} does not exist")
        self.index.add(watcher)

    async def delete(self, tenant: str, subscription_id: str) -> None:
        names.check_uri(subscription_id, "subscription id")
        if not await self.store.delete_subscription(tenant, subscription_id):
            raise ResourceNotFound(f"subscription {subscription_id} does not exist")
        self.index.remove(tenant, subscription_id)
        await self.store.drop_notifications(tenant, subscription_id)

    # --- delivery -----------------------------------------------------------------------

    async def _watcher(self, tenant: str, stored: Subscription) -> Watcher:
        context = stored.get("jsonldContext") or stored.get(CONTEXT)
        watcher = Watcher.of(tenant, stored, await self.contexts.terms(context))
        watcher.last_ms = now_ms() if "timeInterval" in stored else 0
        return watcher

    def _current(self, tenant: str, subscription_id: str) -> dict[str, Any] | None:
        watcher = self.index.watchers.get((tenant, subscription_id))
        return watcher.stored if watcher is not None else None

    async def _report(
        self, tenant: str, subscription_id: str, attempts: list[Attempt], gave_up: str | None
    ) -> None:
        """Keep the notification status (clause 5.2.14) of a round of attempts: at once in
        memory, in the store within a second (or at once when it gave up)."""
        watcher = self.index.watchers.get((tenant, subscription_id))
        if watcher is None or not attempts:
            return
        status = watcher.stored["notification"]
        for attempt in attempts:
            status["timesSent"] = status.get("timesSent", 0) + 1
            status["lastNotification"] = attempt.at
            if attempt.ok:
                status["lastSuccess"] = attempt.at
                status["status"] = "ok"
                status.pop("failureReason", None)
            else:
                status["lastFailure"] = attempt.at
                status["timesFailed"] = status.get("timesFailed", 0) + 1
                status["status"] = "failed"
                status["failureReason"] = attempt.reason
        self._dirty.add((tenant, subscription_id))
        if gave_up is not None:
            status["status"] = "failed"
            status["failureReason"] = gave_up
            await self.flush()

    async def flush(self) -> None:
        """Write the notification status of the subscriptions that changed."""
        dirty, self._dirty = self._dirty, set()
        for tenant, subscription_id in sorted(dirty):
            watcher = self.index.watchers.get((tenant, subscription_id))
            if watcher is not None:
                await self.store.replace_subscription(tenant, watcher.stored)

    async def _flush_every_second(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.flush()
            except AscnError as error:
                log.warning("keeping notification status failed: %s", error)
