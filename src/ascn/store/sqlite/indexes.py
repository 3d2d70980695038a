"""The SQLite store's secondary indexes, kept in step with each write: the types of entities
(and how many entities each type has), the geometry of GeoProperties (an R*Tree of their
boxes) and the scalar values of attributes (numbers and short strings), which let a query start
from the few entities a selective condition allows.

Rows are rewritten only for entities whose indexed content changed."""

from __future__ import annotations

import sqlite3
from collections import Counter
from typing import Any

import orjson

from ascn.ngsild.geoquery import bounds
from ascn.ngsild.names import GEOPROPERTY, LANGUAGEPROPERTY, VALUE_KEY
from ascn.store.base import Changes, Entity
from ascn.store.sqlite.compiler import MAX_INDEXED_TEXT


def index_types(
    connection: sqlite3.Connection, tenant: str, changes: Changes, existing: dict[str, Entity]
) -> None:
    delta: Counter[str] = Counter()
    stale: list[str] = []
    fresh: list[tuple[str, str, str]] = []
    for entity in changes.puts:
        before = existing.get(entity["id"])
        if before is not None and before["type"] == entity["type"]:
            continue
        if before is not None:
            stale.append(entity["id"])
            delta.subtract(before["type"])
        delta.update(entity["type"])
        fresh.extend((tenant, kind, entity["id"]) for kind in entity["type"])
    for entity_id in changes.deletes:
        if entity_id in existing:
            stale.append(entity_id)
            delta.subtract(existing[entity_id]["type"])
    if stale:
        connection.executemany(
            "DELETE FROM entity_type WHERE tenant = ? AND id = ?", [(tenant, i) for i in stale]
        )
    if fresh:
        connection.executemany("INSERT INTO entity_type (tenant, type, id) VALUES (?, ?, ?)", fresh)
    changed = [(tenant, kind, n) for kind, n in delta.items() if n]
    if changed:
        connection.executemany(
            "INSERT INTO type_count (tenant, type, n) VALUES (?, ?, ?)"
            " ON CONFLICT (tenant, type) DO UPDATE SET n = n + excluded.n",
            changed,
        )
        connection.execute("DELETE FROM type_count WHERE tenant = ? AND n <= 0", (tenant,))


def geometries(entity: Entity) -> list[tuple[str, str]]:
    """The GeoProperty values of an entity, as (attribute IRI, GeoJSON text)."""
    return [
        (iri, orjson.dumps(instance["value"]).decode())
        for iri, instances in entity["attrs"].items()
        for instance in instances
        if instance["type"] == GEOPROPERTY and isinstance(instance.get("value"), dict)
    ]


def index_geometry(
    connection: sqlite3.Connection, tenant: str, changes: Changes, existing: dict[str, Entity]
) -> None:
    """Keep the geometry index in step: rewrite the rows of entities whose geometry changed."""
    stale: list[str] = [entity_id for entity_id in changes.deletes if entity_id in existing]
    fresh: list[tuple[str, list[tuple[str, str]]]] = []
    for entity in changes.puts:
        now = geometries(entity)
        before = geometries(existing[entity["id"]]) if entity["id"] in existing else []
        if now != before:
            if before:
                stale.append(entity["id"])
            fresh.append((entity["id"], now))
    for entity_id in stale:
        connection.execute(
            "DELETE FROM geo_box WHERE id IN (SELECT id FROM geo WHERE tenant = ? AND eid = ?)",
            (tenant, entity_id),
        )
        connection.execute("DELETE FROM geo WHERE tenant = ? AND eid = ?", (tenant, entity_id))
    _insert_geometries(connection, tenant, fresh)


def _insert_geometries(
    connection: sqlite3.Connection,
    tenant: str,
    fresh: list[tuple[str, list[tuple[str, str]]]],
) -> None:
    rows = [
        (entity_id, iri, text, box)
        for entity_id, shapes in fresh
        for iri, text in shapes
        if (box := bounds(text)) is not None
    ]
    if not rows:
        return
    last = connection.execute("SELECT coalesce(max(id), 0) FROM geo").fetchone()[0]
    connection.executemany(
        "INSERT INTO geo (id, tenant, eid, attr, geojson) VALUES (?, ?, ?, ?, ?)",
        [(last + n, tenant, e, iri, text) for n, (e, iri, text, _) in enumerate(rows, 1)],
    )
    connection.executemany(
        "INSERT INTO geo_box (id, min_x, max_x, min_y, max_y) VALUES (?, ?, ?, ?, ?)",
        [(last + n, b[0], b[2], b[1], b[3]) for n, (*_, b) in enumerate(rows, 1)],
    )


def values(entity: Entity, indexed: frozenset[str]) -> set[tuple[str, float | None, str | None]]:
    """(attribute IRI, number, text) of every indexable scalar the `indexed` attributes of an
    entity hold: the scalars the q language compares, in the member that carries the value."""
    found: set[tuple[str, float | None, str | None]] = set()
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


def index_values(
    connection: sqlite3.Connection,
    tenant: str,
    changes: Changes,
    existing: dict[str, Entity],
    indexed: frozenset[str],
) -> None:
    if not indexed:
        return
    stale = [(tenant, entity_id) for entity_id in changes.deletes if entity_id in existing]
    rows: list[tuple[str, str, str, float | None, str | None]] = []
    for entity in changes.puts:
        now = values(entity, indexed)
        if entity["id"] in existing:
            if now == values(existing[entity["id"]], indexed):
                continue
            stale.append((tenant, entity["id"]))
        rows.extend((tenant, entity["id"], iri, num, txt) for iri, num, txt in now)
    if stale:
        connection.executemany("DELETE FROM attr_value WHERE tenant = ? AND id = ?", stale)
    if rows:
        connection.executemany(
            "INSERT INTO attr_value (tenant, id, attr, num, txt) VALUES (?, ?, ?, ?, ?)", rows
        )


def backfill_geometry(connection: sqlite3.Connection) -> None:
    """Index the geometry of every stored entity (when the index is first created)."""
    by_tenant: dict[str, list[tuple[str, list[tuple[str, str]]]]] = {}
    for tenant, doc in connection.execute("SELECT tenant, doc FROM entity").fetchall():
        entity = orjson.loads(doc)
        by_tenant.setdefault(tenant, []).append((entity["id"], geometries(entity)))
    for tenant, fresh in by_tenant.items():
        _insert_geometries(connection, tenant, fresh)


def sync_value_index(connection: sqlite3.Connection, indexed: frozenset[str]) -> None:
    """Make the value index cover exactly the `indexed` attributes: fill it for attributes
    newly named, empty it of those no longer named."""
    before = {row[0] for row in connection.execute("SELECT attr FROM value_index")}
    for iri in before - indexed:
        connection.execute("DELETE FROM attr_value WHERE attr = ?", (iri,))
        connection.execute("DELETE FROM value_index WHERE attr = ?", (iri,))
    added = frozenset(indexed - before)
    if not added:
        return
    for tenant, doc in connection.execute("SELECT tenant, doc FROM entity").fetchall():
        entity = orjson.loads(doc)
        connection.executemany(
            "INSERT INTO attr_value (tenant, id, attr, num, txt) VALUES (?, ?, ?, ?, ?)",
            [(tenant, entity["id"], iri, num, txt) for iri, num, txt in values(entity, added)],
        )
    connection.executemany("INSERT INTO value_index (attr) VALUES (?)", [(i,) for i in added])
