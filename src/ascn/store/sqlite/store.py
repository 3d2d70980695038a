"""SqliteStore: the embedded default store.

Writes go to one writer thread (writer.py), committed with synchronous=FULL in WAL mode so that
an acknowledged write survives a crash or power loss. Reads run on a small pool of reader
threads, each with its own connection (WAL lets them read while the writer writes).
"""

from __future__ import annotations

import asyncio
import functools
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson

from ascn.errors import InternalError, InvalidSetting
from ascn.ngsild.geoquery import GeoQuery
from ascn.ngsild.history import Record, row_values
from ascn.ngsild.query import EntityQuery
from ascn.ngsild.temporal import Period, Window
from ascn.store import planner, timeline
from ascn.store.base import (
    CatalogRow,
    Changes,
    ContextRecord,
    Entity,
    Observer,
    Outgoing,
    Plan,
    Scope,
)
from ascn.store.outbox import OUTBOX_DUE, OUTBOX_INSERT, outbox_rows, outgoing
from ascn.store.sqlite.dialect import SqliteDialect
from ascn.store.sqlite.indexes import sync_value_index, write_indexes
from ascn.store.sqlite.schema import migrate
from ascn.store.sqlite.writer import Writer, translate

T = TypeVar("T")
READERS = 4
SCAN_BUDGET = 1000
"""Entities scanned in id order before a selective q hands the lead to its value index."""
CHUNK = 500
PRUNE_CHUNK = 10_000
"""History instances pruned per transaction."""
DIALECT = SqliteDialect()


