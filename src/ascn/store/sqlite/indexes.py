"""The SQLite store's secondary indexes (what they hold: store/indexing.py): entity types with a
kept count per type, an R*Tree of GeoProperty boxes beside their GeoJSON, and the value index."""

from __future__ import annotations

import sqlite3

import orjson

from ascn.ngsild.geoquery import bounds
from ascn.store import indexing
from ascn.store.base import Changes, Entity


def write_indexes(
    connection: sqlite3.Connection,
    tenant: str,
    changes: Changes,
    existing: dict[str, Entity],
    indexed: frozenset[str],
) -> None:
    _types(connection, tenant, indexing.types(changes, existing))
    shapes = indexing.shapes(changes, existing)
    for entity_id in shapes.stale:
        connection.execute(
            "DELETE FROM geo_box WHERE id IN (SELECT id FROM geo WHERE tenant = ? AND eid = ?)",
            (tenant, entity_id),
        )
        connection.execute("DELETE FROM geo WHERE tenant = ? AND eid = ?", (tenant, entity_id))
    _insert_geometries(connection, tenant, shapes.fresh)
    scalars = indexing.scalars(changes, existing, indexed)
    if scalars.stale:
        connection.executemany(
            "DELETE FROM attr_value WHERE tenant = ? AND id = ?",
            [(tenant, entity_id) for entity_id in scalars.stale],
        )
    if scalars.fresh:
        connection.executemany(
            "INSERT INTO attr_value (tenant, id, attr, num, txt) VALUES (?, ?, ?, ?, ?)",
            [(tenant, *row) for row in scalars.fresh],
        )


def _types(connection: sqlite3.Connection, tenant: str, rewrite: indexing.TypeRewrite) -> None:
    if rewrite.stale:
        connection.executemany(
            "DELETE FROM entity_type WHERE tenant = ? AND id = ?",
            [(tenant, entity_id) for entity_id in rewrite.stale],
        )
    if rewrite.fresh:
        connection.executemany(
            "INSERT INTO entity_type (tenant, type, id) VALUES (?, ?, ?)",
            [(tenant, *row) for row in rewrite.fresh],
        )
    if rewrite.counts:
        connection.executemany(
            "INSERT INTO type_count (tenant, type, n) VALUES (?, ?, ?)"
            " ON CONFLICT (tenant, type) DO UPDATE SET n = n + excluded.n",
            [(tenant, kind, n) for kind, n in rewrite.counts.items()],
        )
        connection.execute("DELETE FROM type_count WHERE tenant = ? AND n <= 0", (tenant,))


def _insert_geometries(
    connection: sqlite3.Connection, tenant: str, fresh: list[tuple[str, str, str]]
) -> None:
    rows = [
        (entity_id, iri, text, box)
        for entity_id, iri, text in fresh
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


def backfill_geometry(connection: sqlite3.Connection) -> None:
    """Index the geometry of every stored entity (when the index is first created)."""
    by_tenant: dict[str, list[tuple[str, str, str]]] = {}
    for tenant, doc in connection.execute("SELECT tenant, doc FROM entity").fetchall():
        entity = orjson.loads(doc)
        by_tenant.setdefault(tenant, []).extend(
            (entity["id"], iri, text) for iri, text in indexing.geometries(entity)
        )
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
            [
                (tenant, entity["id"], iri, num, txt)
                for iri, num, txt in indexing.values(entity, added)
            ],
        )
    connection.executemany("INSERT INTO value_index (attr) VALUES (?)", [(i,) for i in added])
