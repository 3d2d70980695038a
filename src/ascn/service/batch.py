"""Batch entity operations (clauses 5.6.7-5.6.10 and 5.6.20): every item succeeds or fails on
its own, and all the items that succeed are written in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ascn.errors import AlreadyExists, AscnError, BadRequestData, PayloadTooLarge, ResourceNotFound
from ascn.ngsild import changes, names
from ascn.ngsild.context import TermMap
from ascn.ngsild.entity import (
    Entity,
    Limits,
    check_size,
    parse_entity,
    parse_fragment,
    parse_types,
)
from ascn.ngsild.timestamps import now
from ascn.store import Changes, Store

Item = tuple[Any, TermMap | AscnError]
"""One entity of a batch as sent, with the @context it is read with (or why that failed)."""


@dataclass(slots=True)
class BatchResult:
    """Clause 5.2.16: the ids that succeeded (created ones apart) and an error per failure."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    errors: list[tuple[str | None, AscnError]] = field(default_factory=list)

    @property
    def success(self) -> list[str]:
        return [*self.created, *self.updated]


class BatchService:
    def __init__(self, store: Store, limits: Limits, max_batch: int) -> None:
        self.store = store
        self.limits = limits
        self.max_batch = max_batch

    async def create(self, tenant: str, items: Sequence[Item]) -> BatchResult:
        result, parsed = self._parse(
            items, lambda raw, terms: parse_entity(raw, terms, self.limits)
        )
        moment = now()

        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, None]:
            puts: dict[str, Entity] = {}
            for entity in parsed:
                if entity["id"] in existing or entity["id"] in puts:
                    result.errors.append(
                        (entity["id"], AlreadyExists(f"entity {entity['id']} already exists"))
                    )
                    continue
                puts[entity["id"]] = changes.create(entity, moment)
                result.created.append(entity["id"])
            return Changes(puts=list(puts.values())), None

        await self._run(tenant, parsed, plan)
        return result

    async def upsert(
        self, tenant: str, items: Sequence[Item], mode: Literal["replace", "update"]
    ) -> BatchResult:
        result, parsed = self._parse(
            items, lambda raw, terms: parse_entity(raw, terms, self.limits)
        )
        moment = now()

        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, None]:
            puts: dict[str, Entity] = {}
            for entity in parsed:
                key = entity["id"]
                current = puts.get(key) or existing.get(key)
                try:
                    if current is None:
                        new = changes.create(entity, moment)
                    elif mode == "replace":
                        new = changes.replace(current, entity, moment)
                    else:
                        new = check_size(changes.append(current, entity, moment)[0], self.limits)
                except AscnError as error:
                    result.errors.append((key, error))
                    continue
                if key not in puts:
                    (result.created if current is None else result.updated).append(key)
                puts[key] = new
            return Changes(puts=list(puts.values())), None

        await self._run(tenant, parsed, plan)
        return result

    async def update(self, tenant: str, items: Sequence[Item], *, overwrite: bool) -> BatchResult:
        """Batch update: append the attributes of each entity (noOverwrite keeps existing ones)."""
        result, parsed = self._parse(items, self._fragment)
        moment = now()

        def change(current: Entity, fragment: Entity) -> tuple[Entity, AscnError | None]:
            entity, report = changes.append(current, fragment, moment, overwrite=overwrite)
            if report.complete:
                return entity, None
            reasons = "; ".join(f"{name}: {why}" for name, why in report.not_updated)
            return entity, BadRequestData(f"attributes not updated: {reasons}")

        await self._run(tenant, parsed, self._each_existing(parsed, result, change))
        return result

    async def merge(self, tenant: str, items: Sequence[Item]) -> BatchResult:
        result, parsed = self._parse(
            items, lambda raw, terms: self._fragment(raw, terms, partial=True)
        )
        moment = now()

        def change(current: Entity, fragment: Entity) -> tuple[Entity, AscnError | None]:
            return changes.merge(current, fragment, moment), None

        await self._run(tenant, parsed, self._each_existing(parsed, result, change))
        return result

    async def delete(self, tenant: str, raw_ids: Sequence[Any]) -> BatchResult:
        self._check_size(raw_ids)
        result = BatchResult()
        ids: list[str] = []
        for raw in raw_ids:
            try:
                ids.append(names.check_uri(raw, "entity id"))
            except AscnError as error:
                result.errors.append((raw if isinstance(raw, str) else None, error))

        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, None]:
            deletes: list[str] = []
            for entity_id in ids:
                if entity_id in existing and entity_id not in deletes:
                    deletes.append(entity_id)
                    result.updated.append(entity_id)
                else:
                    result.errors.append(
                        (entity_id, ResourceNotFound(f"entity {entity_id} does not exist"))
                    )
            return Changes(deletes=deletes), None

        if ids:
            await self.store.transact(tenant, ids, plan)
        return result

    def _fragment(self, raw: Any, terms: TermMap, partial: bool = False) -> Entity:
        if not isinstance(raw, dict):
            raise BadRequestData("an entity must be a JSON object")
        fragment = parse_fragment(raw, terms, self.limits, partial=partial)
        fragment["id"] = names.check_uri(raw.get("id"), "entity id")
        if "type" in raw:
            fragment["type"] = parse_types(raw["type"], terms)
        return fragment

    def _each_existing(
        self,
        parsed: list[Entity],
        result: BatchResult,
        change: Callable[[Entity, Entity], tuple[Entity, AscnError | None]],
    ) -> Callable[[Mapping[str, Entity]], tuple[Changes, None]]:
        """A plan applying `change` to each entity that exists; it may write an entity and still
        report an error for it (attributes kept by noOverwrite)."""

        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, None]:
            puts: dict[str, Entity] = {}
            for fragment in parsed:
                key = fragment["id"]
                current = puts.get(key) or existing.get(key)
                if current is None:
                    result.errors.append((key, ResourceNotFound(f"entity {key} does not exist")))
                    continue
                try:
                    entity, problem = change(current, fragment)
                    puts[key] = check_size(entity, self.limits)
                except AscnError as error:
                    problem = error
                if problem is not None:
                    result.errors.append((key, problem))
                elif key not in result.updated:
                    result.updated.append(key)
            return Changes(puts=list(puts.values())), None

        return plan

    def _parse(
        self, items: Sequence[Item], parse: Callable[[Any, TermMap], Entity]
    ) -> tuple[BatchResult, list[Entity]]:
        self._check_size(items)
        result = BatchResult()
        parsed: list[Entity] = []
        for raw, terms in items:
            try:
                if isinstance(terms, AscnError):
                    raise terms
                parsed.append(parse(raw, terms))
            except AscnError as error:
                entity_id = raw.get("id") if isinstance(raw, dict) else None
                result.errors.append((entity_id if isinstance(entity_id, str) else None, error))
        return result, parsed

    def _check_size(self, items: Sequence[Any]) -> None:
        if not items:
            raise BadRequestData("a batch needs at least one entity")
        if len(items) > self.max_batch:
            raise PayloadTooLarge(f"{len(items)} entities: at most {self.max_batch} per batch")

    async def _run(
        self,
        tenant: str,
        parsed: list[Entity],
        plan: Callable[[Mapping[str, Entity]], tuple[Changes, None]],
    ) -> None:
        if parsed:
            await self.store.transact(tenant, [entity["id"] for entity in parsed], plan)