class SqliteStore:
    def __init__(self, path: Path, indexed: frozenset[str] = frozenset()) -> None:
        self.path = path
        self.indexed = indexed
        """Attribute IRIs whose values are indexed (see indexes.py)."""
        self._writer: Writer | None = None
        self._reader_pool = ThreadPoolExecutor(READERS, thread_name_prefix="ascn-sqlite-reader")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._observer: Observer | None = None

    @classmethod
    def from_url(cls, url: str, indexed: frozenset[str] = frozenset()) -> SqliteStore:
        """sqlite:///relative.db (to the working directory) or sqlite:////absolute.db."""
        rest = url.removeprefix("sqlite://")
        if not rest.startswith("/") or len(rest) < 2:
            raise InvalidSetting(f"store URL {url!r}: expected sqlite:///path.db")
        return cls(Path(rest[1:]), indexed)

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = Writer(lambda: connect(self.path))
        await self._writer.alone(migrate)
        await self._writer.transaction(lambda c: sync_value_index(c, self.indexed))

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.stop()
        self._reader_pool.shutdown(wait=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def _reader(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = connect(self.path)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    async def _write(self, job: Callable[[sqlite3.Connection], T]) -> T:
        if self._writer is None:
            raise InternalError("the store is not open")
        return await self._writer.transaction(job)

    async def _read(self, job: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            try:
                return job(self._reader())
            except sqlite3.Error as error:
                raise translate(error) from error

        return await asyncio.get_running_loop().run_in_executor(self._reader_pool, call)

    async def tenant_exists(self, tenant: str) -> bool:
        if not tenant:
            return True
        return await self._read(
            lambda c: (
                c.execute("SELECT 1 FROM tenant WHERE name = ?", (tenant,)).fetchone() is not None
            )
        )

    async def get_entities(self, tenant: str, ids: Sequence[str]) -> dict[str, Entity]:
        return await self._read(lambda c: _fetch(c, tenant, ids))

    def watch(self, observer: Observer) -> None:
        self._observer = observer

    async def transact(self, tenant: str, ids: Sequence[str], plan: Plan[T]) -> T:
        observer = self._observer
        sent = False

        def job(connection: sqlite3.Connection) -> T:
            nonlocal sent
            existing = _fetch(connection, tenant, ids)
            changes, answer = plan(existing)
            _apply(connection, tenant, changes, existing, self.indexed)
            outgoing = list(changes.outbox)
            if observer is not None:
                outgoing += observer.notifications(tenant, existing, changes)
            if outgoing:
                connection.executemany(OUTBOX_INSERT, outbox_rows(tenant, outgoing))
                sent = True
            return answer

        answer = await self._write(job)
        if sent and observer is not None:
            observer.committed()
        return answer

    async def due_notifications(self, now: int, limit: int) -> list[Outgoing]:
        rows = await self._read(lambda c: c.execute(OUTBOX_DUE, (now, now, limit)).fetchall())
        return [outgoing(row) for row in rows]

    async def settle_notifications(
        self, delivered: Sequence[int], retries: Sequence[tuple[int, int, int]]
    ) -> None:
        def job(connection: sqlite3.Connection) -> None:
            connection.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in delivered])
            connection.executemany(
                "UPDATE outbox SET attempts = ?, next_ms = ? WHERE seq = ?",
                [(attempts, next_ms, seq) for seq, attempts, next_ms in retries],
            )

        await self._write(job)

    async def drop_notifications(self, tenant: str, subscription_id: str) -> int:
        return await self._write(
            lambda c: (
                c.execute(
                    "DELETE FROM outbox WHERE tenant = ? AND subscription_id = ?",
                    (tenant, subscription_id),
                ).rowcount
            )
        )

    async def query(self, tenant: str, query: EntityQuery) -> tuple[list[Entity], int | None]:
        def job(connection: sqlite3.Connection) -> tuple[list[Entity], int | None]:
            docs, counted = run_query(connection, tenant, query, self.indexed)
            return [orjson.loads(doc) for doc in docs], counted

        return await self._read(job)

    async def catalog(self, tenant: str) -> list[CatalogRow]:
        def job(connection: sqlite3.Connection) -> list[CatalogRow]:
            types = connection.execute(
                "SELECT type, NULL, NULL, count(*) FROM entity_type WHERE tenant = ? GROUP BY type",
                (tenant,),
            ).fetchall()
            attributes = connection.execute(
                "SELECT t.type, a.key, json_extract(i.value, '$.type'), count(*)"
                " FROM entity_type t JOIN entity e ON e.tenant = t.tenant AND e.id = t.id,"
                " json_each(e.doc, '$.attrs') a, json_each(a.value) i"
                " WHERE t.tenant = ? GROUP BY 1, 2, 3",
                (tenant,),
            ).fetchall()
            totals = connection.execute(
                "SELECT NULL, a.key, json_extract(i.value, '$.type'), count(*)"
                " FROM entity e, json_each(e.doc, '$.attrs') a, json_each(a.value) i"
                " WHERE e.tenant = ? GROUP BY 2, 3",
                (tenant,),
            ).fetchall()
            return [CatalogRow(*row) for row in [*types, *attributes, *totals]]

        return await self._read(job)

    async def history(
        self, tenant: str, scope: Scope, window: Window, cap: int | None
    ) -> list[Record]:
        sql = timeline.instances(tenant, scope, window, cap)
        rows = await self._read(lambda c: c.execute(sql.text, sql.args).fetchall())
        return [timeline.record_of(row) for row in rows]

    async def aggregate(
        self,
        tenant: str,
        scope: Scope,
        window: Window,
        period: int | None,
        start: int | None,
        distinct: bool = False,
    ) -> tuple[int | None, list[Period]]:
        def job(connection: sqlite3.Connection) -> tuple[int | None, list[Period]]:
            origin = start
            if origin is None:
                first = timeline.origin(tenant, scope, window)
                origin = connection.execute(first.text, first.args).fetchone()[0]
            if origin is None:
                return None, []
            sql = timeline.aggregate(tenant, scope, window, origin, period, distinct)
            return origin, [Period(*row) for row in connection.execute(sql.text, sql.args)]

        return await self._read(job)

    async def history_types(self, tenant: str, ids: Sequence[str]) -> dict[str, list[str]]:
        marks = ",".join("?" * len(ids))
        rows = await self._read(
            lambda c: c.execute(
                f"SELECT id, types FROM history_entity WHERE tenant = ? AND id IN ({marks})",
                (tenant, *ids),
            ).fetchall()
        )
        return {entity_id: orjson.loads(types) for entity_id, types in rows}

    async def prune_history(self, before: int) -> int:
        # In chunks, each its own transaction, so that writes go on between them.
        total = 0
        while True:
            pruned = await self._write(
                lambda c: (
                    c.execute(
                        "DELETE FROM history WHERE seq IN (SELECT seq FROM history"
                        " WHERE coalesce(observed_ms, created_ms, deleted_ms) < ? LIMIT ?)",
                        (before, PRUNE_CHUNK),
                    ).rowcount
                )
            )
            total += pruned
            if pruned < PRUNE_CHUNK:
                return total

    async def add_subscription(self, tenant: str, subscription: dict[str, Any]) -> bool:
        return await self._write(
            lambda c: (
                c.execute(
                    "INSERT INTO subscription (tenant, id, doc) VALUES (?, ?, ?)"
                    " ON CONFLICT (tenant, id) DO NOTHING",
                    (tenant, subscription["id"], orjson.dumps(subscription).decode()),
                ).rowcount
                > 0
            )
        )

    async def replace_subscription(self, tenant: str, subscription: dict[str, Any]) -> bool:
        return await self._write(
            lambda c: (
                c.execute(
                    "UPDATE subscription SET doc = ? WHERE tenant = ? AND id = ?",
                    (orjson.dumps(subscription).decode(), tenant, subscription["id"]),
                ).rowcount
                > 0
            )
        )

    async def get_subscription(self, tenant: str, subscription_id: str) -> dict[str, Any] | None:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT doc FROM subscription WHERE tenant = ? AND id = ?",
                (tenant, subscription_id),
            ).fetchall()
        )
        return orjson.loads(rows[0][0]) if rows else None

    async def list_subscriptions(
        self, tenant: str, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        def job(c: sqlite3.Connection) -> tuple[list[dict[str, Any]], int]:
            rows = c.execute(
                "SELECT doc FROM subscription WHERE tenant = ? ORDER BY id LIMIT ? OFFSET ?",
                (tenant, limit, offset),
            ).fetchall()
            total = c.execute(
                "SELECT count(*) FROM subscription WHERE tenant = ?", (tenant,)
            ).fetchone()[0]
            return [orjson.loads(row[0]) for row in rows], int(total)

        return await self._read(job)

    async def every_subscription(self) -> list[tuple[str, dict[str, Any]]]:
        rows = await self._read(
            lambda c: c.execute("SELECT tenant, doc FROM subscription").fetchall()
        )
        return [(tenant, orjson.loads(doc)) for tenant, doc in rows]

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        return await self._write(
            lambda c: (
                c.execute(
                    "DELETE FROM subscription WHERE tenant = ? AND id = ?",
                    (tenant, subscription_id),
                ).rowcount
                > 0
            )
        )

    async def put_context(self, record: ContextRecord) -> None:
        await self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO jsonld_context (id, url, kind, body, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (record.id, record.url, record.kind, record.body, record.created_at),
            )
        )

    async def get_context(self, context_id: str) -> ContextRecord | None:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT id, url, kind, body, created_at FROM jsonld_context WHERE id = ?",
                (context_id,),
            ).fetchall()
        )
        return ContextRecord(*rows[0]) if rows else None

    async def list_contexts(self) -> list[ContextRecord]:
        rows = await self._read(
            lambda c: c.execute(
                "SELECT id, url, kind, body, created_at FROM jsonld_context ORDER BY created_at, id"
            ).fetchall()
        )
        return [ContextRecord(*row) for row in rows]

    async def delete_context(self, context_id: str) -> bool:
        count = await self._write(
            lambda c: c.execute("DELETE FROM jsonld_context WHERE id = ?", (context_id,)).rowcount
        )
        return bool(count)


