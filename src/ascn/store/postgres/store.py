"""PostgresStore: the production store, on PostgreSQL 15+ with PostGIS.

Entities are JSONB documents beside the same secondary indexes as the SQLite store (types with
a kept count, geometries under a GiST index, optional attribute values). A transaction first
takes an advisory lock per entity id it names (in a fixed order, so that transactions cannot
deadlock), so that the plan's view of those entities, existing or not, holds until it commits.
Connections come from a pool; the URL's `schema` parameter names the schema the node keeps its
tables in (public by default).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import orjson
import psycopg
from psycopg import errors
from psycopg_pool import AsyncConnectionPool

from ascn.errors import AscnError, BadRequestData, InternalError, InvalidSetting, ServiceUnavailable
from ascn.ngsild.history import Record
from ascn.ngsild.query import EntityQuery
from ascn.ngsild.temporal import Period, Window
from ascn.store import planner, timeline
from ascn.store.base import (
    CatalogRow,
    ContextRecord,
    Entity,
    Observer,
    Outgoing,
    Plan,
    Scope,
)
from ascn.store.outbox import OUTBOX_DUE, outbox_rows, outgoing
from ascn.store.postgres import writes
from ascn.store.postgres.dialect import PostgresDialect, pg
from ascn.store.postgres.schema import migrate

T = TypeVar("T")
Connection = psycopg.AsyncConnection[tuple[Any, ...]]
DIALECT = PostgresDialect()
SCAN_BUDGET = 1000
"""Entities scanned in id order before a selective q hands the lead to its value index."""
RETRIES = 5
"""Attempts of a transaction that the server aborted to break a deadlock or a conflict."""
PRUNE_CHUNK = 10_000
"""History instances pruned per transaction."""


class PostgresStore:
    def __init__(self, conninfo: str, schema: str, indexed: frozenset[str], pool_size: int) -> None:
        self.conninfo = conninfo
        self.schema = schema
        self.indexed = indexed
        self._observer: Observer | None = None
        self._pool = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=pool_size,
            open=False,
            configure=self._configure,
            kwargs={"autocommit": True},
        )

    @classmethod
    def from_url(
        cls, url: str, indexed: frozenset[str] = frozenset(), pool_size: int = 10
    ) -> PostgresStore:
        """postgresql://user@host:port/database[?schema=name], plus any libpq parameter."""
        parts = urlsplit(url)
        if parts.scheme not in ("postgresql", "postgres") or not parts.path.strip("/"):
            raise InvalidSetting(
                f"store URL {url!r}: expected postgresql://user@host:port/database"
            )
        query = parse_qsl(parts.query)
        schema = next((v for k, v in query if k == "schema"), "public")
        rest = urlencode([(k, v) for k, v in query if k != "schema"])
        return cls(urlunsplit(parts._replace(query=rest)), schema, indexed, pool_size)

    async def _configure(self, connection: Connection) -> None:
        for statement in session(self.schema):
            await connection.execute(statement)

    async def open(self) -> None:
        try:
            async with await psycopg.AsyncConnection.connect(
                self.conninfo, autocommit=True
            ) as connection:
                await migrate(connection, self.schema)
        except psycopg.Error as error:
            raise ServiceUnavailable(f"cannot prepare the PostgreSQL store: {error}") from error
        await self._pool.open(wait=True, timeout=30)
        await self._write(lambda c: writes.sync_value_index(c, self.indexed))

    async def close(self) -> None:
        await self._pool.close()

    async def _read(self, job: Callable[[Connection], Awaitable[T]]) -> T:
        try:
            async with self._pool.connection() as connection:
                return await job(connection)
        except psycopg.Error as error:
            raise translate(error) from error

    async def _write(self, job: Callable[[Connection], Awaitable[T]]) -> T:
        for attempt in range(RETRIES):
            try:
                async with self._pool.connection() as connection, connection.transaction():
                    return await job(connection)
            except (errors.DeadlockDetected, errors.SerializationFailure) as error:
                if attempt == RETRIES - 1:
                    raise ServiceUnavailable("the store is busy, retry") from error
            except psycopg.Error as error:
                raise translate(error) from error
        raise InternalError("unreachable")

    async def tenant_exists(self, tenant: str) -> bool:
        if not tenant:
            return True

        async def job(connection: Connection) -> bool:
            cursor = await connection.execute("SELECT 1 FROM tenant WHERE name = %s", (tenant,))
            return await cursor.fetchone() is not None

        return await self._read(job)

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, Entity]:
        return await self._read(lambda c: _fetch(c, tenant, ids))

    def watch(self, observer: Observer) -> None:
        self._observer = observer

    async def transact(self, tenant: str, ids: Sequence[str], plan: Plan[T]) -> T:
        observer = self._observer
        sent = False

        async def job(connection: Connection) -> T:
            nonlocal sent
            async with connection.pipeline():
                await connection.execute(
                    "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) k",
                    (_lock_keys(tenant, ids),),
                )
                existing = await _fetch(connection, tenant, ids)
            changes, answer = plan(existing)
            outgoing = list(changes.outbox)
            if observer is not None:
                outgoing += observer.notifications(tenant, existing, changes)
            # The writes go in one round trip; an error surfaces when the pipeline ends.
            async with connection.pipeline():
                await writes.apply(connection, tenant, changes, existing, self.indexed)
                if outgoing:
                    columns = list(zip(*outbox_rows(tenant, outgoing), strict=True))
                    await connection.execute(
                        "INSERT INTO outbox (tenant, subscription_id, headers, body, created_ms)"
                        " SELECT * FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[],"
                        " %b::int8[])",
                        [list(c) for c in columns],
                    )
            sent = bool(outgoing)
            return answer

        answer = await self._write(job)
        if sent and observer is not None:
            observer.committed()
        return answer

    async def due_notifications(self, now: int, limit: int) -> list[Outgoing]:
        async def job(connection: Connection) -> list[Outgoing]:
            cursor = await connection.execute(OUTBOX_DUE.replace("?", "%s"), (now, now, limit))
            return [outgoing(row) for row in await cursor.fetchall()]

        return await self._read(job)

    async def settle_notifications(
        self, delivered: Sequence[int], retries: Sequence[tuple[int, int, int]]
    ) -> None:
        async def job(connection: Connection) -> None:
            if delivered:
                await connection.execute(
                    "DELETE FROM outbox WHERE seq = ANY(%b::int8[])", (list(delivered),)
                )
            for seq, attempts, next_ms in retries:
                await connection.execute(
                    "UPDATE outbox SET attempts = %s, next_ms = %s WHERE seq = %s",
                    (attempts, next_ms, seq),
                )

        await self._write(job)

    async def drop_notifications(self, tenant: str, subscription_id: str) -> int:
        async def job(connection: Connection) -> int:
            cursor = await connection.execute(
                "DELETE FROM outbox WHERE tenant = %s AND subscription_id = %s",
                (tenant, subscription_id),
            )
            return cursor.rowcount

        return await self._write(job)

    async def query(self, tenant: str, query: EntityQuery) -> tuple[list[Entity], int | None]:
        async def job(connection: Connection) -> tuple[list[Entity], int | None]:
            return await run_query(connection, tenant, query, self.indexed)

        return await self._read(job)

    async def catalog(self, tenant: str) -> list[CatalogRow]:
        async def job(connection: Connection) -> list[CatalogRow]:
            rows: list[tuple[Any, ...]] = []
            for text in (
                "SELECT type, NULL, NULL, n FROM type_count WHERE tenant = %s",
                "SELECT t.type, a.key, i ->> 'type', count(*)"
                " FROM entity_type t JOIN entity e ON e.tenant = t.tenant AND e.id = t.id,"
                " jsonb_each(e.doc -> 'attrs') a, jsonb_array_elements(a.value) i"
                " WHERE t.tenant = %s GROUP BY 1, 2, 3",
                "SELECT NULL, a.key, i ->> 'type', count(*)"
                " FROM entity e, jsonb_each(e.doc -> 'attrs') a, jsonb_array_elements(a.value) i"
                " WHERE e.tenant = %s GROUP BY 2, 3",
            ):
                cursor = await connection.execute(text, (tenant,))
                rows.extend(await cursor.fetchall())
            return [CatalogRow(*row) for row in rows]

        return await self._read(job)

    async def history(
        self, tenant: str, scope: Scope, window: Window, cap: int | None
    ) -> list[Record]:
        sql = timeline.instances(tenant, scope, window, cap)

        async def job(connection: Connection) -> list[Record]:
            cursor = await connection.execute(pg(sql), sql.args)
            return [timeline.record_of(row) for row in await cursor.fetchall()]

        return await self._read(job)

    async def aggregate(
        self,
        tenant: str,
        scope: Scope,
        window: Window,
        period: int | None,
        start: int | None,
        distinct: bool = False,
    ) -> tuple[int | None, list[Period]]:
        async def job(connection: Connection) -> tuple[int | None, list[Period]]:
            origin = start
            if origin is None:
                first = timeline.origin(tenant, scope, window)
                cursor = await connection.execute(pg(first), first.args)
                found = await cursor.fetchone()
                origin = found[0] if found else None
            if origin is None:
                return None, []
            sql = timeline.aggregate(tenant, scope, window, origin, period, distinct)
            cursor = await connection.execute(pg(sql), sql.args)
            return origin, [Period(*row) for row in await cursor.fetchall()]

        return await self._read(job)

    async def history_types(self, tenant: str, ids: Sequence[str]) -> dict[str, list[str]]:
        async def job(connection: Connection) -> dict[str, list[str]]:
            cursor = await connection.execute(
                "SELECT id, types FROM history_entity WHERE tenant = %s AND id = ANY(%b::text[])",
                (tenant, list(ids)),
            )
            return {i: orjson.loads(types) for i, types in await cursor.fetchall()}

        return await self._read(job)

    async def prune_history(self, before: int) -> int:
        # In chunks, each its own transaction, so that no transaction grows without bound.
        async def job(connection: Connection) -> int:
            cursor = await connection.execute(
                "DELETE FROM history WHERE seq IN (SELECT seq FROM history"
                " WHERE coalesce(observed_ms, created_ms, deleted_ms) < %s LIMIT %s)",
                (before, PRUNE_CHUNK),
            )
            return cursor.rowcount

        total = 0
        while True:
            pruned = await self._write(job)
            total += pruned
            if pruned < PRUNE_CHUNK:
                return total

    async def add_subscription(self, tenant: str, subscription: dict[str, Any]) -> bool:
        async def job(connection: Connection) -> bool:
            cursor = await connection.execute(
                "INSERT INTO subscription (tenant, id, doc) VALUES (%s, %s, %s::jsonb)"
                " ON CONFLICT (tenant, id) DO NOTHING",
                (tenant, subscription["id"], orjson.dumps(subscription).decode()),
            )
            return cursor.rowcount > 0

        return await self._write(job)

    async def replace_subscription(self, tenant: str, subscription: dict[str, Any]) -> bool:
        async def job(connection: Connection) -> bool:
            cursor = await connection.execute(
                "UPDATE subscription SET doc = %s::jsonb WHERE tenant = %s AND id = %s",
                (orjson.dumps(subscription).decode(), tenant, subscription["id"]),
            )
            return cursor.rowcount > 0

        return await self._write(job)

    async def get_subscription(self, tenant: str, subscription_id: str) -> dict[str, Any] | None:
        async def job(connection: Connection) -> dict[str, Any] | None:
            cursor = await connection.execute(
                "SELECT doc::text FROM subscription WHERE tenant = %s AND id = %s",
                (tenant, subscription_id),
            )
            row = await cursor.fetchone()
            return orjson.loads(row[0]) if row else None

        return await self._read(job)

    async def list_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        async def job(connection: Connection) -> tuple[list[dict[str, Any]], int]:
            cursor = await connection.execute(
                "SELECT doc::text FROM subscription WHERE tenant = %s ORDER BY id"
                " LIMIT %s OFFSET %s",
                (tenant, limit, offset),
            )
            rows = await cursor.fetchall()
            counted = await connection.execute(
                "SELECT count(*) FROM subscription WHERE tenant = %s", (tenant,)
            )
            total = await counted.fetchone()
            return [orjson.loads(row[0]) for row in rows], int(total[0]) if total else 0

        return await self._read(job)

    async def every_subscription(self) -> list[tuple[str, dict[str, Any]]]:
        async def job(connection: Connection) -> list[tuple[str, dict[str, Any]]]:
            cursor = await connection.execute("SELECT tenant, doc::text FROM subscription")
            return [(tenant, orjson.loads(doc)) for tenant, doc in await cursor.fetchall()]

        return await self._read(job)

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        async def job(connection: Connection) -> bool:
            cursor = await connection.execute(
                "DELETE FROM subscription WHERE tenant = %s AND id = %s",
                (tenant, subscription_id),
            )
            return cursor.rowcount > 0

        return await self._write(job)

    async def put_context(self, record: ContextRecord) -> None:
        async def job(connection: Connection) -> None:
            await connection.execute(
                "INSERT INTO jsonld_context (id, url, kind, body, created_at)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET url = excluded.url,"
                " kind = excluded.kind, body = excluded.body, created_at = excluded.created_at",
                (record.id, record.url, record.kind, record.body, record.created_at),
            )

        await self._write(job)

    async def get_context(self, context_id: str) -> ContextRecord | None:
        records = await self._read(
            lambda c: _contexts(c, "WHERE id = %s", (context_id,)),
        )
        return records[0] if records else None

    async def list_contexts(self) -> list[ContextRecord]:
        return await self._read(lambda c: _contexts(c, "ORDER BY created_at, id", ()))

    async def delete_context(self, context_id: str) -> bool:
        async def job(connection: Connection) -> bool:
            cursor = await connection.execute(
                "DELETE FROM jsonld_context WHERE id = %s", (context_id,)
            )
            return cursor.rowcount > 0

        return await self._write(job)


