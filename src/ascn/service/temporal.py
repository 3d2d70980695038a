"""The temporal API's use cases (clauses 5.6.11-5.6.18, 5.7.3, 5.7.4): history written through
the temporal representation of entities, and read back over a window of time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ascn.errors import BadRequestData, NonexistentTenant, ResourceNotFound
from ascn.ngsild import changes, names
from ascn.ngsild.attribute import parse_instance
from ascn.ngsild.entity import Entity, Limits, check_size, copy_entity
from ascn.ngsild.evolution import Page, page
from ascn.ngsild.history import Record, millis, record
from ascn.ngsild.temporal import Period, TemporalQuery, Window, latest, parse_temporal
from ascn.ngsild.timestamps import now
from ascn.service.entities import Scope as Request
from ascn.store import Changes, Erase, Store
from ascn.store.base import Scope


@dataclass(slots=True)
class Evolution:
    """What a temporal read found of one entity: its types and instances (or aggregates)."""

    entity_id: str
    types: list[str]
    records: list[Record] = field(default_factory=list)
    periods: list[Period] = field(default_factory=list)
    emptied: frozenset[str] = frozenset()
    """Attributes whose instances paging moved to a later page."""


@dataclass(slots=True)
class Evolutions:
    entities: list[Evolution]
    content_range: str | None = None
    origin: int = 0
    end: int = 0


RECORDED = Window(timeproperty="createdAt")
"""Every instance recorded (not the tombstones): to look instances up."""


class TemporalService:
    def __init__(self, store: Store, limits: Limits) -> None:
        self.store = store
        self.limits = limits

    async def _tenant(self, tenant: str) -> None:
        if not await self.store.tenant_exists(tenant):
            raise NonexistentTenant(f"tenant {tenant!r} does not exist")

    async def upsert(self, scope: Request, raw: Any) -> bool:
        """Create or update a temporal entity: add its instances to the history (an instance
        with the same attribute, datasetId and observedAt as a recorded one replaces it), and
        keep the latest of each attribute as the entity's current state. True if created."""
        head, instances = parse_temporal(raw, scope.terms, self.limits)
        moment = now()
        records = [record(head["id"], iri, _stamp(i, moment)) for iri, i in instances]
        current = latest(instances)

        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, bool]:
            before = existing.get(head["id"])
            if before is None:
                entity = {**head, "attrs": current}
                entity = changes.create(entity, moment)
            else:
                entity = _merged(before, head, current, moment)
            entity = check_size(entity, self.limits)
            found = Changes(puts=[entity], history=records, replace_observed=True)
            return found, before is None

        return await self.store.transact(scope.tenant, [head["id"]], plan)

    async def append(self, scope: Request, entity_id: str, raw: Any) -> None:
        """Add instances of attributes to a temporal entity (clause 5.6.12)."""
        names.check_uri(entity_id, "entity id")
        _, instances = parse_temporal(raw, scope.terms, self.limits, fragment=True)
        moment = now()
        records = [record(entity_id, iri, _stamp(i, moment)) for iri, i in instances]
        current = latest(instances)

        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, None]:
            before = existing.get(entity_id)
            if before is None:
                raise ResourceNotFound(f"entity {entity_id} does not exist")
            entity = check_size(_merged(before, {}, current, moment), self.limits)
            return Changes(puts=[entity], history=records, replace_observed=True), None

        await self._transact(scope.tenant, entity_id, plan)

    async def delete(self, tenant: str, entity_id: str) -> None:
        """Delete a temporal entity: its history and its current state."""
        names.check_uri(entity_id, "entity id")
        known = await self._known(tenant, entity_id)

        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, None]:
            if entity_id not in existing and not known:
                raise ResourceNotFound(f"entity {entity_id} does not exist")
            return Changes(deletes=[entity_id], history=[], erase=[Erase(entity_id)]), None

        await self._transact(tenant, entity_id, plan)

    async def delete_attribute(
        self, scope: Request, entity_id: str, name: str, dataset: str | None, every: bool
    ) -> None:
        """Delete the history of an attribute: of the default instance, of one datasetId, or
        with `every` of all of them (clause 5.6.14)."""
        names.check_uri(entity_id, "entity id")
        iri = scope.terms.expand(names.check_name(name, "attribute name"))
        datasets = None if every else frozenset({dataset or ""})
        await self._require_history(scope.tenant, entity_id, iri, datasets)
        target = Erase(entity_id, iri, None if every else dataset or "")
        await self._transact(
            scope.tenant, entity_id, lambda _: (Changes(history=[], erase=[target]), None)
        )

    async def amend(
        self, scope: Request, entity_id: str, name: str, instance_id: str, raw: Any
    ) -> None:
        """Modify one instance of an attribute's history (clause 5.6.15)."""
        found = await self._instance(scope, entity_id, name, instance_id)
        if not isinstance(raw, dict):
            raise BadRequestData("the payload must be a JSON object")
        merged = {**found.instance, **raw}
        instance = parse_instance(name, merged, scope.terms)
        moment = now()
        changed = replace(
            found,
            instance=instance,
            observed_at=instance.get("observedAt"),
            modified_at=moment,
        )
        await self._transact(
            scope.tenant, entity_id, lambda _: (Changes(history=[], amend=[changed]), None)
        )

    async def delete_instance(
        self, scope: Request, entity_id: str, name: str, instance_id: str
    ) -> None:
        found = await self._instance(scope, entity_id, name, instance_id)
        target = Erase(entity_id, found.attribute, instance_id=instance_id)
        await self._transact(
            scope.tenant, entity_id, lambda _: (Changes(history=[], erase=[target]), None)
        )

    async def retrieve(self, tenant: str, entity_id: str, query: TemporalQuery) -> Evolutions:
        names.check_uri(entity_id, "entity id")
        await self._tenant(tenant)
        types = await self._types(tenant, [entity_id])
        if entity_id not in types:
            raise ResourceNotFound(f"entity {entity_id} does not exist")
        found = await self._read(tenant, types, query)
        evolution = found.entities[0]
        if query.attrs is not None and not (evolution.records or evolution.periods):
            raise ResourceNotFound(f"entity {entity_id} has none of the attributes asked for")
        return found

    async def query(self, tenant: str, query: TemporalQuery) -> Evolutions:
        await self._tenant(tenant)
        entities, _ = await self.store.query(tenant, query.selection)
        types = {entity["id"]: entity["type"] for entity in entities}
        found = await self._read(tenant, types, query)
        found.entities = [e for e in found.entities if e.records or e.periods or e.emptied]
        return found

    async def _read(
        self, tenant: str, types: dict[str, list[str]], query: TemporalQuery
    ) -> Evolutions:
        ids = list(types)
        if not ids:
            return Evolutions([])
        datasets = (
            frozenset("" if d == "@none" else d for d in query.datasets)
            if query.datasets is not None
            else None
        )
        scope = Scope(ids, query.attrs, datasets)
        if query.format == "aggregatedValues" and query.aggregation is not None:
            low, _, high = query.window.bounds()
            start = low if query.window.timerel in ("after", "between") else None
            origin, periods = await self.store.aggregate(
                tenant,
                scope,
                query.window,
                query.aggregation.period_ms,
                start,
                "distinctCount" in query.aggregation.methods,
            )
            by_entity: dict[str, list[Period]] = {i: [] for i in ids}
            for period in periods:
                by_entity[period.entity_id].append(period)
            end = high if high is not None else millis(now()) or 0
            return Evolutions(
                [Evolution(i, types[i], periods=by_entity[i]) for i in ids],
                origin=origin or 0,
                end=end,
            )
        records = await self.store.history(tenant, scope, query.window, query.instance_limit + 1)
        by_id: dict[str, list[Record]] = {i: [] for i in ids}
        for found in records:
            by_id[found.entity_id].append(found)
        cut: Page = page(by_id, query.window, query.instance_limit)
        return Evolutions(
            [
                Evolution(i, types[i], cut.records[i], emptied=cut.emptied.get(i, frozenset()))
                for i in ids
            ],
            cut.content_range,
        )

    async def _types(self, tenant: str, ids: list[str]) -> dict[str, list[str]]:
        """The types of entities with a history, else of their current state."""
        types = await self.store.history_types(tenant, ids)
        missing = [i for i in ids if i not in types]
        if missing:
            current = await self.store.get_entities(tenant, missing)
            types.update((i, entity["type"]) for i, entity in current.items())
        return types

    async def _known(self, tenant: str, entity_id: str) -> bool:
        return bool(await self.store.history_types(tenant, [entity_id]))

    async def _require_history(
        self, tenant: str, entity_id: str, iri: str, datasets: frozenset[str] | None
    ) -> None:
        if not await self._known(tenant, entity_id):
            raise ResourceNotFound(f"entity {entity_id} does not exist")
        found = await self.store.history(
            tenant, Scope([entity_id], frozenset({iri}), datasets), RECORDED, 1
        )
        if not found:
            raise ResourceNotFound(f"entity {entity_id} has no history of {iri}")

    async def _instance(
        self, scope: Request, entity_id: str, name: str, instance_id: str
    ) -> Record:
        names.check_uri(entity_id, "entity id")
        iri = scope.terms.expand(names.check_name(name, "attribute name"))
        names.check_uri(instance_id, "instance id")
        if not await self._known(scope.tenant, entity_id):
            raise ResourceNotFound(f"entity {entity_id} does not exist")
        found = await self.store.history(
            scope.tenant, Scope([entity_id], frozenset({iri}), instance_id=instance_id), RECORDED, 1
        )
        if not found:
            raise ResourceNotFound(f"no instance {instance_id} of {name} in entity {entity_id}")
        return found[0]

    async def _transact(self, tenant: str, entity_id: str, plan: Any) -> None:
        await self.store.transact(tenant, [entity_id], plan)


def _stamp(instance: dict[str, Any], moment: str) -> dict[str, Any]:
    return {**instance, "createdAt": moment, "modifiedAt": moment}


def _merged(
    before: Entity, head: Entity, current: dict[str, list[dict[str, Any]]], moment: str
) -> Entity:
    """The entity with each attribute instance replaced by the newer one observed."""
    entity = copy_entity(before)
    for iri, instances in current.items():
        kept = {i.get("datasetId"): i for i in entity["attrs"].get(iri, [])}
        for instance in instances:
            old = kept.get(instance.get("datasetId"))
            if old is None or (millis(instance.get("observedAt")) or 0) >= (
                millis(old.get("observedAt")) or 0
            ):
                kept[instance.get("datasetId")] = _stamp(instance, moment)
        entity["attrs"][iri] = list(kept.values())
    if "scope" in head:
        entity["scope"] = head["scope"]
    entity["modifiedAt"] = moment
    return entity