def run_query(
    connection: sqlite3.Connection,
    tenant: str,
    query: EntityQuery,
    indexed: frozenset[str] = frozenset(),
) -> tuple[list[str], int | None]:
    """The documents of a query's page, and the count if asked. With a q term the value index
    can answer, the index leads the query, unless scanning in id order finds the page's
    matches soon (an unselective q), which the scan probe tells."""
    leads = indexed
    probe = None
    if query.limit:
        probe = planner.scan_probe(DIALECT, tenant, query, SCAN_BUDGET, indexed)
    if probe is not None:
        found = connection.execute(probe.text, probe.args).fetchone()[0]
        leads = indexed if found < query.offset + query.limit else planner.NONE
    counted = None
    if query.count:
        total = planner.select(DIALECT, tenant, query, count=True, anchored=indexed)
        counted = connection.execute(total.text, total.args).fetchone()[0]
    docs: list[str] = []
    if query.limit:
        page = planner.select(DIALECT, tenant, query, anchored=leads)
        docs = [row[0] for row in connection.execute(page.text, page.args)]
    return docs, counted


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the node's pragmas and SQL functions (regexp, geo_match)."""
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("PRAGMA busy_timeout=10000")
    connection.execute("PRAGMA cache_size=-65536")
    connection.create_function("regexp", 2, _regexp, deterministic=True)
    connection.create_function("geo_match", 5, _geo_match, deterministic=True)
    return connection


