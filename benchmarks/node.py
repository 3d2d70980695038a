"""A node for a benchmark: `ascn serve` in its own process, on a given store, and the stores
benchmarks run on."""

from __future__ import annotations

import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
from psycopg import sql


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(store: str, *flags: str, timeout: float = 60) -> Iterator[str]:
    """Run a node on the store URL `store` (with more `flags`) until the block ends; yields its
    base URL (…/ngsi-ld/v1)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "ascn",
        "serve",
        "--port",
        str(port),
        "--store",
        store,
        "--log-level",
        "warning",
        *flags,
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/ngsi-ld/v1"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(url).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the node did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(30)


POSTGRES = "postgresql://postgres@127.0.0.1:5432/ascn_bench"
"""The database the benchmarks use on PostgreSQL (created with PostGIS if missing)."""


def postgres_database(url: str = POSTGRES) -> str:
    """The benchmark database's URL, once it exists with PostGIS."""
    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            is None
        ):
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return url


def fresh_schema(url: str, schema: str) -> str:
    """A store URL on an empty schema of that name (dropped first if it exists)."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
        )
    return f"{url}?schema={schema}"


def search_path(schema: str) -> sql.Composed:
    """SET search_path to a store's schema (then public, where PostGIS may live)."""
    return sql.SQL("SET search_path TO {}, public").format(sql.Identifier(schema))


def timed(
    run: Callable[[], Any], runs: int, percentile: float = 0.99, warm_up: int = 5
) -> tuple[float, float]:
    """Median and a high percentile of a call's time in milliseconds, after warm-up calls."""
    for _ in range(warm_up):
        run()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    high = samples[min(len(samples) - 1, int(len(samples) * percentile))]
    return statistics.median(samples), high
