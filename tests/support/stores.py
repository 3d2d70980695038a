"""Store URLs for tests, one per backend: a fresh SQLite file, or a fresh schema in a PostgreSQL
database (ASCN_TEST_POSTGRES, by default the local server's ascn_test, created with PostGIS on
first use). A schema per test keeps tests apart without the cost of a database each."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BACKENDS = ("sqlite", "postgres")
POSTGRES = os.environ.get("ASCN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/ascn_test")


@cache
def _database() -> str:
    """The test database, created with PostGIS if it does not exist yet."""
    parts = urlsplit(POSTGRES)
    name = parts.path.strip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        found = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    return POSTGRES


@contextmanager
def store_url(backend: str, folder: Path) -> Iterator[str]:
    """A store URL of that backend, whose data is removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{folder}/node.db"
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    database = _database()
    try:
        yield f"{database}?schema={schema}"
    finally:
        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )
