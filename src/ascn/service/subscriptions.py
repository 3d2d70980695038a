"""Subscriptions (clause 5.8): create, retrieve, query, update and delete. A subscription keeps
the @context it was created with ("_context"), which its notifications are compacted with."""

from __future__ import annotations

import time
from typing import Any

from ascn.errors import AlreadyExists, ResourceNotFound
from ascn.ngsild import names, subscription
from ascn.ngsild.subscription import Subscription
from ascn.ngsild.timestamps import now
from ascn.service.entities import Scope
from ascn.store import Store

CONTEXT = "_context"


def now_ms() -> int:
    return int(time.time() * 1000)


class SubscriptionService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def create(self, scope: Scope, raw: Any, context: Any) -> str:
        stored = subscription.parse(raw, scope.terms, now())
        stored[CONTEXT] = context
        if not await self.store.add_subscription(scope.tenant, stored):
            raise AlreadyExists(f"subscription {stored['id']} already exists")
        return str(stored["id"])

    async def retrieve(self, tenant: str, subscription_id: str) -> Subscription:
        names.check_uri(subscription_id, "subscription id")
        found = await self.store.get_subscription(tenant, subscription_id)
        if found is None:
            raise ResourceNotFound(f"subscription {subscription_id} does not exist")
        return found

    async def query(self, tenant: str, limit: int, offset: int) -> tuple[list[Subscription], int]:
        return await self.store.list_subscriptions(tenant, limit, offset)

    async def update(self, scope: Scope, subscription_id: str, raw: Any) -> None:
        stored = await self.retrieve(scope.tenant, subscription_id)
        updated = subscription.update(stored, raw, scope.terms, now())
        if not await self.store.replace_subscription(scope.tenant, updated):
            raise ResourceNotFound(f"subscription {subscription_id} does not exist")

    async def delete(self, tenant: str, subscription_id: str) -> None:
        names.check_uri(subscription_id, "subscription id")
        if not await self.store.delete_subscription(tenant, subscription_id):
            raise ResourceNotFound(f"subscription {subscription_id} does not exist")
