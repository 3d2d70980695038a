"""History: one year of 5-minute readings for 50 sensors, read back through the temporal API,
against the store's own SQL for the same read in the same run.

    python -m benchmarks.temporal [--sensors 50] [--days 365] [--runs 50]
                                  [--backends sqlite,postgres] [--store PATH] [--postgres URL]

Each sensor is an entity with one attribute (PM2_5) observed every 5 minutes: 105,120 instances
per sensor over a year, 5.26 million in all. The history is written through the store's own
transactions (10,000 instances at a time); the filled stores are kept for later runs (SQLite at
--store PATH if given, PostgreSQL in the schema temporal_<sensors>_<days> of ascn_bench). A node
(`ascn serve --temporal-instance-limit 1000`) answers, one request at a time:
- the last 24 hours of one sensor (288 instances);
- daily averages over a month of one sensor (aggregatedValues, P1D);
- daily averages over a month of all the sensors, in one query.
Raw = the store's own SQL for the same read, executed and fetched on the same database.
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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg

from ascn.ngsild.context import core_terms
from ascn.ngsild.history import Record, millis, record
from ascn.ngsild.temporal import Window
from ascn.store import Changes, open_store, timeline
from ascn.store.base import Scope
from ascn.store.planner import Sql
from ascn.store.postgres.dialect import pg
from ascn.store.postgres.store import session
from ascn.store.sqlite.store import connect
from benchmarks.node import POSTGRES, fresh_schema, postgres_database, search_path, serving, timed

TYPE = "AirQualitySensor"
STEP = timedelta(minutes=5)
END = datetime(2026, 1, 1, tzinfo=UTC)
BATCH = 10_000
PM2_5 = core_terms().expand("PM2_5")


def sensor_id(number: int) -> str:
    return f"urn:ngsi-ld:{TYPE}:{number:03d}"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


async def fill(url: str, sensors: int, days: int) -> None:
    """The sensors as entities, then their history through the store's transactions."""
    store = open_store(url)
    await store.open()
    rng = random.Random(3)
    start = END - timedelta(days=days)
    steps = int(timedelta(days=days) / STEP)
    written = "2026-01-01T00:00:00.000Z"
    try:
        entities = [
            {
                "id": sensor_id(n),
                "type": [core_terms().expand(TYPE)],
                "createdAt": written,
                "modifiedAt": written,
                "attrs": {
                    PM2_5: [
                        {
                            "type": "Property",
                            "value": 0.0,
                            "createdAt": written,
                            "modifiedAt": written,
                            "observedAt": stamp(END),
                        }
                    ]
                },
            }
            for n in range(sensors)
        ]

        def put(existing: Mapping[str, Any]) -> tuple[Changes, None]:
            return Changes(puts=entities, history=[]), None

        await store.transact("", [], put)
        batch: list[Record] = []
        total = sensors * steps
        done = 0
        for n in range(sensors):
            for step in range(steps):
                observed = stamp(start + step * STEP)
                instance = {
                    "type": "Property",
                    "value": round(rng.uniform(0, 200), 1),
                    "observedAt": observed,
                    "createdAt": written,
                    "modifiedAt": written,
                }
                batch.append(record(sensor_id(n), PM2_5, instance))
                if len(batch) == BATCH:
                    await _write(store, batch)
                    done += len(batch)
                    batch = []
                    print(f"\rfilled {done:,}/{total:,}", end="", file=sys.stderr)
        if batch:
            await _write(store, batch)
    finally:
        await store.close()
    print(file=sys.stderr)


async def _write(store: Any, records: list[Record]) -> None:
    def plan(existing: Mapping[str, Any]) -> tuple[Changes, None]:
        return Changes(history=records), None

    await store.transact("", [], plan)


def history_count(url: str) -> int:
    try:
        if url.startswith("sqlite"):
            path = Path(url.removeprefix("sqlite:///"))
            if not path.exists():
                return 0
            with sqlite3.connect(path) as connection:
                return int(connection.execute("SELECT count(*) FROM history").fetchone()[0])
        base, schema = url.split("?schema=")
        with psycopg.connect(base) as connection:
            connection.execute(search_path(schema))
            found = connection.execute("SELECT count(*) FROM history").fetchone()
            return int(found[0]) if found else 0
    except (sqlite3.Error, psycopg.Error):
        return 0


