"""Batch upsert through HTTP against the database's own bulk insert of the same rows.

    python -m benchmarks.batch_upsert [--entities 100000] [--batch 100] [--concurrency 4]
                                      [--backends sqlite,postgres] [--indexed-attributes A,B]

For each backend a node runs as its own process (`ascn serve`, uvloop + httptools) on a fresh
store: a SQLite file, or a fresh schema of the PostgreSQL database ascn_bench (created with
PostGIS if missing). AirQualityObserved-shaped entities (10 attributes) are sent to
/entityOperations/upsert, 100 per request, first as new entities, then again (replacing them).
The raw limit is the database itself writing the rows the node writes for new entities (entity
documents as the node stores them, type rows and counts, geometries, indexed values, the
history of every attribute instance) in one transaction, on the same schema, measured in the
same run: SQLite with executemany, PostgreSQL with COPY.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import shapely

from ascn.ngsild import changes
from ascn.ngsild.context import core_terms
from ascn.ngsild.entity import Limits, parse_entity
from ascn.ngsild.geoquery import bounds
from ascn.ngsild.history import derive, row_values
from ascn.ngsild.timestamps import now
from ascn.store import Changes, open_store, timeline
from ascn.store.indexing import geometries
from ascn.store.indexing import values as index_values
from ascn.store.sqlite.schema import migrate
from benchmarks.node import POSTGRES, fresh_schema, postgres_database, search_path, serving

HISTORY_COLUMNS = (
    "tenant, entity_id, attr, dataset, instance_id, observed_at, observed_ms, created_at,"
    " created_ms, modified_at, modified_ms, deleted_at, deleted_ms, num, value, instance, kind"
)
POLLUTANTS = ("NO2", "O3", "PM10", "PM2_5", "CO", "SO2")


def entity(index: int, rng: random.Random) -> dict[str, Any]:
    """An AirQualityObserved-shaped entity of 10 attributes (Smart Data Models, normalized)."""
    observed = "2026-12-01T10:00:00Z"
    document: dict[str, Any] = {
        "id": f"urn:ngsi-ld:AirQualityObserved:bench:{index:07d}",
        "type": "AirQualityObserved",
        "dateObserved": {"type": "Property", "value": observed},
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Point",
                "coordinates": [round(100 + rng.random(), 6), round(13 + rng.random(), 6)],
            },
        },
        "refDevice": {"type": "Relationship", "object": f"urn:ngsi-ld:Device:{index % 500}"},
        "airQualityIndex": {"type": "Property", "value": rng.randint(0, 300)},
    }
    for name in POLLUTANTS:
        document[name] = {
            "type": "Property",
            "value": round(rng.uniform(0, 200), 2),
            "unitCode": "GQ",
            "observedAt": observed,
        }
    return document


@dataclass(frozen=True, slots=True)
class Rows:
    """The rows the node writes for new entities: entity, type (and count), geometry, for
    indexed attributes value rows, and the history of every attribute instance."""

    entities: list[tuple[str, str, str, str, str]]
    types: list[tuple[str, str, str]]
    counts: Counter[str]
    shapes: list[tuple[str, str, str, str]]
    values: list[tuple[Any, ...]]
    history: list[tuple[Any, ...]]
    history_attrs: list[tuple[str, str, str]]
    history_types: list[tuple[str, str, str]]

    @classmethod
    def of(cls, entities: list[dict[str, Any]], indexed: frozenset[str]) -> Rows:
        terms = core_terms()
        moment = now()
        stored = [changes.create(parse_entity(e, terms, Limits()), moment) for e in entities]
        types = [("", t, e["id"]) for e in stored for t in e["type"]]
        records = derive(stored, [], {})
        return cls(
            [
                ("", e["id"], orjson.dumps(e).decode(), e["createdAt"], e["modifiedAt"])
                for e in stored
            ],
            types,
            Counter(t for _, t, _ in types),
            [("", e["id"], iri, text) for e in stored for iri, text in geometries(e)],
            [("", e["id"], *row) for e in stored for row in sorted(index_values(e, indexed))],
            [("", *row) for row in row_values(records)],
            timeline.attributes("", records),
            [("", *row) for row in timeline.typed(Changes(puts=stored), {})],
        )


def raw_sqlite(rows: Rows, folder: Path, runs: int = 3) -> float:
    """Entities per second for SQLite writing the rows in one executemany transaction (the
    best of a few runs, each on a fresh file)."""
    return max(_sqlite_once(rows, folder / f"raw{run}.db") for run in range(runs))


def _sqlite_once(rows: Rows, path: Path) -> float:
    boxes = [bounds(text) for *_, text in rows.shapes]
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    migrate(connection)
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO entity (tenant, id, doc, created_at, modified_at) VALUES (?, ?, ?, ?, ?)",
        rows.entities,
    )
    connection.executemany(
        "INSERT INTO entity_type (tenant, type, id) VALUES (?, ?, ?)", rows.types
    )
    connection.executemany(
        "INSERT INTO type_count (tenant, type, n) VALUES ('', ?, ?)", rows.counts.items()
    )
    connection.executemany(
        "INSERT INTO geo (id, tenant, eid, attr, geojson) VALUES (?, ?, ?, ?, ?)",
        [(n, *shape) for n, shape in enumerate(rows.shapes, start=1)],
    )
    connection.executemany(
        "INSERT INTO geo_box (id, min_x, max_x, min_y, max_y) VALUES (?, ?, ?, ?, ?)",
        [(n, b[0], b[2], b[1], b[3]) for n, b in enumerate(boxes, start=1) if b is not None],
    )
    connection.executemany(
        "INSERT INTO attr_value (tenant, id, attr, num, txt) VALUES (?, ?, ?, ?, ?)", rows.values
    )
    connection.executemany(timeline.INSERT, rows.history)
    connection.executemany(
        "INSERT INTO history_attr (tenant, entity_id, attr) VALUES (?, ?, ?)", rows.history_attrs
    )
    connection.executemany(
        "INSERT INTO history_entity (tenant, id, types) VALUES (?, ?, ?)", rows.history_types
    )
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(rows.entities) / elapsed


def raw_postgres(rows: Rows, database: str, runs: int = 3) -> float:
    """Entities per second for PostgreSQL writing the rows with COPY in one transaction (the
    best of a few runs, each on a fresh schema migrated by the store)."""
    shapes = []
    for tenant, entity_id, iri, text in rows.shapes:
        geometry = shapely.from_geojson(text)
        shapes.append(
            (
                tenant,
                entity_id,
                iri,
                shapely.to_wkb(shapely.set_srid(geometry, 4326), hex=True, include_srid=True),
            )
        )
    return max(_postgres_once(rows, shapes, database, f"bench_raw{run}") for run in range(runs))


def _postgres_once(rows: Rows, shapes: list[tuple[Any, ...]], database: str, schema: str) -> float:
    url = fresh_schema(database, schema)
    asyncio.run(_migrated(url))
    with psycopg.connect(database) as connection:
        connection.execute(search_path(schema))
        connection.commit()
        started = time.perf_counter()
        with connection.transaction():
            _copy(connection, "entity (tenant, id, doc, created_at, modified_at)", rows.entities)
            _copy(connection, "entity_type (tenant, type, id)", rows.types)
            _copy(
                connection,
                "type_count (tenant, type, n)",
                [("", t, n) for t, n in rows.counts.items()],
            )
            _copy(connection, "geo (tenant, id, attr, geom)", shapes)
            _copy(connection, "attr_value (tenant, id, attr, num, txt)", rows.values)
            _copy(connection, f"history ({HISTORY_COLUMNS})", rows.history)
            _copy(connection, "history_attr (tenant, entity_id, attr)", rows.history_attrs)
            _copy(connection, "history_entity (tenant, id, types)", rows.history_types)
        elapsed = time.perf_counter() - started
    fresh_schema(database, schema)
    return len(rows.entities) / elapsed


def _copy(connection: psycopg.Connection[Any], target: str, rows: list[tuple[Any, ...]]) -> None:
    with connection.cursor().copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


async def _migrated(url: str) -> None:
    store = open_store(url)
    await store.open()
    await store.close()


async def http_rate(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[int]]:
    """Entities per second through POST /entityOperations/upsert, and the statuses seen."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    statuses: list[int] = []
    headers = {"Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                response = await client.post(
                    "/entityOperations/upsert", content=body, headers=headers
                )
                statuses.append(response.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--postgres", default=POSTGRES, help="the PostgreSQL database to use")
    parser.add_argument(
        "--indexed-attributes", default="", help="as the node's setting (e.g. PM2_5,NO2)"
    )
    args = parser.parse_args()
    indexed = frozenset(
        core_terms().expand(n.strip()) for n in args.indexed_attributes.split(",") if n.strip()
    )
    rng = random.Random(7)
    entities = [entity(i, rng) for i in range(args.entities)]
    rows = Rows.of(entities, indexed)
    bodies = [
        orjson.dumps(entities[i : i + args.batch]) for i in range(0, len(entities), args.batch)
    ]
    flags = ("--indexed-attributes", args.indexed_attributes) if indexed else ()
    results: dict[str, tuple[float, float, float]] = {}
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            if backend == "sqlite":
                raw = raw_sqlite(rows, Path(folder))
                store = f"sqlite:///{folder}/node.db"
            else:
                database = postgres_database(args.postgres)
                raw = raw_postgres(rows, database)
                store = fresh_schema(database, "bench_node")
            with serving(store, *flags) as url:
                created, first = asyncio.run(http_rate(url, bodies, args.concurrency))
                replaced, second = asyncio.run(http_rate(url, bodies, args.concurrency))
        if set(first) != {201} or set(second) != {204}:
            sys.exit(f"{backend}: unexpected statuses {sorted(set(first))}, {sorted(set(second))}")
        results[backend] = (raw, created * args.batch, replaced * args.batch)
    print(
        f"entities {args.entities}, {args.batch} per request, {args.concurrency} connections,"
        f" {os.cpu_count()} cores, indexed attributes: {args.indexed_attributes or 'none'}"
    )
    print(f"{'entities/s':<34}" + "".join(f"{name:>24}" for name in results))
    lines = (
        ("raw (executemany / COPY), one tx", 0, False),
        ("HTTP batch upsert, new entities", 1, True),
        ("HTTP batch upsert, replacing them", 2, True),
    )
    for title, column, ratio in lines:
        cells = ""
        for raw, *rates in results.values():
            rate = (raw, *rates)[column]
            cells += f"{rate:>12,.0f}" + (f"  ratio {rate / raw:4.2f}" if ratio else " " * 12)
        print(f"{title:<34}{cells}")


if __name__ == "__main__":
    main()
