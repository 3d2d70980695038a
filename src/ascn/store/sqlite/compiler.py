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

NONE: frozenset[str] = frozenset()
MAX_INDEXED_TEXT = 100
"""Strings up to this length are kept in the value index (longer ones are still matched)."""
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


@dataclass(slots=True)
class _Plan:
    source: Sql
    """FROM ... WHERE ... of what drives the query."""
    conditions: Sql
    """" AND ..." conditions checked on each entity the source yields."""
    order: str
    by_type: bool = False


def _plan(tenant: str, query: EntityQuery, anchored: frozenset[str]) -> _Plan:
    selector = query.selectors[0] if len(query.selectors) == 1 else None
    single = _single_type(selector.types) if selector is not None else None
    box = query.geo.box() if query.geo is not None else None
    plan = _Plan(Sql().add("FROM entity e WHERE e.tenant = ?", tenant), Sql(), "e.id")
    if query.geo is not None and box is not None:
        plan.source.add(
            " AND e.id IN (SELECT g.eid FROM geo g WHERE g.id IN (SELECT b.id FROM geo_box b"
            " WHERE b.min_x <= ? AND b.max_x >= ? AND b.min_y <= ? AND b.max_y >= ?)"
            " AND +g.tenant = ? AND +g.attr = ?)",
            box[2],
            box[0],
            box[3],
            box[1],
            tenant,
            query.geo.property,
        )
    elif (term := anchor(query, anchored)) is not None:
        plan.source.add(" AND e.id IN (")
        _value_lookup(plan.source, tenant, term)
        plan.source.add(")")
    elif single is not None and selector is not None and selector.ids is None:
        plan = _Plan(
            Sql().add(
                "FROM entity_type t JOIN entity e ON e.tenant = t.tenant AND e.id = t.id"
                " WHERE t.tenant = ? AND t.type = ?",
                tenant,
                single,
            ),
            Sql(),
            "t.id",
            by_type=True,
        )
        if selector.id_pattern is not None:
            plan.conditions.add(" AND regexp(?, t.id)", selector.id_pattern)
    if not plan.by_type:
        _selectors(plan.conditions, query.selectors)
    _filters(plan.conditions, query)
    return plan


def select(
    tenant: str, query: EntityQuery, *, count: bool = False, anchored: frozenset[str] = NONE
) -> Sql:
    """SELECT e.doc (or count(*)) of the entities a query selects, in id order, paged. When the
    query's anchor term (see anchor) is on one of the `anchored` attributes, their value index
    drives the query."""
    plan = _plan(tenant, query, anchored)
    if plan.by_type and not plan.conditions.parts:
        # Only the type selects: the count is kept per type, pages come from the type index.
        single = plan.source.args[1]
        if count:
            return Sql().add(
                "SELECT coalesce((SELECT n FROM type_count WHERE tenant = ? AND type = ?), 0)",
                tenant,
                single,
            )
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
    whole = Sql().add("SELECT count(*) " if count else "SELECT e.doc ")
    whole.add(plan.source.text, *plan.source.args).add(plan.conditions.text, *plan.conditions.args)
    if not count:
        whole.add(f" ORDER BY {plan.order} LIMIT ? OFFSET ?", query.limit, query.offset)
    return whole


def scan_probe(tenant: str, query: EntityQuery, budget: int, indexed: frozenset[str]) -> Sql | None:
    """For a query with an anchor term that would otherwise scan in id order: how many of the
    matches its page needs are found within the first `budget` entities scanned. Fewer than
    needed means the q is selective, and the anchor's value index should lead instead."""
    if anchor(query, indexed) is None:
        return None
    plan = _plan(tenant, query, anchored=NONE)
    if not plan.source.text.startswith("FROM entity_type") and query.selectors:
        return None
    need = query.offset + query.limit
    return (
        Sql()
        .add("SELECT count(*) FROM (SELECT 1 FROM (SELECT (1")
        .add(plan.conditions.text, *plan.conditions.args)
        .add(") AS ok ")
        .add(plan.source.text, *plan.source.args)
        .add(f" ORDER BY {plan.order} LIMIT ?) WHERE ok LIMIT ?)", budget, need)
    )


