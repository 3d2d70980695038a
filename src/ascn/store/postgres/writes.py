"""What a PostgreSQL transaction writes: entities, their secondary indexes and their history,
each kind of row in one statement with arrays bound in binary."""

from __future__ import annotations

from typing import Any

import orjson
import psycopg

from ascn.ngsild.geoquery import bounds
from ascn.ngsild.history import row_values
from ascn.store import indexing, timeline
from ascn.store.base import Changes, Entity
from ascn.store.postgres.dialect import pg, wkb

Connection = psycopg.AsyncConnection[tuple[Any, ...]]


async def apply(
    connection: Connection,
    tenant: str,
    changes: Changes,
    existing: dict[str, Entity],
    indexed: frozenset[str],
) -> None:
    if changes.puts and tenant:
        await connection.execute(
            "INSERT INTO tenant (name, created_at) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (tenant, changes.puts[0]["modifiedAt"]),
        )
    await _write_indexes(connection, tenant, changes, existing, indexed)
    await _write_history(connection, tenant, changes, existing)
    if changes.deletes:
        await connection.execute(
            "DELETE FROM entity WHERE tenant = %s AND id = ANY(%b::text[])",
            (tenant, changes.deletes),
        )
    if changes.puts:
        latest = {entity["id"]: entity for entity in changes.puts}
        await connection.execute(
            "INSERT INTO entity (tenant, id, doc, created_at, modified_at)"
            " SELECT %s, i, d::jsonb, c, m FROM unnest(%b::text[], %b::text[], %b::text[],"
            " %b::text[]) AS r(i, d, c, m)"
            " ON CONFLICT (tenant, id) DO UPDATE SET doc = excluded.doc,"
            " created_at = excluded.created_at, modified_at = excluded.modified_at",
            (
                tenant,
                list(latest),
                [orjson.dumps(entity).decode() for entity in latest.values()],
                [entity["createdAt"] for entity in latest.values()],
                [entity["modifiedAt"] for entity in latest.values()],
            ),
        )


async def _write_history(
    connection: Connection, tenant: str, changes: Changes, existing: dict[str, Entity]
) -> None:
    records = timeline.records_of(changes, existing)
    if changes.replace_observed:
        for row in timeline.replaced(tenant, records):
            await connection.execute(timeline.REPLACE.replace("?", "%s"), row)
    for target in changes.erase:
        for sql in timeline.erase(tenant, target):
            await connection.execute(pg(sql), sql.args)
    for record in changes.amend:
        sql = timeline.amend(tenant, record)
        await connection.execute(pg(sql), sql.args)
    if records:
        columns = list(zip(*row_values(records), strict=True))
        await connection.execute(
            "INSERT INTO history (tenant, entity_id, attr, dataset, instance_id, observed_at,"
            " observed_ms, created_at, created_ms, modified_at, modified_ms, deleted_at,"
            " deleted_ms, num, value, instance, kind) SELECT %s, * FROM unnest(%b::text[],"
            " %b::text[], %b::text[], %b::text[], %b::text[], %b::int8[], %b::text[], %b::int8[],"
            " %b::text[], %b::int8[], %b::text[], %b::int8[], %b::float8[], %b::text[],"
            " %b::text[], %b::text[])",
            (tenant, *map(list, columns)),
        )
        pairs = timeline.attributes(tenant, records)
        await connection.execute(
            "INSERT INTO history_attr (tenant, entity_id, attr) SELECT %s, i, a"
            " FROM unnest(%b::text[], %b::text[]) AS r(i, a) ON CONFLICT DO NOTHING",
            (tenant, [p[1] for p in pairs], [p[2] for p in pairs]),
        )
    learned = timeline.typed(changes, existing)
    if learned:
        await connection.execute(
            "INSERT INTO history_entity (tenant, id, types) SELECT %s, i, t"
            " FROM unnest(%b::text[], %b::text[]) AS r(i, t)"
            " ON CONFLICT (tenant, id) DO UPDATE SET types = excluded.types",
            (tenant, [row[0] for row in learned], [row[1] for row in learned]),
        )


