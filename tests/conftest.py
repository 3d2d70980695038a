"""Shared fixtures: a real node on 127.0.0.1 over a real SQLite file, and an HTTP client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ascn.settings import Settings
from tests.support.servers import free_port, running_node

SHARED = Path(os.environ.get("ASCN_SHARED", Path(__file__).resolve().parents[2] / "shared"))
"""The network's shared material (../shared beside the checkout, or ASCN_SHARED)."""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(port=free_port(), store=f"sqlite:///{tmp_path}/node.db", open=True)


@pytest.fixture
def node_url(settings: Settings) -> Iterator[str]:
    with running_node(settings) as url:
        yield url


@pytest.fixture
def client(node_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{node_url}/ngsi-ld/v1", timeout=10) as http:
        yield http
