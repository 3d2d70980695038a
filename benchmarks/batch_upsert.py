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
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

from ascn.ngsild import changes
from ascn.ngsild.context import core_terms
from ascn.ngsild.entity import Limits, parse_entity
from ascn.ngsild.timestamps import now
from ascn.store.sqlite.schema import migrate

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


def raw_rate(entities: list[dict[str, Any]], folder: Path, runs: int = 3) -> float:
    """Rows per second for SQLite writing the node's own rows in one executemany transaction
    (the best of a few runs, each on a fresh file)."""
    return max(_raw_once(entities, folder / f"raw{run}.db") for run in range(runs))


def _raw_once(entities: list[dict[str, Any]], path: Path) -> float:
    terms = core_terms()
    moment = now()
    stored = [changes.create(parse_entity(e, terms, Limits()), moment) for e in entities]
    rows = [
        ("", e["id"], orjson.dumps(e).decode(), e["createdAt"], e["modifiedAt"]) for e in stored
    ]
    types = [("", t, e["id"]) for e in stored for t in e["type"]]
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
                    "/ngsi-ld/v1/entityOperations/upsert", content=body, headers=headers
                )
                statuses.append(response.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return len(bodies) / elapsed, statuses


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_node(store: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ascn",
            "serve",
            "--port",
            str(port),
            "--store",
            f"sqlite:///{store}",
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/ngsi-ld/v1").status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("the node did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entities", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    rng = random.Random(7)
    entities = [entity(i, rng) for i in range(args.entities)]
    bodies = [
        orjson.dumps(entities[i : i + args.batch]) for i in range(0, len(entities), args.batch)
    ]
    with tempfile.TemporaryDirectory() as folder:
        raw = raw_rate(entities, Path(folder))
        process, url = start_node(Path(folder, "node.db"))
        try:
            created, first = asyncio.run(http_rate(url, bodies, args.concurrency))
            replaced, second = asyncio.run(http_rate(url, bodies, args.concurrency))
        finally:
            process.terminate()
            process.wait(30)
    if set(first) != {201} or set(second) != {204}:
        sys.exit(f"unexpected statuses: {sorted(set(first))} then {sorted(set(second))}")
    print(
        f"entities {args.entities}, {args.batch} per request, {args.concurrency} connections,"
        f" {os.cpu_count()} cores"
    )
    print(f"raw SQLite executemany, one transaction : {raw:10,.0f} rows/s")
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
