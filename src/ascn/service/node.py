"""A node's services wired to one store: what the HTTP API, the dashboard and the CLI share."""

from __future__ import annotations

from ascn.ngsild.context import core_terms
from ascn.ngsild.entity import Limits
from ascn.service.batch import BatchService
from ascn.service.contexts import ContextService
from ascn.service.discovery import DiscoveryService
from ascn.service.entities import EntityService
from ascn.service.retention import Retention
from ascn.service.subscriptions import SubscriptionService
from ascn.service.temporal import TemporalService
from ascn.settings import Settings
from ascn.store import Store, open_store
from ascn.subscriptions.delivery import Policy


class Node:
    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        indexed = frozenset(
            core_terms().expand(name.strip())
            for name in settings.indexed_attributes.split(",")
            if name.strip()
        )
        self.store = store or open_store(settings.store, indexed, settings.store_pool_size)
        limits = Limits(max_attributes=settings.max_attributes, max_nesting=settings.max_nesting)
        self.contexts = ContextService(self.store, settings)
        self.entities = EntityService(self.store, limits)
        self.batch = BatchService(self.store, limits, settings.max_batch)
        self.discovery = DiscoveryService(self.store)
        self.temporal = TemporalService(self.store, limits)
        policy = Policy(
            first_retry=settings.notification_first_retry,
            max_retry=settings.notification_max_retry,
            give_up=settings.notification_give_up,
            timeout=settings.notification_timeout,
        )
        self.subscriptions = SubscriptionService(self.store, self.contexts, policy)
        self.retention = Retention(self.store, settings.history_retention)

    async def open(self) -> None:
        await self.store.open()
        await self.contexts.open()
        await self.subscriptions.open()
        self.retention.start()

    async def close(self) -> None:
        await self.retention.stop()
        await self.subscriptions.close()
        await self.contexts.close()
        await self.store.close()
