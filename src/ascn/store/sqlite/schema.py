"""Named, recorded migrations of the SQLite schema, applied in order on open. A migration that
adds an index fills it from the data already stored, in the same transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

from ascn.store.sqlite.indexes import backfill_geometry

Backfill = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, str, Backfill | None]] = [
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
        None,
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
        backfill_geometry,
    ),
    (
        "attribute value index",
        """
        CREATE TABLE attr_value (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            attr TEXT NOT NULL,
            num REAL,
            txt TEXT
        );
        CREATE INDEX attr_value_by_entity ON attr_value (tenant, id);
        CREATE INDEX attr_value_by_number ON attr_value (tenant, attr, num) WHERE num IS NOT NULL;
        CREATE INDEX attr_value_by_text ON attr_value (tenant, attr, txt) WHERE txt IS NOT NULL;
        CREATE TABLE value_index (attr TEXT PRIMARY KEY) WITHOUT ROWID;
        """,
        None,
    ),
    (
        "entity counts per type",
        """
        CREATE TABLE type_count (
            tenant TEXT NOT NULL,
            type TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (tenant, type)
        ) WITHOUT ROWID;
        INSERT INTO type_count (tenant, type, n)
            SELECT tenant, type, count(*) FROM entity_type GROUP BY tenant, type
        """,
        None,
    ),
    (
        "attribute history",
        """
        CREATE TABLE history (
            seq INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            attr TEXT NOT NULL,
            dataset TEXT NOT NULL,
            instance_id TEXT NOT NULL,
            observed_at TEXT,
            observed_ms INTEGER,
            created_at TEXT,
            created_ms INTEGER,
            modified_at TEXT,
            modified_ms INTEGER,
            deleted_at TEXT,
            deleted_ms INTEGER,
            num REAL,
            value TEXT NOT NULL,
            instance TEXT NOT NULL,
            kind TEXT NOT NULL
        );
        CREATE INDEX history_by_time
            ON history (tenant, entity_id, attr, observed_ms, dataset, num, kind);
        CREATE TABLE history_entity (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            types TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        ) WITHOUT ROWID;
        CREATE TABLE history_attr (
            tenant TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            attr TEXT NOT NULL,
            PRIMARY KEY (tenant, entity_id, attr)
        ) WITHOUT ROWID;
        """,
        None,
    ),
    (
        "subscriptions",
        """
        CREATE TABLE subscription (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        ) WITHOUT ROWID;
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL,
            subscription_id TEXT NOT NULL,
            headers TEXT NOT NULL,
            body TEXT NOT NULL,
            created_ms INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_ms INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX outbox_by_subscription ON outbox (tenant, subscription_id, seq);
        """,
        None,
    ),
]


def migrate(connection: sqlite3.Connection) -> None:
    """Apply every migration not yet recorded, each in its own transaction."""
    connection.execute(
        "CREATE TABLE IF NOT EXISTS schema_migration ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in connection.execute("SELECT version FROM schema_migration")}
    for version, (name, script, backfill) in enumerate(MIGRATIONS, start=1):
        if version in done:
            continue
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in script.split(";"):
                if statement.strip():
                    connection.execute(statement)
            if backfill is not None:
                backfill(connection)
            connection.execute(
                "INSERT INTO schema_migration (version, name, applied_at) VALUES (?, ?, ?)",
                (version, name, datetime.now(UTC).isoformat()),
            )
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