def _filters(sql: Sql, query: EntityQuery) -> None:
    """The conditions on each entity besides its ids and types: attrs, q, scopeQ, geo."""
    if query.attrs is not None:
        sql.add(" AND (")
        for index, iri in enumerate(query.attrs):
            sql.add(" OR " if index else "")
            sql.add("json_type(e.doc, ?) IS NOT NULL", attribute_path(iri))
        sql.add(")")
    for expression in (query.q, query.scope):
        if expression is not None:
            sql.add(" AND ")
            _expression(sql, expression)
    if query.geo is not None:
        geo = query.geo
        sql.add(
            " AND EXISTS (SELECT 1 FROM geo g WHERE g.tenant = e.tenant AND g.eid = e.id"
            " AND g.attr = ? AND geo_match(?, ?, ?, ?, g.geojson))",
            geo.property,
            geo.relation,
            orjson.dumps(geo.geometry).decode(),
            geo.max_distance,
            geo.min_distance,
        )


def anchor(query: EntityQuery, indexed: frozenset[str]) -> Comparison | None:
    """A term of the q that every match must satisfy and that the value index can answer: a
    comparison of a whole `indexed` attribute with numbers, or its equality with short
    strings."""
    if query.q is None:
        return None
    terms = query.q.items if isinstance(query.q, Logical) and query.q.op == ";" else (query.q,)
    for term in terms:
        if not isinstance(term, Comparison) or term.path.sub or term.path.keys:
            continue
        if term.path.attribute not in indexed:
            continue
        kinds = {literal.kind for literal in term.values}
        if term.op in (">", ">=", "<", "<=", "==") and kinds == {"number"}:
            return term
        if (
            term.op == "=="
            and not term.range
            and kinds <= {"string", "uri"}
            and all(len(str(literal.value)) <= MAX_INDEXED_TEXT for literal in term.values)
        ):
            return term
    return None


def _value_lookup(sql: Sql, tenant: str, term: Comparison) -> None:
    sql.add(
        "SELECT v.id FROM attr_value v WHERE v.tenant = ? AND v.attr = ?",
        tenant,
        term.path.attribute,
    )
    if {literal.kind for literal in term.values} == {"number"}:
        if term.range:
            sql.add(" AND v.num BETWEEN ? AND ?", term.values[0].value, term.values[1].value)
        elif term.op == "==":
            marks = ",".join("?" * len(term.values))
            sql.add(f" AND v.num IN ({marks})", *(literal.value for literal in term.values))
        else:
            sql.add(f" AND v.num {term.op} ?", term.values[0].value)
    else:
        marks = ",".join("?" * len(term.values))
        sql.add(f" AND v.txt IN ({marks})", *(str(literal.value) for literal in term.values))


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
    kinds = ["uri"] if term.op in ("~=", "!~=") else [literal.kind for literal in term.values]
    sql.add("(")
    for index, (value_path, members) in enumerate(_value_paths(term.path, kinds)):
        if index:
            sql.add(" OR ")
        sql.add("EXISTS (SELECT 1 FROM json_each(i.value, ?) v WHERE ", value_path)
        if not members:
            # Elements of an array count as values; members of an object do not.
            sql.add("typeof(v.key) != 'text' AND ")
        _predicate(sql, term)
        sql.add(")")
    sql.add("))")
    if negated:
        sql.add(")")


def _value_paths(path: Path, kinds: list[str]) -> list[tuple[str, bool]]:
    """JSON paths, within an attribute instance, of the values a comparison looks at, each
    with whether the members of an object there are values (languageMap) or not."""
    prefix = _instance_prefix(path)
    if path.sub and path.sub[-1] in MEMBERS:
        return [(prefix + _keys(path.keys), False)]
    members = dict.fromkeys(member for kind in kinds for member in VALUE_MEMBERS[kind])
    return [
        (f"{prefix}.{member}{_keys(path.keys)}", member == "languageMap" and not path.keys)
        for member in members
    ]


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
