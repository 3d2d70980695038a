"""Query latency with a million entities, against the store's own time for the same SQL.

    python -m benchmarks.query [--entities 1000000] [--runs 200] [--backends sqlite,postgres]
                               [--store PATH] [--postgres URL]

For each backend the benchmark fills a store through the node's own write path
(AirQualityObserved-shaped entities spread over Bangkok), starts
`ascn serve --indexed-attributes PM2_5` on it, and times each query over HTTP, one request at a
time. The raw figure runs the store's own planning and SQL for the same query directly on the
database (execute and fetch; no HTTP, no JSON parsing); ratio = API / raw. The filled stores are
kept for later runs: SQLite at --store PATH (if given), PostgreSQL in the schema query_<count>
of the database ascn_bench (analysed after filling, as autovacuum would).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import psycopg
from psycopg import sql

from ascn.ngsild import changes
from ascn.ngsild.context import core_terms
from ascn.ngsild.entity import Limits, parse_entity
from ascn.ngsild.geoquery import geo_query
from ascn.ngsild.qlang import TypeName, expand, parse_q
from ascn.ngsild.query import EntityQuery, Selector
from ascn.ngsild.timestamps import now
from ascn.store import Changes, open_store
from ascn.store.postgres.store import run_query as postgres_query
from ascn.store.postgres.store import session
from ascn.store.sqlite.store import connect, run_query
from benchmarks.node import POSTGRES, fresh_schema, postgres_database, search_path, serving, timed

TYPE = "AirQualityObserved"
OTHER = "TrafficFlowObserved"
BATCH = 5000
INDEXED = frozenset({core_terms().expand("PM2_5")})
"""The node indexes the values of PM2_5 (--indexed-attributes PM2_5), which the q filters use."""
BANGKOK = (100.35, 13.60, 100.85, 14.00)
"""min longitude, min latitude, max longitude, max latitude."""


def entity_id(index: int) -> str:
    return f"urn:ngsi-ld:{OTHER if index % 10 == 9 else TYPE}:bkk:{index:07d}"


def entity(index: int, rng: random.Random) -> dict[str, Any]:
    return {
        "id": entity_id(index),
        "type": OTHER if index % 10 == 9 else TYPE,
        "PM2_5": {"type": "Property", "value": round(rng.uniform(0, 200), 2), "unitCode": "GQ"},
        "NO2": {"type": "Property", "value": round(rng.uniform(0, 100), 2), "unitCode": "GQ"},
        "refDevice": {"type": "Relationship", "object": f"urn:ngsi-ld:Device:{index % 5000}"},
        "location": {
            "type": "GeoProperty",
            "value": {
                "type": "Point",
                "coordinates": [
                    round(rng.uniform(BANGKOK[0], BANGKOK[2]), 6),
                    round(rng.uniform(BANGKOK[1], BANGKOK[3]), 6),
                ],
            },
        },
    }


async def fill(url: str, count: int) -> None:
    """Write the entities through the store's own transactions, BATCH at a time."""
    store = open_store(url, INDEXED)
    await store.open()
    rng = random.Random(11)
    terms = core_terms()
    try:
        for start in range(0, count, BATCH):
            moment = now()
            batch = [
                changes.create(parse_entity(entity(i, rng), terms, Limits()), moment)
                for i in range(start, min(count, start + BATCH))
            ]

            def plan(existing: Mapping[str, Any], batch: list[Any] = batch) -> tuple[Changes, None]:
                return Changes(puts=batch), None

            await store.transact("", [], plan)
            print(f"\rfilled {min(count, start + BATCH):,}/{count:,}", end="", file=sys.stderr)
    finally:
        await store.close()
    print(file=sys.stderr)


def sqlite_count(path: Path) -> int:
    if not path.exists():
        return 0
    with sqlite3.connect(path) as connection:
        try:
            return int(connection.execute("SELECT count(*) FROM entity").fetchone()[0])
        except sqlite3.OperationalError:
            return 0


def postgres_count(database: str, schema: str) -> int:
    with psycopg.connect(database) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = 'entity'", (schema,)
        ).fetchone()
        if found is None:
            return 0
        table = sql.Identifier(schema, "entity")
        counted = connection.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
        return int(counted[0]) if counted else 0


