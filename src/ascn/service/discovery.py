"""Discovery (clauses 5.7.5-5.7.10): the entity types and attributes a tenant's entities hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from ascn.errors import NonexistentTenant, ResourceNotFound
from ascn.store import CatalogRow, Store


@dataclass(slots=True)
class TypeSummary:
    type: str
    entity_count: int = 0
    attributes: dict[str, set[str]] = field(default_factory=dict)
    """Attribute IRI -> the attribute types (Property, Relationship...) it comes as."""


@dataclass(slots=True)
class AttributeSummary:
    attribute: str
    count: int = 0
    """Instances of the attribute."""
    attribute_types: set[str] = field(default_factory=set)
    types: set[str] = field(default_factory=set)


class DiscoveryService:
    def __init__(self, store: Store) -> None:
        self.store = store

    async def types(self, tenant: str) -> list[TypeSummary]:
        summaries: dict[str, TypeSummary] = {}
        for row in await self._catalog(tenant):
            if row.type is None:
                continue
            summary = summaries.setdefault(row.type, TypeSummary(row.type))
            if row.attribute is None:
                summary.entity_count = row.count
            else:
                summary.attributes.setdefault(row.attribute, set()).add(row.attribute_type or "")
        return sorted(summaries.values(), key=lambda s: s.type)

    async def type(self, tenant: str, type_iri: str) -> TypeSummary:
        found = [s for s in await self.types(tenant) if s.type == type_iri]
        if not found:
            raise ResourceNotFound(f"no entity has the type {type_iri}")
        return found[0]

    async def attributes(self, tenant: str) -> list[AttributeSummary]:
        summaries: dict[str, AttributeSummary] = {}
        for row in await self._catalog(tenant):
            if row.attribute is None:
                continue
            summary = summaries.setdefault(row.attribute, AttributeSummary(row.attribute))
            summary.attribute_types.add(row.attribute_type or "")
            if row.type is None:
                summary.count += row.count
            else:
                summary.types.add(row.type)
        return sorted(summaries.values(), key=lambda s: s.attribute)

    async def attribute(self, tenant: str, attribute_iri: str) -> AttributeSummary:
        found = [s for s in await self.attributes(tenant) if s.attribute == attribute_iri]
        if not found:
            raise ResourceNotFound(f"no entity has the attribute {attribute_iri}")
        return found[0]

    async def _catalog(self, tenant: str) -> list[CatalogRow]:
        if not await self.store.tenant_exists(tenant):
            raise NonexistentTenant(f"tenant {tenant!r} does not exist")
        return await self.store.catalog(tenant)
