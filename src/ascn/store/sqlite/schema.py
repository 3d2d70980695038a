"""Named, recorded migrations of the SQLite schema, applied in order on open."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

MIGRATIONS: list[tuple[str, str]] = [
    (
        "entities and tenants",
        """
        CREATE TABLE tenant (
            name TEXT PRIMARY KEY,
            created_at TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE entity (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            doc TEXT NOT NULL,
            created_at TEXT NOT NULL,
            modified_at TEXT NOT NULL,
            UNIQUE (tenant, id)
        );
        CREATE TABLE entity_type (
            tenant TEXT NOT NULL,
            type TEXT NOT NULL,
            id TEXT NOT NULL,
            PRIMARY KEY (tenant, type, id)
        ) WITHOUT ROWID;
        CREATE INDEX entity_type_by_entity ON entity_type (tenant, id);
        CREATE TABLE jsonld_context (
            id TEXT PRIMARY KEY,
            url TEXT NOT NULL,
            kind TEXT NOT NULL,
            body BLOB NOT NULL,
            created_at TEXT NOT NULL
        ) WITHOUT ROWID;
        """,
    ),
    (
        "geometry index",
        """
        CREATE TABLE geo (
            id INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL,
            eid TEXT NOT NULL,
            attr TEXT NOT NULL,
            geojson TEXT NOT NULL
        );
        CREATE INDEX geo_by_entity ON geo (tenant, eid);
        CREATE VIRTUAL TABLE geo_box USING rtree (id, min_x, max_x, min_y, max_y);
        """,
    ),
]


def migrate(connection: sqlite3.Connection) -> None:
    """Apply every migration not yet recorded, each in its own transaction."""
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in connection.execute("SELECT version FROM schema_migration")}
    for version, (name, script) in enumerate(MIGRATIONS, start=1):
        if version in done:
            continue
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in script.split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(
                "INSERT INTO schema_migration (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, datetime.now(UTC).isoformat()),
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