def _regexp(pattern: str, value: Any) -> bool:
    return isinstance(value, str) and _compiled(pattern).search(value) is not None


def _geo_match(
    relation: str, geometry: str, most: float | None, least: float | None, value: str
) -> bool:
    return _geo_query(relation, geometry, most, least).matches(value)


@functools.lru_cache(maxsize=64)
def _geo_query(relation: str, geometry: str, most: float | None, least: float | None) -> GeoQuery:
    return GeoQuery(relation, orjson.loads(geometry), "", most, least)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _fetch(connection: sqlite3.Connection, tenant: str, ids: Sequence[str]) -> dict[str, Entity]:
    found: dict[str, Entity] = {}
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        marks = ",".join("?" * len(chunk))
        for entity_id, doc in connection.execute(
            f"SELECT id, doc FROM entity WHERE tenant = ? AND id IN ({marks})", (tenant, *chunk)
        ):
            found[entity_id] = orjson.loads(doc)
    return found


def _apply(
    connection: sqlite3.Connection,
    tenant: str,
    changes: Changes,
    existing: dict[str, Entity],
    indexed: frozenset[str],
) -> None:
    if changes.puts and tenant:
        connection.execute(
            "INSERT OR IGNORE INTO tenant (name, created_at) VALUES (?, ?)",
            (tenant, changes.puts[0]["modifiedAt"]),
        )
    write_indexes(connection, tenant, changes, existing, indexed)
    _write_history(connection, tenant, changes, existing)
    if changes.deletes:
        connection.executemany(
            "DELETE FROM entity WHERE tenant = ? AND id = ?",
            [(tenant, entity_id) for entity_id in changes.deletes],
        )
    if changes.puts:
        connection.executemany(
            "INSERT INTO entity (tenant, id, doc, created_at, modified_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (tenant, id) DO UPDATE SET doc = excluded.doc,"
            " created_at = excluded.created_at, modified_at = excluded.modified_at",
            [_row(tenant, entity) for entity in changes.puts],
        )


def _write_history(
    connection: sqlite3.Connection, tenant: str, changes: Changes, existing: dict[str, Entity]
) -> None:
    records = timeline.records_of(changes, existing)
    if changes.replace_observed:
        connection.executemany(timeline.REPLACE, timeline.replaced(tenant, records))
    for target in changes.erase:
        for sql in timeline.erase(tenant, target):
            connection.execute(sql.text, sql.args)
    for record in changes.amend:
        sql = timeline.amend(tenant, record)
        connection.execute(sql.text, sql.args)
    if records:
        connection.executemany(timeline.INSERT, [(tenant, *row) for row in row_values(records)])
        connection.executemany(
            "INSERT OR IGNORE INTO history_attr (tenant, entity_id, attr) VALUES (?, ?, ?)",
            timeline.attributes(tenant, records),
        )
    learned = timeline.typed(changes, existing)
    if learned:
        connection.executemany(
            "INSERT INTO history_entity (tenant, id, types) VALUES (?, ?, ?)"
            " ON CONFLICT (tenant, id) DO UPDATE SET types = excluded.types",
            [(tenant, *row) for row in learned],
        )


def _row(tenant: str, entity: Entity) -> tuple[Any, ...]:
    return (
        tenant,
        entity["id"],
        orjson.dumps(entity).decode(),
        entity["createdAt"],
        entity["modifiedAt"],
    )
