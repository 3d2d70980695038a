"""An EntityQuery as SQLite SQL. Every value, name and JSON path reaches SQL as a bound
parameter; the SQL text holds only fixed fragments chosen by the query's shape.

The query picks what drives it, so that SQLite walks an index rather than every entity: the
R*Tree box of a geo-query, a list of ids, or the (tenant, type, id) index of a single type, whose
order is the stable order of results; otherwise the (tenant, id) index of entities.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ascn.ngsild.qlang import (
    MEMBERS,
    Comparison,
    Exists,
    Expression,
    Literal,
    Logical,
    Path,
    ScopeMatch,
    TypeName,
)
from ascn.ngsild.query import EntityQuery, Selector

SQL_OPS = {"==": "=", "!=": "=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
VALUE_MEMBERS = {
    "number": ("value", "valueList"),
    "boolean": ("value", "valueList"),
    "datetime": ("value", "valueList"),
    "date": ("value", "valueList"),
    "time": ("value", "valueList"),
    "string": ("value", "valueList", "languageMap", "json"),
    "uri": ("value", "object", "vocab", "valueList", "languageMap"),
}
"""Where in an attribute a value of each kind can be found (its type decides the member)."""


@dataclass(slots=True)
class Sql:
    """SQL text and its parameters, built together so that they stay in step."""

    parts: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, text: str, *args: Any) -> Sql:
        self.parts.append(text)
        self.args.extend(args)
        return self

    @property
    def text(self) -> str:
        return "".join(self.parts)


def attribute_path(iri: str) -> str:
    return f'$.attrs."{iri}"'


def select(tenant: str, query: EntityQuery, *, count: bool = False) -> Sql:
    """SELECT e.doc (or count(*)) of the entities a query selects, in id order, paged."""
    sql = Sql()
    conditions = Sql()
    selector = query.selectors[0] if len(query.selectors) == 1 else None
    single = _single_type(selector.types) if selector is not None else None
    box = query.geo.box() if query.geo is not None else None
    driver = "e"
    if query.geo is not None and box is not None:
        sql.add("FROM entity e WHERE e.tenant = ?", tenant)
        sql.add(
            " AND e.id IN (SELECT g.eid FROM geo_box b JOIN geo g ON g.id = b.id"
            " WHERE b.min_x <= ? AND b.max_x >= ? AND b.min_y <= ? AND b.max_y >= ?"
            " AND g.tenant = ? AND g.attr = ?)",
            box[2],
            box[0],
            box[3],
            box[1],
            tenant,
            query.geo.property,
        )
        _selectors(conditions, query.selectors)
    elif single is not None and selector is not None and selector.ids is None:
        driver = "t"
        sql.add(
            "FROM entity_type t JOIN entity e ON e.tenant = t.tenant AND e.id = t.id"
            " WHERE t.tenant = ? AND t.type = ?",
            tenant,
            single,
        )
        if selector.id_pattern is not None:
            conditions.add(" AND regexp(?, t.id)", selector.id_pattern)
    else:
        sql.add("FROM entity e WHERE e.tenant = ?", tenant)
        _selectors(conditions, query.selectors)
    if query.attrs is not None and query.q is None:
        conditions.add(" AND (")
        for index, iri in enumerate(query.attrs):
            conditions.add(" OR " if index else "")
            conditions.add("json_type(e.doc, ?) IS NOT NULL", attribute_path(iri))
        conditions.add(")")
    for expression in (query.q, query.scope):
        if expression is not None:
            conditions.add(" AND ")
            _expression(conditions, expression)
    if query.geo is not None:
        geo = query.geo
        conditions.add(
            " AND EXISTS (SELECT 1 FROM geo g WHERE g.tenant = e.tenant AND g.eid = e.id"
            " AND g.attr = ? AND geo_match(?, ?, ?, ?, g.geojson))",
            geo.property,
            geo.relation,
            orjson.dumps(geo.geometry).decode(),
            geo.max_distance,
            geo.min_distance,
        )
    if count:
        return (
            Sql()
            .add("SELECT count(*) ")
            .add(sql.text, *sql.args)
            .add(conditions.text, *conditions.args)
        )
    if driver == "t" and not conditions.parts:
        # Only the type selects: page through the covering type index alone, then fetch.
        return Sql().add(
            "SELECT e.doc FROM entity e WHERE e.tenant = ? AND e.id IN (SELECT t.id FROM"
            " entity_type t WHERE t.tenant = ? AND t.type = ? ORDER BY t.id LIMIT ? OFFSET ?)"
            " ORDER BY e.id",
            tenant,
            tenant,
            single,
            query.limit,
            query.offset,
        )
    order = "t.id" if driver == "t" else "e.id"
    return (
        Sql()
        .add("SELECT e.doc ")
        .add(sql.text, *sql.args)
        .add(conditions.text, *conditions.args)
        .add(f" ORDER BY {order} LIMIT ? OFFSET ?", query.limit, query.offset)
    )


def _selectors(sql: Sql, selectors: tuple[Selector, ...]) -> None:
    """Any of the selectors: each holds when its ids, pattern and types all do."""
    if not selectors:
        return
    sql.add(" AND (")
    for index, selector in enumerate(selectors):
        sql.add(" OR " if index else "").add("(1")
        if selector.ids is not None:
            sql.add(f" AND e.id IN ({','.join('?' * len(selector.ids))})", *selector.ids)
        if selector.id_pattern is not None:
            sql.add(" AND regexp(?, e.id)", selector.id_pattern)
        if selector.types is not None:
            sql.add(" AND ")
            _expression(sql, selector.types)
        sql.add(")")
    sql.add(")")


def _single_type(types: Expression | None) -> str | None:
    return types.name if isinstance(types, TypeName) else None


def _expression(sql: Sql, expression: Expression) -> None:
    if isinstance(expression, Logical):
        joiner = " AND " if expression.op == ";" else " OR "
        sql.add("(")
        for index, item in enumerate(expression.items):
            if index:
                sql.add(joiner)
            _expression(sql, item)
        sql.add(")")
    elif isinstance(expression, TypeName):
        sql.add(
            "EXISTS (SELECT 1 FROM entity_type x WHERE x.tenant = e.tenant AND x.id = e.id"
            " AND x.type = ?)",
            expression.name,
        )
    elif isinstance(expression, ScopeMatch):
        sql.add(
            "EXISTS (SELECT 1 FROM json_each(e.doc, '$.scope') s WHERE regexp(?, s.value))",
            expression.regex(),
        )
    elif isinstance(expression, Exists):
        if expression.negated:
            sql.add("NOT ")
        _exists(sql, expression.path)
    else:
        _comparison(sql, expression)


def _exists(sql: Sql, path: Path) -> None:
    if not path.sub and not path.keys:
        sql.add("json_type(e.doc, ?) IS NOT NULL", attribute_path(path.attribute))
        return
    inner = _instance_prefix(path)
    if path.keys:
        inner += ".value" + _keys(path.keys)
    sql.add(
        "EXISTS (SELECT 1 FROM json_each(e.doc, ?) i WHERE json_type(i.value, ?) IS NOT NULL)",
        attribute_path(path.attribute),
        inner,
    )


def _comparison(sql: Sql, term: Comparison) -> None:
    negated = term.op in ("!=", "!~=")
    if negated:
        sql.add("(")
        _exists(sql, term.path)
        sql.add(" AND NOT ")
    sql.add(
        "EXISTS (SELECT 1 FROM json_each(e.doc, ?) i WHERE ", attribute_path(term.path.attribute)
    )
    paths = _value_paths(term.path, term.values[0].kind if term.op not in ("~=", "!~=") else "uri")
    sql.add("(")
    for index, value_path in enumerate(paths):
        if index:
            sql.add(" OR ")
        sql.add("EXISTS (SELECT 1 FROM json_each(i.value, ?) v WHERE ", value_path)
        _predicate(sql, term)
        sql.add(")")
    sql.add("))")
    if negated:
        sql.add(")")


def _value_paths(path: Path, kind: str) -> list[str]:
    prefix = _instance_prefix(path)
    if path.sub and path.sub[-1] in MEMBERS:
        return [prefix + _keys(path.keys)]
    return [f"{prefix}.{member}{_keys(path.keys)}" for member in VALUE_MEMBERS[kind]]


def _instance_prefix(path: Path) -> str:
    prefix = "$"
    for name in path.sub:
        prefix += f".{name}" if name in MEMBERS else f'."{name}"'
    return prefix


def _keys(keys: tuple[str, ...]) -> str:
    return "".join(f'."{key}"' for key in keys)


def _predicate(sql: Sql, term: Comparison) -> None:
    if term.op in ("~=", "!~="):
        sql.add("v.type = 'text' AND regexp(?, v.value)", term.values[0].value)
        return
    if term.range:
        low, high = term.values
        sql.add("(")
        _compare(sql, ">=", low)
        sql.add(" AND ")
        _compare(sql, "<=", high)
        sql.add(")")
        return
    sql.add("(")
    for index, literal in enumerate(term.values):
        if index:
            sql.add(" OR ")
        _compare(sql, SQL_OPS[term.op] if term.op != "!=" else "=", literal)
    sql.add(")")


def _compare(sql: Sql, op: str, literal: Literal) -> None:
    op = SQL_OPS.get(op, op)
    if literal.kind == "number":
        sql.add(f"(v.type IN ('integer', 'real') AND v.value {op} ?)", literal.value)
    elif literal.kind == "boolean":
        if op == "=":
            sql.add("v.type = ?", "true" if literal.value else "false")
        else:
            sql.add("0")
    elif literal.kind == "datetime":
        sql.add(f"(v.type = 'text' AND julianday(v.value) {op} julianday(?))", literal.value)
    else:
        sql.add(f"(v.type = 'text' AND v.value {op} ?)", str(literal.value))
