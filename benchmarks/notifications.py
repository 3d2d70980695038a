"""Notifications: 1,000 subscriptions, a stream of updates, and a receiver on 127.0.0.1.

    python -m benchmarks.notifications [--subscriptions 1000] [--updates 20000]
                                       [--backends sqlite,postgres]

Each subscription watches one of 1,000 sensors (by id). Batches of 100 updates (one per
sensor, a new value each time) go to /entityOperations/upsert over 4 connections; every
update is notified to a local HTTP receiver (aiohttp, in this process). Measured: the
sustained rate of notifications received with writes sent flat out, and the latency from the
acknowledgement of the write that caused a notification to its arrival (median and 99th
percentile), flat out and in a steady stream of 1,000 updates per second. The raw limit is
the same number of notification bodies POSTed by aiohttp to the same receiver at full speed
(64 at a time), in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from typing import Any

import aiohttp
import httpx
import orjson
from aiohttp import web

from benchmarks.node import POSTGRES, free_port, fresh_schema, postgres_database, serving

TYPE = "Sensor"


def sensor(number: int, value: int) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:{TYPE}:{number:04d}",
        "type": TYPE,
        "reading": {"type": "Property", "value": value},
    }


class Receiver:
    """Counts notifications and keeps when each (entity, value) arrived."""

    def __init__(self) -> None:
        self.arrived: dict[tuple[str, int], float] = {}
        self.count = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        moment = time.perf_counter()
        for entity in body.get("data", ()):
            reading = entity["reading"]
            value: int = reading["value"] if isinstance(reading, dict) else reading
            self.arrived[(str(entity["id"]), value)] = moment
        self.count += 1
        return web.Response()


async def run(
    url: str, subscriptions: int, updates: int, port: int, receiver: Receiver
) -> tuple[float, list[float], list[float]]:
    async with httpx.AsyncClient(
        base_url=url, timeout=60, limits=httpx.Limits(max_connections=4)
    ) as client:
        first = [sensor(n, 0) for n in range(subscriptions)]
        for start in range(0, subscriptions, 100):
            response = await client.post(
                "/entityOperations/upsert", json=first[start : start + 100]
            )
            assert response.status_code in (201, 204), response.text
        for n in range(subscriptions):
            response = await client.post(
                "/subscriptions",
                json={
                    "type": "Subscription",
                    "entities": [{"type": TYPE, "id": sensor(n, 0)["id"]}],
                    "notification": {
                        "format": "keyValues",
                        "endpoint": {"uri": f"http://127.0.0.1:{port}/notify"},
                    },
                },
            )
            assert response.status_code == 201, response.text
        acked: dict[tuple[str, int], float] = {}
        batches = []
        for round_ in range(1, updates // subscriptions + 1):
            for start in range(0, subscriptions, 100):
                batches.append(
                    [sensor(n, round_) for n in range(start, min(subscriptions, start + 100))]
                )
        queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
        for batch in batches:
            queue.put_nowait(batch)

        async def writer() -> None:
            while not queue.empty():
                batch = queue.get_nowait()
                response = await client.post("/entityOperations/upsert", json=batch)
                assert response.status_code == 204, response.text
                moment = time.perf_counter()
                for entity in batch:
                    acked[(entity["id"], entity["reading"]["value"])] = moment

        started = time.perf_counter()
        await asyncio.gather(*(writer() for _ in range(4)))
        expected = set(acked)
        deadline = time.perf_counter() + 120
        while not expected <= receiver.arrived.keys() and time.perf_counter() < deadline:
            await asyncio.sleep(0.01)
        missing = expected - receiver.arrived.keys()
        assert not missing, f"{len(missing)} notifications never arrived"
        last = max(receiver.arrived[k] for k in expected)
        rate = len(expected) / (last - started)
        latencies = [(receiver.arrived[k] - acked[k]) * 1000 for k in expected]
        paced = await steady(client, subscriptions, receiver, round_ + 1)
        return rate, latencies, paced


PACE = 0.01
"""Seconds between two paced batches of 10 updates: a stream of 1,000 updates per second."""


async def steady(
    client: httpx.AsyncClient, subscriptions: int, receiver: Receiver, value: int
) -> list[float]:
    """Latencies of a steady stream of 1,000 updates per second for 5 seconds."""
    acked: dict[tuple[str, int], float] = {}
    start = time.perf_counter()
    for step in range(500):
        await asyncio.sleep(max(0.0, start + step * PACE - time.perf_counter()))
        batch = [sensor((step * 10 + k) % subscriptions, value + step) for k in range(10)]
        response = await client.post("/entityOperations/upsert", json=batch)
        assert response.status_code == 204, response.text
        moment = time.perf_counter()
        for entity in batch:
            acked[(entity["id"], entity["reading"]["value"])] = moment
    deadline = time.perf_counter() + 60
    while not acked.keys() <= receiver.arrived.keys() and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    return [(receiver.arrived[k] - t) * 1000 for k, t in acked.items() if k in receiver.arrived]


async def raw_rate(port: int, count: int) -> float:
    body = orjson.dumps({"id": "urn:x", "type": "Notification", "data": [sensor(1, 1)]})
    limit = asyncio.Semaphore(64)
    async with aiohttp.ClientSession() as session:

        async def send() -> None:
            async with limit, session.post(f"http://127.0.0.1:{port}/notify", data=body) as r:
                await r.read()

        started = time.perf_counter()
        await asyncio.gather(*(send() for _ in range(count)))
        return count / (time.perf_counter() - started)


async def measure(
    url: str, subscriptions: int, updates: int
) -> tuple[float, list[float], list[float], float]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/notify", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        rate, latencies, paced = await run(url, subscriptions, updates, port, receiver)
        raw = await raw_rate(port, updates)
    finally:
        await runner.cleanup()
    return rate, latencies, paced, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", default=POSTGRES)
    args = parser.parse_args()
    print(f"{args.subscriptions} subscriptions, {args.updates} updates, 100 per request")
    for backend in args.backends.split(","):
        with tempfile.TemporaryDirectory() as folder:
            if backend == "sqlite":
                store = f"sqlite:///{folder}/node.db"
            else:
                store = fresh_schema(postgres_database(args.postgres), "bench_notify")
            with serving(store, "--history-retention", "1d") as url:
                rate, latencies, paced, raw = asyncio.run(
                    measure(url, args.subscriptions, args.updates)
                )
        print(
            f"{backend:<9} flat out: {rate:8,.0f} notifications/s (raw aiohttp {raw:8,.0f}/s,"
            f" ratio {rate / raw:.2f}); latency from write ack {_spread(latencies)}"
        )
        print(f"{backend:<9} steady 1,000 updates/s: latency from write ack {_spread(paced)}")


def _spread(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return f"median {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms"


if __name__ == "__main__":
    main()
