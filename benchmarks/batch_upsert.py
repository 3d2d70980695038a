"""Batch upsert through HTTP against SQLite's own bulk insert of the same rows.

    python -m benchmarks.batch_upsert [--entities 100000] [--batch 100] [--concurrency 4]

A node runs as its own process (`ascn serve`, uvloop + httptools) on a fresh SQLite file.
AirQualityObserved-shaped entities (10 attributes) are sent to /entityOperations/upsert,
100 per request, first as new entities, then again (replacing them). The raw limit is SQLite
itself writing the same rows (entity documents as the node stores them, and their type rows)
with executemany in one transaction, same schema and pragmas, measured in the same run.
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
from pathlib import Path
from typing import Any

import httpx
import orjson

from ascn.ngsild import changes
from ascn.ngsild.context import core_terms
from ascn.ngsild.entity import Limits, parse_entity
from ascn.ngsild.geoquery import bounds
from ascn.ngsild.timestamps import now
from ascn.store.indexing import geometries
from ascn.store.indexing import values as index_values
from ascn.store.sqlite.schema import migrate
from benchmarks.node import serving

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


def raw_rate(
    entities: list[dict[str, Any]], folder: Path, indexed: frozenset[str], runs: int = 3
) -> float:
    """Entities per second for SQLite writing the node's own rows in one executemany
    transaction (the best of a few runs, each on a fresh file)."""
    return max(_raw_once(entities, folder / f"raw{run}.db", indexed) for run in range(runs))


def _raw_once(entities: list[dict[str, Any]], path: Path, indexed: frozenset[str]) -> float:
    """The rows the node writes for new entities: entity, type (and count), geometry (and its
    box) and, for indexed attributes, value rows."""
    terms = core_terms()
    moment = now()
    stored = [changes.create(parse_entity(e, terms, Limits()), moment) for e in entities]
    rows = [
        ("", e["id"], orjson.dumps(e).decode(), e["createdAt"], e["modifiedAt"]) for e in stored
    ]
    types = [("", t, e["id"]) for e in stored for t in e["type"]]
    counts = Counter(t for _, t, _ in types)
    shapes = [("", e["id"], iri, text) for e in stored for iri, text in geometries(e)]
    boxes = [bounds(text) for *_, text in shapes]
    values = [("", e["id"], *row) for e in stored for row in sorted(index_values(e, indexed))]
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    migrate(connection)
    started = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        "INSERT INTO entity (tenant, id, doc, created_at, modified_at) VALUES (?, ?, ?, ?, ?)", rows
    )
    connection.executemany("INSERT INTO entity_type (tenant, type, id) VALUES (?, ?, ?)", types)
    connection.executemany(
        "INSERT INTO type_count (tenant, type, n) VALUES ('', ?, ?)", counts.items()
    )
    connection.executemany(
        "INSERT INTO geo (id, tenant, eid, attr, geojson) VALUES (?, ?, ?, ?, ?)",
        [(n, *shape) for n, shape in enumerate(shapes, start=1)],
    )
    connection.executemany(
        "INSERT INTO geo_box (id, min_x, max_x, min_y, max_y) VALUES (?, ?, ?, ?, ?)",
        [(n, b[0], b[2], b[1], b[3]) for n, b in enumerate(boxes, start=1) if b is not None],
    )
    connection.executemany(
        "INSERT INTO attr_value (tenant, id, attr, num, txt) VALUES (?, ?, ?, ?, ?)", values
    )
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - started
    connection.close()
    return len(rows) / elapsed


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
    parser.add_argument(
        "--indexed-attributes", default="", help="as the node's setting (e.g. PM2_5,NO2)"
    )
    args = parser.parse_args()
    indexed = frozenset(
        core_terms().expand(n.strip()) for n in args.indexed_attributes.split(",") if n.strip()
    )
    rng = random.Random(7)
    entities = [entity(i, rng) for i in range(args.entities)]
    bodies = [
        orjson.dumps(entities[i : i + args.batch]) for i in range(0, len(entities), args.batch)
    ]
    with tempfile.TemporaryDirectory() as folder:
        raw = raw_rate(entities, Path(folder), indexed)
        flags = ("--indexed-attributes", args.indexed_attributes) if indexed else ()
        with serving(Path(folder, "node.db"), *flags) as url:
            created, first = asyncio.run(http_rate(url, bodies, args.concurrency))
            replaced, second = asyncio.run(http_rate(url, bodies, args.concurrency))
    if set(first) != {201} or set(second) != {204}:
        sys.exit(f"unexpected statuses: {sorted(set(first))} then {sorted(set(second))}")
    print(
        f"entities {args.entities}, {args.batch} per request, {args.concurrency} connections,"
        f" {os.cpu_count()} cores, indexed attributes: {args.indexed_attributes or 'none'}"
    )
    print(f"raw SQLite executemany, one transaction : {raw:10,.0f} entities/s")
    print(
        f"HTTP batch upsert, new entities        : {created * args.batch:10,.0f} entities/s"
        f"  ratio {created * args.batch / raw:.2f}"
    )
    print(
        f"HTTP batch upsert, replacing them      : {replaced * args.batch:10,.0f} entities/s"
        f"  ratio {replaced * args.batch / raw:.2f}"
    )


if __name__ == "__main__":
    main()
