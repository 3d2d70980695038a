"""The Store protocol, run against every backend."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

import psycopg
import pytest
from psycopg import sql

from ascn.errors import AlreadyExists, AscnError
from ascn.ngsild.qlang import TypeName, expand, parse_q
from ascn.ngsild.query import EntityQuery, Selector
from ascn.store import Changes, ContextRecord, Store, open_store
from ascn.store.postgres import schema as pg_schema
from ascn.store.sqlite import schema as sqlite_schema


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


SENSOR = "https://example.org/Sensor"


def of_type(kind: str, **more: Any) -> Selector:
    return Selector(
        types=TypeName(kind),
        **{("id_pattern" if k == "pattern" else k): v for k, v in more.items()},
    )


def sensor(number: int, kind: str = SENSOR) -> dict[str, Any]:
    return {
        "id": f"urn:ngsi-ld:Sensor:{number:03d}",
        "type": [kind],
        "createdAt": "2026-01-01T00:00:00.000Z",
        "modifiedAt": "2026-01-01T00:00:00.000Z",
        "attrs": {"https://example.org/n": [{"type": "Property", "value": number}]},
    }


def put_all(*entities: dict[str, Any]) -> Callable[[Mapping[str, Any]], tuple[Changes, None]]:
    def plan(existing: Mapping[str, Any]) -> tuple[Changes, None]:
        return Changes(puts=list(entities)), None

    return plan


async def scenario(url: str, body: Callable[[Store], Any]) -> Any:
    """Open a store, run `body` on it, close it."""
    store = open_store(url)
    await store.open()
    try:
        return await body(store)
    finally:
        await store.close()


def test_written_entities_read_back_after_reopening(store_url: str) -> None:
    async def write(store: Store) -> None:
        await store.transact("", [sensor(1)["id"]], put_all(sensor(1)))

    async def read(store: Store) -> dict[str, Any]:
        return await store.get_entities("", [sensor(1)["id"], "urn:ngsi-ld:Sensor:none"])

    run(scenario(store_url, write))
    assert run(scenario(store_url, read)) == {sensor(1)["id"]: sensor(1)}


def test_a_plan_that_fails_writes_nothing(store_url: str) -> None:
    def failing(existing: Mapping[str, Any]) -> tuple[Changes, None]:
        raise AlreadyExists("refused")

    async def body(store: Store) -> dict[str, Any]:
        with pytest.raises(AlreadyExists):
            await store.transact("city", [sensor(1)["id"]], failing)
        return await store.get_entities("city", [sensor(1)["id"]])

    assert run(scenario(store_url, body)) == {}


def test_concurrent_transactions_each_succeed_or_fail_alone(store_url: str) -> None:
    async def body(store: Store) -> list[Any]:
        def plan_for(number: int) -> Callable[[Mapping[str, Any]], tuple[Changes, int]]:
            def plan(existing: Mapping[str, Any]) -> tuple[Changes, int]:
                if number % 3 == 0:
                    raise AscnError(f"number {number} refused")
                return Changes(puts=[sensor(number)]), number

            return plan

        outcomes = await asyncio.gather(
            *(store.transact("", [sensor(n)["id"]], plan_for(n)) for n in range(30)),
            return_exceptions=True,
        )
        found, total = await store.query(
            "", EntityQuery(selectors=(of_type(SENSOR),), limit=100, count=True)
        )
        return [outcomes, [e["id"] for e in found], total]

    outcomes, ids, total = run(scenario(store_url, body))
    assert [n for n in outcomes if isinstance(n, int)] == [n for n in range(30) if n % 3]
    assert ids == [sensor(n)["id"] for n in range(30) if n % 3]
    assert total == 20


def test_plans_see_the_current_state_and_deletes_remove(store_url: str) -> None:
    seen: list[set[str]] = []

    def record_then_delete(existing: Mapping[str, Any]) -> tuple[Changes, None]:
        seen.append(set(existing))
        return Changes(deletes=list(existing)), None

    async def body(store: Store) -> dict[str, Any]:
        await store.transact("", ["x"], put_all(sensor(1), sensor(2)))
        await store.transact("", [sensor(1)["id"], sensor(9)["id"]], record_then_delete)
        return await store.get_entities("", [sensor(1)["id"], sensor(2)["id"]])

    remaining = run(scenario(store_url, body))
    assert seen == [{sensor(1)["id"]}]
    assert set(remaining) == {sensor(2)["id"]}


def test_tenants_are_isolated_and_created_by_their_first_write(store_url: str) -> None:
    async def body(store: Store) -> list[Any]:
        before = await store.tenant_exists("bangkok")
        await store.transact("bangkok", [sensor(1)["id"]], put_all(sensor(1)))
        return [
            before,
            await store.tenant_exists("bangkok"),
            await store.tenant_exists("hanoi"),
            await store.tenant_exists(""),
            await store.get_entities("", [sensor(1)["id"]]),
            await store.get_entities("bangkok", [sensor(1)["id"]]),
        ]

    before, after, other, default, in_default, in_bangkok = run(scenario(store_url, body))
    assert (before, after, other, default) == (False, True, False, True)
    assert in_default == {}
    assert set(in_bangkok) == {sensor(1)["id"]}


def test_query_by_type_id_pattern_and_attribute_with_pages(store_url: str) -> None:
    other = "https://example.org/Meter"

    async def body(store: Store) -> list[Any]:
        entities = [sensor(n) for n in range(10)] + [sensor(n, other) for n in range(10, 15)]
        await store.transact("", ["x"], put_all(*entities))
        retyped = sensor(3)
        retyped["type"] = [other]
        await store.transact("", [retyped["id"]], put_all(retyped))
        queries = [
            EntityQuery(selectors=(of_type(SENSOR),), limit=3, offset=2, count=True),
            EntityQuery(selectors=(of_type(other),), limit=20),
            EntityQuery(selectors=(of_type(other, pattern=r"Sensor:01[12]$"),), limit=20),
            EntityQuery(attrs=("https://example.org/none",), limit=20, count=True),
            EntityQuery(
                selectors=(of_type(other, ids=(sensor(1)["id"], sensor(12)["id"])),), limit=20
            ),
            EntityQuery(selectors=(of_type(SENSOR),), limit=0, count=True),
        ]
        answers = []
        for query in queries:
            found, total = await store.query("", query)
            answers.append(([e["id"] for e in found], total))
        return answers

    page, meters, pattern, none, by_id, count_only = run(scenario(store_url, body))
    ids = [f"urn:ngsi-ld:Sensor:{n:03d}" for n in range(15)]
    assert page == ([ids[2], ids[4], ids[5]], 9)
    assert meters == ([ids[3], *ids[10:15]], None)
    assert pattern == ([ids[11], ids[12]], None)
    assert none == ([], 0)
    assert by_id == ([ids[12]], None)
    assert count_only == ([], 9)


def test_query_values_are_bound_never_pasted(store_url: str) -> None:
    async def body(store: Store) -> list[Any]:
        await store.transact("", ["x"], put_all(sensor(1)))
        hostile = "x') OR 1=1 --"
        answers: list[Any] = []
        for query in (
            EntityQuery(selectors=(of_type(hostile),), limit=10),
            EntityQuery(selectors=(Selector(ids=(hostile,)),), limit=10),
            EntityQuery(attrs=('n"] OR 1=1 --',), limit=10),
            EntityQuery(selectors=(Selector(id_pattern="'; DROP TABLE entity; --"),), limit=10),
        ):
            answers.append((await store.query("", query))[0])
        answers.append(await store.get_entities("", [sensor(1)["id"]]))
        return answers

    *empty, still_there = run(scenario(store_url, body))
    assert empty == [[], [], [], []]
    assert set(still_there) == {sensor(1)["id"]}


def test_hosted_contexts_persist(store_url: str) -> None:
    record = ContextRecord("abc", "", "Hosted", b'{"@context": {}}', "2026-01-01T00:00:00.000Z")

    async def write(store: Store) -> None:
        await store.put_context(record)

    async def read(store: Store) -> list[Any]:
        return [
            await store.get_context("abc"),
            await store.list_contexts(),
            await store.delete_context("abc"),
            await store.delete_context("abc"),
            await store.get_context("abc"),
        ]

    run(scenario(store_url, write))
    got, listed, deleted, again, gone = run(scenario(store_url, read))
    assert got == record
    assert listed == [record]
    assert (deleted, again, gone) == (True, False, None)


def table_rows(url: str, text: str) -> list[tuple[Any, ...]]:
    """Rows of a SQL query run on the store's own tables, past the Store protocol."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return connection.execute(text).fetchall()
    base, schema = url.split("?schema=")
    with psycopg.connect(base) as connection:
        connection.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(schema)))
        return connection.execute(text.encode()).fetchall()


