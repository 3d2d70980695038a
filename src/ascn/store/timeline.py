"""The history of attributes as SQL, shared by every backend (`?` marks parameters): the
instances of a window, per attribute at most lastN (the newest) or the page cap (the oldest), and
aggregations per period computed by the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from ascn.ngsild.entity import Entity
from ascn.ngsild.history import Record, derive, millis, row_values
from ascn.ngsild.temporal import Window
from ascn.store.base import Changes, Erase, Scope
from ascn.store.planner import Sql

COLUMNS = (
    "h.entity_id, h.attr, h.dataset, h.instance_id, h.observed_at, h.created_at, h.modified_at,"
    " h.deleted_at, h.instance"
)
OUTER = (
    "entity_id, attr, dataset, instance_id, observed_at, created_at, modified_at, deleted_at,"
    " instance"
)
INSERT = (
    "INSERT INTO history (tenant, entity_id, attr, dataset, instance_id, observed_at,"
    " observed_ms, created_at, created_ms, modified_at, modified_ms, deleted_at, deleted_ms,"
    " num, value, instance, kind) VALUES"
    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _where(sql: Sql, tenant: str, scope: Scope, window: Window) -> str:
    """Adds FROM and WHERE: the attributes each entity has a history of (history_attr) lead,
    so that each is read from the (tenant, entity, attribute, time) index within the window.
    Returns the time column."""
    column = f"h.{window.column}_ms"
    # CROSS JOIN keeps this order on SQLite (PostgreSQL plans it by cost either way).
    sql.add(
        " FROM history_attr a CROSS JOIN history h WHERE h.tenant = a.tenant"
        " AND h.entity_id = a.entity_id AND h.attr = a.attr AND a.tenant = ?",
        tenant,
    )
    sql.add(f" AND a.entity_id IN ({','.join('?' * len(scope.ids))})", *scope.ids)
    if scope.attrs is not None:
        sql.add(f" AND a.attr IN ({','.join('?' * len(scope.attrs))})", *sorted(scope.attrs))
    if scope.datasets is not None:
        marks = ",".join("?" * len(scope.datasets))
        sql.add(f" AND h.dataset IN ({marks})", *sorted(scope.datasets))
    if scope.instance_id is not None:
        sql.add(" AND h.instance_id = ?", scope.instance_id)
    sql.add(f" AND {column} IS NOT NULL")
    low, included, high = window.bounds()
    if low is not None:
        sql.add(f" AND {column} {'>=' if included else '>'} ?", low)
    if high is not None:
        sql.add(f" AND {column} < ?", high)
    return column


def instances(tenant: str, scope: Scope, window: Window, cap: int | None) -> Sql:
    """The instances of a window in time order per attribute: of each attribute (of each
    entity) the lastN newest, and then at most `cap` (the oldest, or with lastN the newest)."""
    inner = Sql().add(f"SELECT {COLUMNS}, h.seq")
    keep = min(n for n in (window.last_n, cap) if n is not None) if (window.last_n or cap) else 0
    where = Sql()
    column = _where(where, tenant, scope, window)
    if keep:
        order = "DESC" if window.last_n else "ASC"
        inner.add(
            f", row_number() OVER (PARTITION BY h.entity_id, h.attr ORDER BY {column} {order},"
            f" h.seq {order}) AS n"
        )
    inner.add(f", {column} AS t").extend(where)
    sql = Sql().add(f"SELECT {OUTER} FROM (").extend(inner).add(") r")
    if keep:
        sql.add(" WHERE n <= ?", keep)
    return sql.add(" ORDER BY entity_id, attr, t, seq")


def origin(tenant: str, scope: Scope, window: Window) -> Sql:
    """The earliest time in a window (the origin of aggregation periods without timeAt)."""
    sql = Sql().add(f"SELECT min(h.{window.column}_ms)")
    _where(sql, tenant, scope, window)
    return sql


def aggregate(
    tenant: str, scope: Scope, window: Window, start: int, period: int | None, distinct: bool
) -> Sql:
    """Aggregates per entity, attribute, dataset and period (periods of `period` ms from
    `start`; None: one period). Distinct values are counted only when `distinct` asks."""
    column = f"h.{window.column}_ms"
    bucket = f"({column} - ?) / ?" if period else "0"
    count_distinct = "count(DISTINCT h.value)" if distinct else "0"
    sql = Sql().add(
        f"SELECT h.entity_id, h.attr, h.dataset, min(h.kind), {bucket} AS period, count(*),"
        f" {count_distinct}, count(h.num), sum(h.num), avg(h.num), min(h.num), max(h.num),"
        " sum(h.num * h.num)",
        *((start, period) if period else ()),
    )
    _where(sql, tenant, scope, window)
    return sql.add(
        " GROUP BY h.entity_id, h.attr, h.dataset, period ORDER BY h.entity_id, h.attr, period"
    )


def record_of(row: Sequence[Any]) -> Record:
    """A Record from a row of COLUMNS."""
    entity_id, attr, dataset, instance_id, observed, created, modified, deleted, doc = row
    return Record(
        entity_id,
        attr,
        dataset,
        instance_id,
        orjson.loads(doc),
        observed,
        created,
        modified,
        deleted,
    )


def records_of(changes: Changes, existing: Mapping[str, Entity]) -> list[Record]:
    """The history records a transaction adds."""
    if changes.history is not None:
        return changes.history
    return derive(changes.puts, changes.deletes, existing)


def erase(tenant: str, target: Erase) -> list[Sql]:
    """Statements removing history (all of an entity's: its types too)."""
    sql = Sql().add("DELETE FROM history WHERE tenant = ? AND entity_id = ?", tenant)
    sql.args.append(target.entity_id)
    if target.attribute is not None:
        sql.add(" AND attr = ?", target.attribute)
    if target.dataset is not None:
        sql.add(" AND dataset = ?", target.dataset)
    if target.instance_id is not None:
        sql.add(" AND instance_id = ?", target.instance_id)
    if target.attribute is None and target.instance_id is None and target.dataset is None:
        entity = Sql().add("DELETE FROM history_entity WHERE tenant = ? AND id = ?", tenant)
        entity.args.append(target.entity_id)
        attributes = Sql().add("DELETE FROM history_attr WHERE tenant = ? AND entity_id = ?")
        attributes.args.extend((tenant, target.entity_id))
        return [sql, entity, attributes]
    return [sql]


def amend(tenant: str, record: Record) -> Sql:
    """Replace the content of one instance, keeping its id and creation time."""
    (
        _,
        _,
        _,
        _,
        observed,
        observed_ms,
        _,
        _,
        modified,
        modified_ms,
        _,
        _,
        num,
        value,
        doc,
        kind,
    ) = row_values([record])[0]
    return Sql().add(
        "UPDATE history SET observed_at = ?, observed_ms = ?, modified_at = ?, modified_ms = ?,"
        " num = ?, value = ?, instance = ?, kind = ?"
        " WHERE tenant = ? AND entity_id = ? AND attr = ? AND instance_id = ?",
        observed,
        observed_ms,
        modified,
        modified_ms,
        num,
        value,
        doc,
        kind,
        tenant,
        record.entity_id,
        record.attribute,
        record.instance_id,
    )


def replaced(tenant: str, records: list[Record]) -> list[tuple[Any, ...]]:
    """(tenant, entity id, attribute, dataset, observedAt in ms) of records that replace others
    (the same instant, however it is written)."""
    return [
        (tenant, r.entity_id, r.attribute, r.dataset, millis(r.observed_at))
        for r in records
        if r.observed_at is not None
    ]


REPLACE = (
    "DELETE FROM history WHERE tenant = ? AND entity_id = ? AND attr = ? AND dataset = ?"
    " AND observed_ms = ?"
)


def attributes(tenant: str, records: list[Record]) -> list[tuple[str, str, str]]:
    """(tenant, entity id, attribute) of the histories records add to."""
    return sorted({(tenant, r.entity_id, r.attribute) for r in records})


def typed(changes: Changes, existing: Mapping[str, Entity]) -> list[tuple[str, str]]:
    """(entity id, types JSON) of entities whose types the history must learn."""
    return [
        (e["id"], orjson.dumps(e["type"]).decode())
        for e in changes.puts
        if e["id"] not in existing or existing[e["id"]]["type"] != e["type"]
    ]