def session(schema: str) -> list[psycopg.sql.SQL | psycopg.sql.Composed]:
    """What every connection of the store sets first."""
    return [
        psycopg.sql.SQL("SET search_path TO {}, public").format(psycopg.sql.Identifier(schema)),
        psycopg.sql.SQL("SET TIME ZONE 'UTC'"),
        # Statements psycopg prepares are still planned for their values: a generic plan cannot
        # tell a small box or a selective value from a large one.
        psycopg.sql.SQL("SET plan_cache_mode = force_custom_plan"),
    ]


async def run_query(
    connection: Connection, tenant: str, query: EntityQuery, indexed: frozenset[str]
) -> tuple[list[Entity], int | None]:
    """The entities of a query's page and the count if asked, led as in the SQLite store."""
    leads = indexed
    probe = None
    if query.limit:
        probe = planner.scan_probe(DIALECT, tenant, query, SCAN_BUDGET, indexed)
    if probe is not None:
        cursor = await connection.execute(pg(probe), probe.args)
        found = (await cursor.fetchone() or (0,))[0]
        leads = indexed if found < query.offset + query.limit else planner.NONE
    counted = None
    if query.count:
        total = planner.select(DIALECT, tenant, query, count=True, anchored=indexed)
        cursor = await connection.execute(pg(total), total.args)
        counted = int((await cursor.fetchone() or (0,))[0])
    entities: list[Entity] = []
    if query.limit:
        page = planner.select(DIALECT, tenant, query, anchored=leads, doc="e.doc::text")
        cursor = await connection.execute(pg(page), page.args)
        entities = [orjson.loads(row[0]) for row in await cursor.fetchall()]
    return entities, counted


