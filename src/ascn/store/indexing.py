"""What a write changes in the secondary indexes every backend keeps: the types of entities (and
how many entities each type has), the GeoProperty geometries, and the scalar values of the
attributes an operator names (numbers and short strings), which let a query start from the few
entities a selective condition allows. Pure: each backend writes the rows.

Rows are rewritten only for entities whose indexed content changed."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from ascn.ngsild.names import GEOPROPERTY, LANGUAGEPROPERTY, VALUE_KEY
from ascn.store.base import Changes, Entity
from ascn.store.planner import MAX_INDEXED_TEXT

Value = tuple[str, float | None, str | None]
"""(attribute IRI, number, text): one indexed scalar."""


@dataclass(slots=True)
class Rewrite:
    """Index rows to drop (by entity id) and rows to add."""

    stale: list[str] = field(default_factory=list)
    fresh: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass(slots=True)
class TypeRewrite(Rewrite):
    counts: dict[str, int] = field(default_factory=dict)
    """Change in the number of entities per type."""


def types(changes: Changes, existing: dict[str, Entity]) -> TypeRewrite:
    """Rows (type, entity id) of entities whose types changed, and the change per type."""
    out = TypeRewrite()
    delta: Counter[str] = Counter()
    for entity in changes.puts:
        before = existing.get(entity["id"])
        if before is not None and before["type"] == entity["type"]:
            continue
        if before is not None:
            out.stale.append(entity["id"])
            delta.subtract(before["type"])
        delta.update(entity["type"])
        out.fresh.extend((kind, entity["id"]) for kind in entity["type"])
    for entity_id in changes.deletes:
        if entity_id in existing:
            out.stale.append(entity_id)
            delta.subtract(existing[entity_id]["type"])
    out.counts = {kind: n for kind, n in sorted(delta.items()) if n}
    return out


def geometries(entity: Entity) -> list[tuple[str, str]]:
    """The GeoProperty values of an entity, as (attribute IRI, GeoJSON text)."""
    return [
        (iri, orjson.dumps(instance["value"]).decode())
        for iri, instances in entity["attrs"].items()
        for instance in instances
        if instance["type"] == GEOPROPERTY and isinstance(instance.get("value"), dict)
    ]


def shapes(changes: Changes, existing: dict[str, Entity]) -> Rewrite:
    """Rows (entity id, attribute IRI, GeoJSON text) of entities whose geometry changed."""
    out = Rewrite(stale=[entity_id for entity_id in changes.deletes if entity_id in existing])
    for entity in changes.puts:
        now = geometries(entity)
        before = geometries(existing[entity["id"]]) if entity["id"] in existing else []
        if now != before:
            if before:
                out.stale.append(entity["id"])
            out.fresh.extend((entity["id"], iri, text) for iri, text in now)
    return out


def values(entity: Entity, indexed: frozenset[str]) -> set[Value]:
    """Every indexable scalar the `indexed` attributes of an entity hold: the scalars the q
    language compares, in the member that carries the value."""
    found: set[Value] = set()
    for iri, instances in entity["attrs"].items():
        if iri not in indexed:
            continue
        for instance in instances:
            kind = instance["type"]
            if kind == GEOPROPERTY:
                continue
            value = instance.get(VALUE_KEY[kind])
            if kind == LANGUAGEPROPERTY:
                scalars: Any = value.values() if isinstance(value, dict) else ()
            elif isinstance(value, list):
                scalars = value
            else:
                scalars = (value,)
            for scalar in scalars:
                if type(scalar) is float or type(scalar) is int:
                    found.add((iri, float(scalar), None))
                elif type(scalar) is str and len(scalar) <= MAX_INDEXED_TEXT:
                    found.add((iri, None, scalar))
    return found


def scalars(changes: Changes, existing: dict[str, Entity], indexed: frozenset[str]) -> Rewrite:
    """Rows (entity id, attribute IRI, number, text) of entities whose indexed values changed."""
    out = Rewrite()
    if not indexed:
        return out
    out.stale = [entity_id for entity_id in changes.deletes if entity_id in existing]
    for entity in changes.puts:
        now = values(entity, indexed)
        if entity["id"] in existing:
            if now == values(existing[entity["id"]], indexed):
                continue
            out.stale.append(entity["id"])
        out.fresh.extend((entity["id"], iri, num, txt) for iri, num, txt in now)
    return out
