"""Entity provisioning and retrieval (clauses 5.6 and 5.7.1): one method per operation."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ascn.errors import AlreadyExists, BadRequestData, NonexistentTenant, ResourceNotFound
from ascn.ngsild import changes, names
from ascn.ngsild.attribute import parse_attribute
from ascn.ngsild.changes import UpdateReport
from ascn.ngsild.context import TermMap
from ascn.ngsild.entity import (
    GEO_ATTRIBUTES,
    Entity,
    Limits,
    check_size,
    parse_entity,
    parse_fragment,
    parse_types,
)
from ascn.ngsild.query import EntityQuery
from ascn.ngsild.representation import View, relationship_targets
from ascn.ngsild.timestamps import now
from ascn.store import Changes, Store


@dataclass(frozen=True, slots=True)
class Scope:
    """Who a request works on: its tenant ("" is the default tenant) and @context."""

    tenant: str
    terms: TermMap


class EntityService:
    def __init__(self, store: Store, limits: Limits) -> None:
        self.store = store
        self.limits = limits

    async def require_tenant(self, tenant: str) -> None:
        if not await self.store.tenant_exists(tenant):
            raise NonexistentTenant(f"tenant {tenant!r} does not exist")

    async def create(self, scope: Scope, raw: Any) -> str:
        entity = parse_entity(raw, scope.terms, self.limits)
        moment = now()

        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, str]:
            if entity["id"] in existing:
                raise AlreadyExists(f"entity {entity['id']} already exists")
            return Changes(puts=[changes.create(entity, moment)]), entity["id"]

        return await self.store.transact(scope.tenant, [entity["id"]], plan)

    async def retrieve(
        self, tenant: str, entity_id: str, attrs: frozenset[str] | None = None
    ) -> Entity:
        """An entity; with `attrs`, it must have at least one of them (clause 5.7.1.4)."""
        names.check_uri(entity_id, "entity id")
        await self.require_tenant(tenant)
        found = await self.store.get_entities(tenant, [entity_id])
        if entity_id not in found:
            raise ResourceNotFound(f"entity {entity_id} does not exist")
        entity = found[entity_id]
        if attrs is not None and not attrs & entity["attrs"].keys():
            raise ResourceNotFound(f"entity {entity_id} has none of the attributes asked for")
        return entity

    async def linked(
        self, tenant: str, entities: list[Entity], view: View
    ) -> dict[str, tuple[Entity, View]]:
        """The entities a join reaches from `entities`, level by level, each with the view it is
        shown in (pick and omit can narrow it along each relationship)."""
        found: dict[str, tuple[Entity, View]] = {}
        if view.join is None:
            return found
        seen = {entity["id"] for entity in entities}
        frontier = [(entity, view) for entity in entities]
        for _ in range(view.join_level):
            wanted: dict[str, View] = {}
            for entity, current in frontier:
                for iri, target in relationship_targets(entity, current):
                    if target not in seen and target not in wanted:
                        wanted[target] = current.linked(iri)
            if not wanted:
                break
            seen.update(wanted)
            fetched = await self.store.get_entities(tenant, list(wanted))
            frontier = [(fetched[t], wanted[t]) for t in wanted if t in fetched]
            found.update((entity["id"], (entity, child)) for entity, child in frontier)
        return found

    async def query(self, tenant: str, query: EntityQuery) -> tuple[list[Entity], int | None]:
        """One page of the entities a query selects (and their count, if asked)."""
        await self.require_tenant(tenant)
        return await self.store.query(tenant, query)

    async def delete(self, tenant: str, entity_id: str) -> None:
        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, None]:
            return Changes(deletes=[entity_id]), None

        await self._modify(tenant, entity_id, plan)

    async def replace(self, scope: Scope, entity_id: str, raw: Any) -> None:
        """PUT /entities/{id}: the payload's id and type may be left out."""
        if isinstance(raw, dict):
            raw = {"id": entity_id, **raw}
        new = parse_entity(raw, scope.terms, self.limits) if isinstance(raw, dict) else None
        if new is None:
            raise BadRequestData("an entity must be a JSON object")
        moment = now()
        await self._update(scope.tenant, entity_id, lambda e: changes.replace(e, new, moment))

    async def merge(self, scope: Scope, entity_id: str, raw: Any) -> None:
        fragment = self._fragment(scope, entity_id, raw, partial=True)
        moment = now()
        await self._update(scope.tenant, entity_id, lambda e: changes.merge(e, fragment, moment))

    async def append(
        self, scope: Scope, entity_id: str, raw: Any, *, overwrite: bool
    ) -> UpdateReport:
        fragment = self._fragment(scope, entity_id, raw)
        moment = now()
        return await self._report(
            scope.tenant,
            entity_id,
            lambda e: changes.append(e, fragment, moment, overwrite=overwrite),
        )

    async def update_attributes(self, scope: Scope, entity_id: str, raw: Any) -> UpdateReport:
        fragment = self._fragment(scope, entity_id, raw, nulls=True)
        moment = now()
        return await self._report(
            scope.tenant, entity_id, lambda e: changes.update(e, fragment, moment)
        )

    async def partial_update(self, scope: Scope, entity_id: str, name: str, raw: Any) -> None:
        iri, instances = self._attribute(scope, name, raw, partial=True)
        moment = now()
        await self._update(
            scope.tenant, entity_id, lambda e: changes.partial_update(e, iri, instances, moment)
        )

    async def replace_attribute(self, scope: Scope, entity_id: str, name: str, raw: Any) -> None:
        iri, instances = self._attribute(scope, name, raw)
        moment = now()
        await self._update(
            scope.tenant, entity_id, lambda e: changes.replace_attribute(e, iri, instances, moment)
        )

    async def delete_attribute(
        self, scope: Scope, entity_id: str, name: str, dataset: str | None, every: bool
    ) -> None:
        if dataset is not None:
            names.check_uri(dataset, "datasetId")
        moment = now()
        if name == "scope":
            await self._update(scope.tenant, entity_id, lambda e: changes.delete_scope(e, moment))
            return
        iri = scope.terms.expand(names.check_name(name, "attribute name"))
        await self._update(
            scope.tenant,
            entity_id,
            lambda e: changes.delete_attribute(e, iri, moment, dataset, every),
        )

    def _fragment(
        self, scope: Scope, entity_id: str, raw: Any, partial: bool = False, nulls: bool = False
    ) -> Entity:
        names.check_uri(entity_id, "entity id")
        if isinstance(raw, dict) and raw.get("id", entity_id) != entity_id:
            raise BadRequestData("the payload's id does not match the entity's")
        fragment = parse_fragment(raw, scope.terms, self.limits, partial=partial, nulls=nulls)
        if isinstance(raw, dict) and "type" in raw:
            fragment["type"] = parse_types(raw["type"], scope.terms)
        changes.check_fragment(fragment)
        return fragment

    def _attribute(
        self, scope: Scope, name: str, raw: Any, partial: bool = False
    ) -> tuple[str, list[dict[str, Any]]]:
        if names.check_name(name, "attribute name") in names.RESERVED_ATTRIBUTE_NAMES:
            raise BadRequestData(f"{name!r} is not an attribute")
        iri = scope.terms.expand(name)
        if isinstance(raw, dict):
            raw = {k: v for k, v in raw.items() if k != "@context"}
        return iri, parse_attribute(
            name, raw, scope.terms, geo=iri in GEO_ATTRIBUTES, partial=partial
        )

    async def _modify(
        self,
        tenant: str,
        entity_id: str,
        plan: Callable[[Mapping[str, Entity]], tuple[Changes, Any]],
    ) -> Any:
        names.check_uri(entity_id, "entity id")
        await self.require_tenant(tenant)

        def checked(existing: Mapping[str, Entity]) -> tuple[Changes, Any]:
            if entity_id not in existing:
                raise ResourceNotFound(f"entity {entity_id} does not exist")
            return plan(existing)

        return await self.store.transact(tenant, [entity_id], checked)

    async def _update(
        self, tenant: str, entity_id: str, change: Callable[[Entity], Entity]
    ) -> None:
        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, None]:
            return Changes(puts=[check_size(change(existing[entity_id]), self.limits)]), None

        await self._modify(tenant, entity_id, plan)

    async def _report(
        self,
        tenant: str,
        entity_id: str,
        change: Callable[[Entity], tuple[Entity, UpdateReport]],
    ) -> UpdateReport:
        def plan(existing: Mapping[str, Entity]) -> tuple[Changes, UpdateReport]:
            entity, report = change(existing[entity_id])
            return Changes(puts=[check_size(entity, self.limits)] if report.changed else []), report

        report: UpdateReport = await self._modify(tenant, entity_id, plan)
        return report