def translate(error: psycopg.Error) -> AscnError:
    """Driver errors become the node's errors here, at the store's edge."""
    if isinstance(error, errors.UntranslatableCharacter | errors.CharacterNotInRepertoire):
        return BadRequestData("strings may not hold the character U+0000")
    if isinstance(error, psycopg.OperationalError):
        return ServiceUnavailable(f"the store is unavailable: {error}")
    if isinstance(error, errors.QueryCanceled):
        return ServiceUnavailable("the store took too long, retry")
    return InternalError(f"store error: {error}")


def _lock_keys(tenant: str, ids: Sequence[str]) -> list[int]:
    keys = {
        int.from_bytes(
            hashlib.blake2b(f"{tenant}\0{i}".encode(), digest_size=8).digest(), "big", signed=True
        )
        for i in ids
    }
    return sorted(keys)


async def _fetch(connection: Connection, tenant: str, ids: Sequence[str]) -> dict[str, Entity]:
    if not ids:
        return {}
    cursor = await connection.execute(
        "SELECT id, doc::text FROM entity WHERE tenant = %s AND id = ANY(%b::text[])",
        (tenant, list(dict.fromkeys(ids))),
    )
    return {entity_id: orjson.loads(doc) for entity_id, doc in await cursor.fetchall()}


async def _contexts(connection: Connection, where: str, args: tuple[Any, ...]) -> list[Any]:
    cursor = await connection.execute(
        f"SELECT id, url, kind, body, created_at FROM jsonld_context {where}", args
    )
    return [
        ContextRecord(i, url, kind, bytes(body), created)
        for i, url, kind, body, created in await cursor.fetchall()
    ]
