"""`ascn serve` as a real process: start-up, graceful shutdown, crashes and half-sent requests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

API = "/ngsi-ld/v1"


@contextmanager
def serve(cwd: Path, *args: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "ascn", "serve", "--port", str(port), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + API).status_code == 200:
                    break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the node did not start") from None
                time.sleep(0.05)
        yield process, url
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def entity(index: int) -> dict[str, object]:
    return {
        "id": f"urn:ngsi-ld:Sensor:{index}",
        "type": "Sensor",
        "reading": {"type": "Property", "value": index},
    }


def stored_ids(url: str, count: int) -> set[str]:
    found: set[str] = set()
    with httpx.Client(base_url=url + API) as client:
        for offset in range(0, count + 1000, 1000):
            page = client.get(
                "/entities", params={"type": "Sensor", "limit": 1000, "offset": offset}
            )
            found.update(e["id"] for e in page.json())
    return found


async def stream_batches(url: str, acknowledged: list[str], stop_after: float) -> None:
    """Send batches of 20 new entities until the node goes away; record acknowledged ids."""
    async with httpx.AsyncClient(base_url=url + API, timeout=10) as client:
        index = 0
        started = time.monotonic()
        while time.monotonic() - started < stop_after:
            batch = [entity(index + i) for i in range(20)]
            index += 20
            try:
                response = await client.post("/entityOperations/upsert", json=batch)
            except httpx.TransportError:
                return
            if response.status_code == 201:
                acknowledged.extend(e["id"] for e in batch)  # type: ignore[misc]


def test_serve_prints_its_url_and_creates_the_default_store(tmp_path: Path) -> None:
    with serve(tmp_path) as (process, url):
        assert (tmp_path / "data" / "ascn.db").exists()
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=20)
    assert f"{url}{API}" in output
    assert process.returncode == 0


def test_sigterm_keeps_every_acknowledged_write(tmp_path: Path, store_url: str) -> None:
    store = store_url
    acknowledged: list[str] = []
    with serve(tmp_path, "--store", store) as (process, url):

        async def run() -> None:
            writer = asyncio.create_task(stream_batches(url, acknowledged, stop_after=30))
            await asyncio.sleep(1.5)
            process.send_signal(signal.SIGTERM)
            await writer

        asyncio.run(run())
        output, _ = process.communicate(timeout=30)
    # uvicorn ends by re-raising the signal once its graceful shutdown is complete.
    assert process.returncode in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in output
    assert acknowledged
    with serve(tmp_path, "--store", store) as (_, url):
        assert set(acknowledged) <= stored_ids(url, len(acknowledged))


@pytest.mark.parametrize("round_", range(3))
def test_sigkill_loses_no_acknowledged_write(tmp_path: Path, store_url: str, round_: int) -> None:
    store = store_url
    acknowledged: list[str] = []
    with serve(tmp_path, "--store", store) as (process, url):

        async def run() -> None:
            writer = asyncio.create_task(stream_batches(url, acknowledged, stop_after=30))
            await asyncio.sleep(1.0 + round_ * 0.37)
            os.kill(process.pid, signal.SIGKILL)
            await writer

        asyncio.run(run())
    assert acknowledged
    with serve(tmp_path, "--store", store) as (_, url):
        stored = stored_ids(url, len(acknowledged) + 1000)
        assert set(acknowledged) <= stored
        with httpx.Client(base_url=url + API) as client:
            # Whole entities only: each has its value, and the kept count per type (written
            # in the same transaction) agrees with the entities stored.
            counted = client.get("/entities", params={"type": "Sensor", "count": "true"})
            assert int(counted.headers["NGSILD-Results-Count"]) == len(stored)
            for entity_id in sorted(stored)[-40:]:
                body = client.get(f"/entities/{entity_id}").json()
                assert body["reading"]["value"] == int(entity_id.rsplit(":", 1)[1])


def test_a_half_sent_request_writes_nothing(tmp_path: Path, store_url: str) -> None:
    with serve(tmp_path, "--store", store_url) as (_, url):
        port = int(url.rsplit(":", 1)[1])
        body = (
            b'{"id": "urn:ngsi-ld:Sensor:half", "type": "Sensor",'
            b' "reading": {"type": "Property", "value": 1}}'
        )
        head = (
            f"POST {API}/entities HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection(("127.0.0.1", port)) as sock:
            sock.sendall(head + body[: len(body) // 2])
            time.sleep(0.3)
        time.sleep(0.3)
        response = httpx.get(f"{url}{API}/entities/urn:ngsi-ld:Sensor:half")
        assert response.status_code == 404
        assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
