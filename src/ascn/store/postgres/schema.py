"""Named, recorded migrations of the PostgreSQL schema, applied in order on open, each in its
own transaction, under an advisory lock so that nodes starting together migrate once.

Every table leads with (tenant, id): tenants are a column, and a distributed PostgreSQL can
shard every entity table on the entity id unchanged (see the README)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

MIGRATION_LOCK = 0x6173636E
"""Advisory lock key held while migrating ('ascn')."""
MIGRATIONS: list[tuple[str, str]] = [
    (
        "entities, tenants and their indexes",
        """
        CREATE TABLE tenant (
            name text PRIMARY KEY,
            created_at text NOT NULL
        );
        CREATE TABLE entity (
            tenant text NOT NULL,
            id text NOT NULL,
            doc jsonb NOT NULL,
            created_at text NOT NULL,
            modified_at text NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE TABLE entity_type (
            tenant text NOT NULL,
            id text NOT NULL,
            type text NOT NULL,
            PRIMARY KEY (tenant, id, type)
        );
        CREATE INDEX entity_type_by_type ON entity_type (tenant, type, id);
        CREATE TABLE type_count (
            tenant text NOT NULL,
            type text NOT NULL,
            n bigint NOT NULL,
            PRIMARY KEY (tenant, type)
        );
        CREATE TABLE geo (
            tenant text NOT NULL,
            id text NOT NULL,
            attr text NOT NULL,
            geom geometry(Geometry, 4326) NOT NULL
        );
        CREATE INDEX geo_by_entity ON geo (tenant, id);
        CREATE INDEX geo_shape ON geo USING gist (geom);
        CREATE TABLE attr_value (
            tenant text NOT NULL,
            id text NOT NULL,
            attr text NOT NULL,
            num float8,
            txt text
        );
        CREATE INDEX attr_value_by_entity ON attr_value (tenant, id);
        CREATE INDEX attr_value_by_number ON attr_value (tenant, attr, num) WHERE num IS NOT NULL;
        CREATE INDEX attr_value_by_text ON attr_value (tenant, attr, txt COLLATE "C")
            WHERE txt IS NOT NULL;
        CREATE TABLE value_index (attr text PRIMARY KEY);
        CREATE TABLE jsonld_context (
            id text PRIMARY KEY,
            url text NOT NULL,
            kind text NOT NULL,
            body bytea NOT NULL,
            created_at text NOT NULL
        );
        CREATE FUNCTION ascn_instant(t text) RETURNS timestamptz
            LANGUAGE plpgsql STABLE AS $$
            BEGIN
                RETURN t::timestamptz;
            EXCEPTION WHEN others THEN
                RETURN NULL;
            END $$;
        CREATE FUNCTION ascn_haversine(lon1 float8, lat1 float8, lon2 float8, lat2 float8)
            RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
            SELECT 2 * 6371008.8 * asin(least(1.0, sqrt(
                sin((radians(lat2) - radians(lat1)) / 2) ^ 2
                + cos(radians(lat1)) * cos(radians(lat2)) * sin(radians(lon2 - lon1) / 2) ^ 2)))
            $$;
        CREATE FUNCTION ascn_metres(target geometry, point geometry)
            RETURNS float8 LANGUAGE sql IMMUTABLE AS $$
            SELECT ascn_haversine(ST_X(point), ST_Y(point), ST_X(c), ST_Y(c))
            FROM ST_ClosestPoint(target, point) c
            $$
        """,
    ),
    (
        "attribute history",
        """
        CREATE TABLE history (
            seq bigserial PRIMARY KEY,
            tenant text NOT NULL,
            entity_id text NOT NULL,
            attr text NOT NULL,
            dataset text NOT NULL,
            instance_id text NOT NULL,
            observed_at text,
            observed_ms bigint,
            created_at text,
            created_ms bigint,
            modified_at text,
            modified_ms bigint,
            deleted_at text,
            deleted_ms bigint,
            num float8,
            value text NOT NULL,
            instance text NOT NULL,
            kind text NOT NULL
        );
        CREATE INDEX history_by_time ON history (tenant, entity_id, attr, observed_ms)
            INCLUDE (dataset, num, kind);
        CREATE TABLE history_entity (
            tenant text NOT NULL,
            id text NOT NULL,
            types text NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE TABLE history_attr (
            tenant text NOT NULL,
            entity_id text NOT NULL,
            attr text NOT NULL,
            PRIMARY KEY (tenant, entity_id, attr)
        )
        """,
    ),
    (
        "subscriptions",
        """
        CREATE TABLE subscription (
            tenant text NOT NULL,
            id text NOT NULL,
            doc jsonb NOT NULL,
            PRIMARY KEY (tenant, id)
        );
        CREATE TABLE outbox (
            seq bigserial PRIMARY KEY,
            tenant text NOT NULL,
            subscription_id text NOT NULL,
            headers text NOT NULL,
            body text NOT NULL,
            created_ms bigint NOT NULL,
            attempts integer NOT NULL DEFAULT 0,
            next_ms bigint NOT NULL DEFAULT 0
        );
        CREATE INDEX outbox_by_subscription ON outbox (tenant, subscription_id, seq)
        """,
    ),
]


async def migrate(connection: psycopg.AsyncConnection[tuple[object, ...]], schema: str) -> None:
    """Create the schema and PostGIS if missing, then apply every migration not yet recorded."""
    await connection.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        async with connection.transaction():
            await connection.execute(
                psycopg.sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(
                    psycopg.sql.Identifier(schema)
                )
            )
            await connection.execute(
                psycopg.sql.SQL("SET search_path TO {}, public").format(
                    psycopg.sql.Identifier(schema)
                )
            )
            await connection.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migration ("
                " version integer PRIMARY KEY, name text NOT NULL, applied_at text NOT NULL)"
            )
        cursor = await connection.execute("SELECT version FROM schema_migration")
        done = {row[0] for row in await cursor.fetchall()}
        for version, (name, script) in enumerate(MIGRATIONS, start=1):
            if version in done:
                continue
            async with connection.transaction():
                await connection.execute(script.encode())
                await connection.execute(
                    "INSERT INTO schema_migration (version, name, applied_at) VALUES (%s, %s, %s)",
                    (version, name, datetime.now(UTC).isoformat()),
                )
    finally:
        await connection.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