def test_migrations_are_recorded_once(store_url: str) -> None:
    run(scenario(store_url, lambda store: asyncio.sleep(0)))
    first = table_rows(store_url, "SELECT version, name, applied_at FROM schema_migration")
    run(scenario(store_url, lambda store: asyncio.sleep(0)))
    again = table_rows(store_url, "SELECT version, name, applied_at FROM schema_migration")
    assert first == again
    assert [row[0] for row in first] == list(range(1, len(first) + 1))
    migrations = (
        sqlite_schema.MIGRATIONS if store_url.startswith("sqlite") else pg_schema.MIGRATIONS
    )
    expected = [migration[0] for migration in migrations]
    assert [row[1] for row in first] == expected


def test_the_value_index_follows_the_attributes_named(store_url: str) -> None:
    """Queries answer the same with the value index or without it, and reopening the store with
    other attributes named fills the index for them and drops the rest."""
    n = "https://example.org/n"
    selective = EntityQuery(
        selectors=(of_type(SENSOR),),
        q=expand(parse_q("n>=97"), lambda name: "https://example.org/" + name),
        limit=10,
        count=True,
    )
    expected = ([sensor(k)["id"] for k in (97, 98, 99)], 3)

    async def write(store: Store) -> None:
        await store.transact("", ["x"], put_all(*(sensor(k) for k in range(100))))

    async def ask(store: Store) -> tuple[list[str], int | None]:
        found, total = await store.query("", selective)
        return [e["id"] for e in found], total

    async def on(indexed: frozenset[str], body: Callable[[Store], Any]) -> Any:
        store = open_store(store_url, indexed)
        await store.open()
        try:
            return await body(store)
        finally:
            await store.close()

    def index_rows() -> int:
        return int(table_rows(store_url, "SELECT count(*) FROM attr_value")[0][0])

    run(on(frozenset({n}), write))
    assert index_rows() == 100
    assert run(on(frozenset({n}), ask)) == expected
    assert run(on(frozenset(), ask)) == expected
    assert index_rows() == 0
    assert run(on(frozenset({n}), ask)) == expected
    assert index_rows() == 100