async def _write_indexes(
    connection: Connection,
    tenant: str,
    changes: Changes,
    existing: dict[str, Entity],
    indexed: frozenset[str],
) -> None:
    types = indexing.types(changes, existing)
    if types.stale:
        await connection.execute(
            "DELETE FROM entity_type WHERE tenant = %s AND id = ANY(%b::text[])",
            (tenant, types.stale),
        )
    if types.fresh:
        await connection.execute(
            "INSERT INTO entity_type (tenant, type, id) SELECT %s, t, i"
            " FROM unnest(%b::text[], %b::text[]) AS r(t, i) ON CONFLICT DO NOTHING",
            (tenant, [row[0] for row in types.fresh], [row[1] for row in types.fresh]),
        )
    if types.counts:
        await connection.execute(
            "INSERT INTO type_count (tenant, type, n) SELECT %s, t, n"
            " FROM unnest(%b::text[], %b::bigint[]) AS r(t, n)"
            " ON CONFLICT (tenant, type) DO UPDATE SET n = type_count.n + excluded.n",
            (tenant, list(types.counts), list(types.counts.values())),
        )
        await connection.execute(
            "DELETE FROM type_count WHERE tenant = %s AND type = ANY(%b::text[]) AND n <= 0",
            (tenant, list(types.counts)),
        )
    shapes = indexing.shapes(changes, existing)
    if shapes.stale:
        await connection.execute(
            "DELETE FROM geo WHERE tenant = %s AND id = ANY(%b::text[])", (tenant, shapes.stale)
        )
    await _insert_geometries(connection, tenant, shapes.fresh)
    scalars = indexing.scalars(changes, existing, indexed)
    if scalars.stale:
        await connection.execute(
            "DELETE FROM attr_value WHERE tenant = %s AND id = ANY(%b::text[])",
            (tenant, scalars.stale),
        )
    await _insert_values(connection, tenant, scalars.fresh)


async def _insert_geometries(
    connection: Connection, tenant: str, fresh: list[tuple[Any, ...]]
) -> None:
    rows = [
        (entity_id, iri, wkb(orjson.loads(text)))
        for entity_id, iri, text in fresh
        if bounds(text) is not None
    ]
    if rows:
        await connection.execute(
            "INSERT INTO geo (tenant, id, attr, geom) SELECT %s, i, a, ST_GeomFromWKB(w, 4326)"
            " FROM unnest(%b::text[], %b::text[], %b::bytea[]) AS r(i, a, w)",
            (tenant, *map(list, zip(*rows, strict=True))),
        )


async def _insert_values(connection: Connection, tenant: str, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        await connection.execute(
            "INSERT INTO attr_value (tenant, id, attr, num, txt) SELECT %s, i, a, n, t"
            " FROM unnest(%b::text[], %b::text[], %b::float8[], %b::text[]) AS r(i, a, n, t)",
            (tenant, *map(list, zip(*rows, strict=True))),
        )


async def sync_value_index(connection: Connection, indexed: frozenset[str]) -> None:
    """Make the value index cover exactly the `indexed` attributes (as the SQLite store)."""
    cursor = await connection.execute("SELECT attr FROM value_index")
    before = {row[0] for row in await cursor.fetchall()}
    for iri in before - indexed:
        await connection.execute("DELETE FROM attr_value WHERE attr = %s", (iri,))
        await connection.execute("DELETE FROM value_index WHERE attr = %s", (iri,))
    added = frozenset(indexed - before)
    if not added:
        return
    cursor = await connection.execute("SELECT tenant, doc::text FROM entity")
    async for tenant, doc in cursor:
        entity = orjson.loads(doc)
        rows = [(entity["id"], *value) for value in indexing.values(entity, added)]
        await _insert_values(connection, tenant, rows)
    await connection.execute(
        "INSERT INTO value_index (attr) SELECT unnest(%b::text[])", (sorted(added),)
    )
