"""The Store protocol every backend implements, and the values that cross it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ascn.ngsild.history import Record
from ascn.ngsild.query import EntityQuery
from ascn.ngsild.temporal import Period, Window

Entity = dict[str, Any]
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose history: entity ids, and optionally attribute IRIs and datasets ("" default)."""

    ids: Sequence[str]
    attrs: frozenset[str] | None = None
    datasets: frozenset[str] | None = None
    instance_id: str | None = None


@dataclass(frozen=True, slots=True)
class Erase:
    """History to remove: of an entity, of one attribute (of one dataset, "" the default, or
    of all: None), or one instance."""

    entity_id: str
    attribute: str | None = None
    dataset: str | None = None
    instance_id: str | None = None


@dataclass(slots=True)
class Changes:
    """What one transaction writes: entities to put (insert or replace) and ids to delete, and
    their history. Unless `history` is given, the history records are derived from the puts
    and deletes (ngsild/history.py)."""

    puts: list[Entity] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    history: list[Record] | None = None
    """Records to add as given (the temporal API), instead of the derived ones."""
    replace_observed: bool = False
    """Whether the given records replace those of the same attribute, dataset and observedAt."""
    erase: list[Erase] = field(default_factory=list)
    amend: list[Record] = field(default_factory=list)
    """Instances whose content changes, found by their instance id."""
    outbox: list[tuple[str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    """Notifications to send besides those the observer finds: (subscription id, headers,
    body)."""


Plan = Callable[[Mapping[str, Entity]], tuple[Changes, R]]
"""Given the current state of the entities a transaction names, what to write and what to answer.
It may raise an AscnError: the transaction then writes nothing."""


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """Entities of a type, and the instances of one attribute (of one attribute type) they
    hold; an attribute of None stands for the type itself (its entity count), a type of None
    for all entities whatever their types."""

    type: str | None
    attribute: str | None
    attribute_type: str | None
    count: int


@dataclass(frozen=True, slots=True)
class ContextRecord:
    """A JSON-LD context the node hosts or caches (clause 5.13)."""

    id: str
    url: str
    kind: str
    body: bytes
    created_at: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A notification waiting in the outbox: written with the change that caused it, removed
    once delivered."""

    seq: int
    tenant: str
    subscription_id: str
    headers: dict[str, str]
    body: dict[str, Any]
    attempts: int
    created: int
    """When it was written, in ms since the epoch."""


Notification = tuple[str, dict[str, str], dict[str, Any]]
"""(subscription id, headers, body) of a notification a write causes."""


class Observer(Protocol):
    """Told of every write inside its transaction (its notifications join the write), and
    after the commit."""

    def notifications(
        self, tenant: str, existing: Mapping[str, Entity], changes: Changes
    ) -> list[Notification]: ...

    def committed(self) -> None: ...


class Store(Protocol):
    def watch(self, observer: Observer) -> None:
        """Tell `observer` of every write from now on."""

    async def due_notifications(self, now: int, limit: int) -> list[Outgoing]:
        """The outbox's notifications due by `now` (ms), oldest first."""

    async def settle_notifications(
        self, delivered: Sequence[int], retries: Sequence[tuple[int, int, int]]
    ) -> None:
        """Remove delivered notifications; postpone others (seq, attempts, next attempt ms)."""

    async def drop_notifications(self, tenant: str, subscription_id: str) -> int:
        """Remove every notification of a subscription; how many there were."""

    async def open(self) -> None:
        """Create or migrate the schema and get ready to serve."""

    async def close(self) -> None:
        """Finish pending work and release every resource."""

    async def tenant_exists(self, tenant: str) -> bool: ...

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, Entity]:
        """The entities of these ids that exist, keyed by id."""

    async def transact(self, tenant: str, ids: Sequence[str], plan: Plan[R]) -> R:
        """Read the entities named, apply the plan's changes atomically and durably."""

    async def query(self, tenant: str, query: EntityQuery) -> tuple[list[Entity], int | None]:
        """One page of the entities a query selects, and their total count if asked."""

    async def catalog(self, tenant: str) -> list[CatalogRow]:
        """What the tenant's entities hold: a row per (type, attribute, attribute type)."""

    async def history(
        self, tenant: str, scope: Scope, window: Window, cap: int | None
    ) -> list[Record]:
        """Instances of the window in time order per attribute; of each attribute the lastN
        newest, then at most `cap` (+1 tells whether there were more)."""

    async def aggregate(
        self,
        tenant: str,
        scope: Scope,
        window: Window,
        period: int | None,
        start: int | None,
        distinct: bool = False,
    ) -> tuple[int | None, list[Period]]:
        """The origin of the periods (`start`, else the window's earliest time) and the
        aggregates of every attribute (of every dataset) per period of `period` ms."""

    async def history_types(self, tenant: str, ids: Sequence[str]) -> dict[str, list[str]]:
        """The types of the entities that have a history (even if deleted since)."""

    async def prune_history(self, before: int) -> int:
        """Remove instances older than `before` (ms since the epoch); how many were."""

    async def add_subscription(self, tenant: str, subscription: dict[str, Any]) -> bool:
        """Keep a new subscription; False if one of that id exists already."""

    async def replace_subscription(self, tenant: str, subscription: dict[str, Any]) -> bool:
        """Replace a subscription; False if there is none of that id."""

    async def get_subscription(
        self, tenant: str, subscription_id: str
    ) -> dict[str, Any] | None: ...

    async def list_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the tenant's subscriptions in id order, and how many there are."""

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool: ...

    async def every_subscription(self) -> list[tuple[str, dict[str, Any]]]:
        """(tenant, subscription) of every tenant's subscriptions."""

    async def put_context(self, record: ContextRecord) -> None: ...

    async def get_context(self, context_id: str) -> ContextRecord | None: ...

    async def list_contexts(self) -> list[ContextRecord]: ...

    async def delete_context(self, context_id: str) -> bool: ...
