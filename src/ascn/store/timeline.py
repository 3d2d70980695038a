"""The history of attributes as SQL, shared by every backend (`?` marks parameters): the
instances of a window, per attribute at most lastN (the newest) or the page cap (the oldest), and
aggregations per period computed by the database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ascn.ngsild.entity import Entity
from ascn.ngsild.history import Record, derive, row_values
from ascn.ngsild.temporal import Window
from ascn.store.planner import Sql

if TYPE_CHECKING:
    from ascn.store.base import Changes, Erase

COLUMNS = (
    "entity_id, attr, dataset, instance_id, observed_at, created_at, modified_at, deleted_at,"
    " instance"
)
INSERT = (
    "INSERT INTO history (tenant, entity_id, attr, dataset, instance_id, observed_at,"
    " observed_ms, created_at, created_ms, modified_at, modified_ms, deleted_at, deleted_ms,"
    " num, value, instance, kind) VALUES"
    " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose history: entity ids, and optionally attribute IRIs and datasets ("" default)."""

    ids: Sequence[str]
    attrs: frozenset[str] | None = None
    datasets: frozenset[str] | None = None
    instance_id: str | None = None


def _where(sql: Sql, tenant: str, scope: Scope, window: Window) -> str:
    """Adds the WHERE clause; returns the time column."""
    column = f"{window.column}_ms"
    sql.add(" WHERE tenant = ?", tenant)
    sql.add(f" AND entity_id IN ({','.join('?' * len(scope.ids))})", *scope.ids)
    if scope.attrs is not None:
        sql.add(f" AND attr IN ({','.join('?' * len(scope.attrs))})", *sorted(scope.attrs))
    if scope.datasets is not None:
        sql.add(f" AND dataset IN ({','.join('?' * len(scope.datasets))})", *sorted(scope.datasets))
    if scope.instance_id is not None:
        sql.add(" AND instance_id = ?", scope.instance_id)
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
    inner = Sql().add(f"SELECT {COLUMNS}, seq")
    keep = min(n for n in (window.last_n, cap) if n is not None) if (window.last_n or cap) else 0
    where = Sql()
    column = _where(where, tenant, scope, window)
    if keep:
        order = "DESC" if window.last_n else "ASC"
        inner.add(
            f", row_number() OVER (PARTITION BY entity_id, attr ORDER BY {column} {order}, seq"
            f" {order}) AS n"
        )
    inner.add(f", {column} AS t FROM history").extend(where)
    sql = Sql().add(f"SELECT {COLUMNS} FROM (").extend(inner).add(") h")
    if keep:
        sql.add(" WHERE n <= ?", keep)
    return sql.add(" ORDER BY entity_id, attr, t, seq")


def origin(tenant: str, scope: Scope, window: Window) -> Sql:
    """The earliest time in a window (the origin of aggregation periods without timeAt)."""
    sql = Sql().add(f"SELECT min({window.column}_ms) FROM history")
    _where(sql, tenant, scope, window)
    return sql


def aggregate(tenant: str, scope: Scope, window: Window, start: int, period: int | None) -> Sql:
    """Aggregates per entity, attribute, dataset and period (periods of `period` ms from
    `start`; None: one period)."""
    column = f"{window.column}_ms"
    bucket = f"({column} - ?) / ?" if period else "0"
    sql = Sql().add(
        f"SELECT entity_id, attr, dataset, min(kind), {bucket} AS period, count(*),"
        " count(DISTINCT value), count(num), sum(num), avg(num), min(num), max(num),"
        " sum(num * num) FROM history",
        *((start, period) if period else ()),
    )
    _where(sql, tenant, scope, window)
    return sql.add(" GROUP BY entity_id, attr, dataset, period ORDER BY entity_id, attr, period")


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
        return [sql, entity]
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
    """(tenant, entity id, attribute, dataset, observedAt) of records that replace others."""
    return [
        (tenant, r.entity_id, r.attribute, r.dataset, r.observed_at)
        for r in records
        if r.observed_at is not None
    ]


REPLACE = (
    "DELETE FROM history WHERE tenant = ? AND entity_id = ? AND attr = ? AND dataset = ?"
    " AND observed_at = ?"
)


def typed(changes: Changes, existing: Mapping[str, Entity]) -> list[tuple[str, str]]:
    """(entity id, types JSON) of entities whose types the history must learn."""
    return [
        (e["id"], orjson.dumps(e["type"]).decode())
        for e in changes.puts
        if e["id"] not in existing or existing[e["id"]]["type"] != e["type"]
    ]