def prepared(
    backend: str, sensors: int, days: int, store: Path | None, database: str, folder: str
) -> str:
    expected = sensors * int(timedelta(days=days) / STEP)
    if backend == "sqlite":
        path = store or Path(folder, "temporal.db")
        url = f"sqlite:///{path}"
        if history_count(url) == expected:
            return url
        path.unlink(missing_ok=True)
    else:
        database = postgres_database(database)
        schema = f"temporal_{sensors}_{days}"
        url = f"{database}?schema={schema}"
        if history_count(url) == expected:
            return url
        fresh_schema(database, schema)
    started = time.perf_counter()
    asyncio.run(fill(url, sensors, days))
    if backend == "postgres":
        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute(search_path(schema))
            connection.execute("VACUUM ANALYZE")
    elapsed = time.perf_counter() - started
    print(f"{backend}: wrote {expected:,} instances in {elapsed:.0f} s", file=sys.stderr)
    return url


class Raw:
    """The store's own SQL, run directly on the database."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.sqlite = connect(Path(url.removeprefix("sqlite:///")))
        else:
            base, schema = url.split("?schema=")
            self.postgres = psycopg.connect(base, autocommit=True)
            for statement in session(schema):
                self.postgres.execute(statement)

    def run(self, sql: Sql) -> list[Any]:
        if self.url.startswith("sqlite"):
            return self.sqlite.execute(sql.text, sql.args).fetchall()
        return self.postgres.execute(pg(sql), sql.args).fetchall()

    def close(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite.close()
        else:
            self.postgres.close()


def measure(backend: str, url: str, sensors: int, runs: int) -> None:
    day_ago = stamp(END - timedelta(days=1, minutes=1))
    month = (stamp(END - timedelta(days=30)), stamp(END))
    ids = [sensor_id(n) for n in range(sensors)]
    last_day = Window(timerel="after", time_at=day_ago)
    in_month = Window(timerel="between", time_at=month[0], end_time_at=month[1])
    day = 86_400_000
    start = millis(month[0]) or 0
    raw = Raw(url)
    rows = []
    try:
        flags = ("--temporal-instance-limit", "1000")
        with serving(url, *flags) as base, httpx.Client(base_url=base, timeout=120) as client:
            one = sensor_id(sensors // 2)

            def recent() -> None:
                response = client.get(
                    f"/temporal/entities/{one}", params={"timerel": "after", "timeAt": day_ago}
                )
                assert response.status_code == 200, response.text
                assert len(response.json()["PM2_5"]) == 288

            def recent_raw() -> None:
                raw.run(timeline.instances("", Scope([one]), last_day, 1001))

            monthly = {
                "options": "aggregatedValues",
                "aggrMethods": "avg",
                "aggrPeriodDuration": "P1D",
                "timerel": "between",
                "timeAt": month[0],
                "endTimeAt": month[1],
            }

            def daily() -> None:
                response = client.get(f"/temporal/entities/{one}", params=monthly)
                assert response.status_code == 200, response.text
                assert len(response.json()["PM2_5"]["avg"]) == 30

            def daily_raw() -> None:
                raw.run(timeline.aggregate("", Scope([one]), in_month, start, day, False))

            def all_daily() -> None:
                response = client.get(
                    "/temporal/entities", params={"type": TYPE, "limit": str(sensors), **monthly}
                )
                assert response.status_code == 200, response.text
                assert len(response.json()) == sensors

            def all_daily_raw() -> None:
                raw.run(timeline.aggregate("", Scope(ids), in_month, start, day, False))

            rows.append(
                (
                    "last 24 h of one sensor (288 instances)",
                    timed(recent, runs, 0.95, 3),
                    timed(recent_raw, runs, 0.95, 3),
                )
            )
            rows.append(
                (
                    "daily averages over a month, one sensor",
                    timed(daily, runs, 0.95, 3),
                    timed(daily_raw, runs, 0.95, 3),
                )
            )
            rows.append(
                (
                    f"daily averages over a month, all {sensors} sensors",
                    timed(all_daily, runs, 0.95, 3),
                    timed(all_daily_raw, runs, 0.95, 3),
                )
            )
    finally:
        raw.close()
    print(f"{backend}, {sensors} sensors, {runs} runs each, one request at a time")
    print(
        f"{'read':<48} {'API median':>11} {'API p95':>9} {'raw median':>11} {'raw p95':>9}"
        f" {'ratio':>6}"
    )
    for title, (median, p95), (raw_median, raw_p95) in rows:
        print(
            f"{title:<48} {median:>9.2f}ms {p95:>7.2f}ms {raw_median:>9.2f}ms {raw_p95:>7.2f}ms"
            f" {median / raw_median:>6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sensors", type=int, default=50)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--store", type=Path, default=None, help="keep the SQLite store here")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            url = prepared(backend, args.sensors, args.days, args.store, args.postgres, folder)
            measure(backend, url, args.sensors, args.runs)


if __name__ == "__main__":
    main()