def prepared(backend: str, count: int, store: Path | None, database: str, folder: str) -> str:
    """The URL of a store of that backend holding the benchmark's `count` entities."""
    if backend == "sqlite":
        path = store or Path(folder, "query.db")
        url = f"sqlite:///{path}"
        if sqlite_count(path) == count:
            return url
        path.unlink(missing_ok=True)
    else:
        database = postgres_database(database)
        schema = f"query_{count}"
        url = f"{database}?schema={schema}"
        if postgres_count(database, schema) == count:
            return url
        fresh_schema(database, schema)
    started = time.perf_counter()
    asyncio.run(fill(url, count))
    if backend == "postgres":
        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute(search_path(schema))
            connection.execute("VACUUM ANALYZE")
    print(
        f"{backend}: filled {count:,} entities in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return url


class Raw:
    """The store's own SQL for a query, run directly on the database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.loop = asyncio.new_event_loop()
        if url.startswith("sqlite"):
            self.sqlite = connect(Path(url.removeprefix("sqlite:///")))
        else:
            base, schema = url.split("?schema=")
            self.postgres = self.loop.run_until_complete(
                psycopg.AsyncConnection.connect(base, autocommit=True)
            )
            for statement in session(schema):
                self.loop.run_until_complete(self.postgres.execute(statement))

    def retrieve(self, entity_id: str) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite.execute(
                "SELECT doc FROM entity WHERE tenant = '' AND id = ?", (entity_id,)
            ).fetchall()
        else:
            self.loop.run_until_complete(self._retrieve(entity_id))

    async def _retrieve(self, entity_id: str) -> None:
        cursor = await self.postgres.execute(
            "SELECT doc::text FROM entity WHERE tenant = '' AND id = %s", (entity_id,)
        )
        await cursor.fetchall()

    def query(self, query: EntityQuery) -> None:
        if self.url.startswith("sqlite"):
            run_query(self.sqlite, "", query, INDEXED)
        else:
            self.loop.run_until_complete(postgres_query(self.postgres, "", query, INDEXED))

    def close(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite.close()
        else:
            self.loop.run_until_complete(self.postgres.close())
        self.loop.close()


def selection(params: dict[str, str]) -> EntityQuery:
    """The EntityQuery the node builds for these parameters (core context only)."""
    terms = core_terms()
    geo = None
    if "georel" in params:
        geo = geo_query(
            params["georel"], params["geometry"], params["coordinates"], terms.expand("location")
        )
    return EntityQuery(
        selectors=(Selector(types=TypeName(terms.expand(params["type"]))),),
        q=expand(parse_q(params["q"]), terms.expand) if "q" in params else None,
        geo=geo,
        limit=int(params.get("limit", "20")),
        offset=int(params.get("offset", "0")),
        count=params.get("count") == "true",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgres", help="sqlite, postgres or both")
    parser.add_argument("--store", type=Path, default=None, help="keep the SQLite store here")
    parser.add_argument("--postgres", default=POSTGRES, help="the PostgreSQL database to use")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            url = prepared(backend, args.entities, args.store, args.postgres, folder)
            measure(backend, url, args.entities, args.runs)


def measure(backend: str, url: str, count: int, runs: int) -> None:
    rng = random.Random(5)
    ids = [entity_id(i) for i in rng.sample(range(count), 500)]
    centre = "[100.5018, 13.7563]"
    cases: list[tuple[str, dict[str, str]]] = [
        ("type + q (PM2_5>100, ~50% match), limit 20", {"type": TYPE, "q": "PM2_5>100"}),
        ("type + q (PM2_5>199.9, ~0.05% match), limit 20", {"type": TYPE, "q": "PM2_5>199.9"}),
        (
            "geo near 1 km of a point, limit 20",
            {
                "type": TYPE,
                "georel": "near;maxDistance==1000",
                "geometry": "Point",
                "coordinates": centre,
            },
        ),
        (
            "count only of a type (limit=0&count=true)",
            {"type": TYPE, "limit": "0", "count": "true"},
        ),
        ("deep page (offset=100000&limit=20)", {"type": TYPE, "offset": "100000", "limit": "20"}),
    ]
    raw = Raw(url)
    rows = []
    try:
        flags = ("--indexed-attributes", "PM2_5")
        with serving(url, *flags) as base, httpx.Client(base_url=base, timeout=60) as client:
            picks = iter(ids * (runs // len(ids) + 2))

            def retrieve() -> None:
                response = client.get(f"/entities/{next(picks)}")
                assert response.status_code == 200, response.text

            raw_ids = iter(ids * (runs // len(ids) + 2))

            def retrieve_raw() -> None:
                raw.retrieve(next(raw_ids))

            rows.append(("retrieve by id", timed(retrieve, runs), timed(retrieve_raw, runs)))
            for title, params in cases:
                query = selection(params)

                def api(params: dict[str, str] = params) -> None:
                    response = client.get("/entities", params=params)
                    assert response.status_code == 200, response.text

                def direct(query: EntityQuery = query) -> None:
                    raw.query(query)

                rows.append((title, timed(api, runs), timed(direct, runs)))
    finally:
        raw.close()
    print(f"{count:,} entities, {backend}, {runs} runs each, one request at a time")
    print(
        f"{'query':<50} {'API median':>11} {'API p99':>9} {'raw median':>11} {'raw p99':>9}"
        f" {'ratio':>6}"
    )
    for title, (median, p99), (raw_median, raw_p99) in rows:
        print(
            f"{title:<50} {median:>9.2f}ms {p99:>7.2f}ms {raw_median:>9.3f}ms"
            f" {raw_p99:>7.3f}ms {median / raw_median:>6.1f}"
        )


if __name__ == "__main__":
    main()
