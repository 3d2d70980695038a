"""Shared fixtures: a real node on 127.0.0.1 over a real store of each backend (a SQLite file, a
PostgreSQL schema), and an HTTP client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ascn.settings import Settings
from tests.support.servers import free_port, running_node
from tests.support.stores import BACKENDS
from tests.support.stores import store_url as make_store_url

SHARED = Path(os.environ.get("ASCN_SHARED", Path(__file__).resolve().parents[2] / "shared"))
"""The network's shared material (../shared beside the checkout, or ASCN_SHARED)."""


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every test that touches a store runs once per backend."""
    with make_store_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def settings(store_url: str) -> Settings:
    return Settings(port=free_port(), store=store_url, open=True)


@pytest.fixture
def node_url(settings: Settings) -> Iterator[str]:
    with running_node(settings) as url:
        yield url


@pytest.fixture
def client(node_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{node_url}/ngsi-ld/v1", timeout=10) as http:
        yield http
