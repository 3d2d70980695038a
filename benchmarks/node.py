"""A node for a benchmark: `ascn serve` in its own process, on a given SQLite file."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def serving(store: Path, *flags: str, timeout: float = 60) -> Iterator[str]:
    """Run a node on `store` (with more `flags`) until the block ends; yields its base URL
    (…/ngsi-ld/v1)."""
    port = free_port()
    command = [
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
