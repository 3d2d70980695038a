"""An EntityQuery as SQL, shared by every backend. Every value, name and JSON path reaches SQL
as a bound parameter; the SQL text holds only fixed fragments chosen by the query's shape.

The query picks what drives it, so that the database walks an index rather than every entity:
the geometry index around a geo-query, the value index of a selective q term, a list of ids, or
the (tenant, type, id) index of a single type, whose order is the stable order of results;
otherwise the (tenant, id) key of entities. What differs between databases (JSON access, regular
expressions, geometry) is asked of a Dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ascn.ngsild.geoquery import Box, GeoQuery
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
    """SQL text and its parameters, built together so that they stay in step. `?` marks a
    parameter (a backend with another mark rewrites it), so fragments hold no other `?`."""

    parts: list[str] = field(default_factory=list)
    args: list[Any] = field(default_factory=list)

    def add(self, text: str, *args: Any) -> Sql:
        self.parts.append(text)
        self.args.extend(args)
        return self

    def extend(self, other: Sql) -> Sql:
        return self.add(other.text, *other.args)

    @property
    def text(self) -> str:
        return "".join(self.parts)


@dataclass(frozen=True, slots=True)
class ValuePath:
    """Where, inside one attribute instance, the values a comparison looks at lie: names from
    the instance down, and whether the members of an object there are values (languageMap)."""

    names: tuple[str, ...]
    members: bool


class Dialect(Protocol):
    """The fragments whose SQL differs between databases. `e` is the entity row (columns
    tenant, id and doc) each fragment tests."""

    def regexp(self, sql: Sql, column: str, pattern: str) -> None: ...

    def has_attribute(self, sql: Sql, iri: str) -> None: ...

    def exists(self, sql: Sql, attribute: str, inner: tuple[str, ...]) -> None:
        """Whether some instance of the attribute holds the member at `inner`."""

    def compare(self, sql: Sql, term: Comparison, paths: list[ValuePath]) -> None:
        """Whether some instance of the term's attribute holds, at one of `paths`, a value
        (a scalar, or an element of an array) that satisfies the term."""

    def scope(self, sql: Sql, regex: str) -> None: ...

    def geo_candidates(self, sql: Sql, tenant: str, geo: GeoQuery, box: Box) -> None:
        """The ids of entities whose indexed geometry of geo.property meets the box."""

    def geo_match(self, sql: Sql, geo: GeoQuery) -> None:
        """Whether the entity's geo.property stands in the query's relation."""


@dataclass(slots=True)
class _Plan:
    source: Sql
    """FROM ... WHERE ... of what drives the query."""
    conditions: Sql
    """" AND ..." conditions checked on each entity the source yields."""
    order: str
    by_type: bool = False


def _plan(dialect: Dialect, tenant: str, query: EntityQuery, anchored: frozenset[str]) -> _Plan:
    selector = query.selectors[0] if len(query.selectors) == 1 else None
    single = _single_type(selector.types) if selector is not None else None
    box = query.geo.box() if query.geo is not None else None
    plan = _Plan(Sql().add("FROM entity e WHERE e.tenant = ?", tenant), Sql(), "e.id")
    if query.geo is not None and box is not None:
        plan.source.add(" AND e.id IN (")
        dialect.geo_candidates(plan.source, tenant, query.geo, box)
        plan.source.add(")")
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
            plan.conditions.add(" AND ")
            dialect.regexp(plan.conditions, "t.id", selector.id_pattern)
    if not plan.by_type:
        _selectors(dialect, plan.conditions, query.selectors)
    _filters(dialect, plan.conditions, query)
    return plan


def select(
    dialect: Dialect,
    tenant: str,
    query: EntityQuery,
    *,
    count: bool = False,
    anchored: frozenset[str] = NONE,
    doc: str = "e.doc",
) -> Sql:
    """SELECT `doc` (or count(*)) of the entities a query selects, in id order, paged. When
    the query's anchor term (see anchor) is on one of the `anchored` attributes, their value
    index drives the query."""
    plan = _plan(dialect, tenant, query, anchored)
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
            f"SELECT {doc} FROM entity e WHERE e.tenant = ? AND e.id IN (SELECT t.id FROM"
            " entity_type t WHERE t.tenant = ? AND t.type = ? ORDER BY t.id LIMIT ? OFFSET ?)"
            " ORDER BY e.id",
            tenant,
            tenant,
            single,
            query.limit,
            query.offset,
        )
    whole = Sql().add("SELECT count(*) " if count else f"SELECT {doc} ")
    whole.extend(plan.source).extend(plan.conditions)
    if not count:
        whole.add(f" ORDER BY {plan.order} LIMIT ? OFFSET ?", query.limit, query.offset)
    return whole


def scan_probe(
    dialect: Dialect, tenant: str, query: EntityQuery, budget: int, indexed: frozenset[str]
) -> Sql | None:
    """For a query with an anchor term that would otherwise scan in id order: how many of the
    matches its page needs are found within the first `budget` entities scanned. Fewer than
    needed means the q is selective, and the anchor's value index should lead instead."""
    if anchor(query, indexed) is None:
        return None
    plan = _plan(dialect, tenant, query, anchored=NONE)
    if not plan.by_type and query.selectors:
        return None
    need = query.offset + query.limit
    return (
        Sql()
        .add("SELECT count(*) FROM (SELECT 1 FROM (SELECT (1 = 1")
        .extend(plan.conditions)
        .add(") AS ok ")
        .extend(plan.source)
        .add(f" ORDER BY {plan.order} LIMIT ?) probe WHERE ok LIMIT ?) found", budget, need)
    )


def _filters(dialect: Dialect, sql: Sql, query: EntityQuery) -> None:
    """The conditions on each entity besides its ids and types: attrs, q, scopeQ, geo."""
    if query.attrs is not None:
        sql.add(" AND (")
        for index, iri in enumerate(query.attrs):
            sql.add(" OR " if index else "")
            dialect.has_attribute(sql, iri)
        sql.add(")")
    for expression in (query.q, query.scope):
        if expression is not None:
            sql.add(" AND ")
            _expression(dialect, sql, expression)
    if query.geo is not None:
        sql.add(" AND ")
        dialect.geo_match(sql, query.geo)


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


def _selectors(dialect: Dialect, sql: Sql, selectors: tuple[Selector, ...]) -> None:
    """Any of the selectors: each holds when its ids, pattern and types all do."""
    if not selectors:
        return
    sql.add(" AND (")
    for index, selector in enumerate(selectors):
        sql.add(" OR " if index else "").add("(1 = 1")
        if selector.ids is not None:
            sql.add(f" AND e.id IN ({','.join('?' * len(selector.ids))})", *selector.ids)
        if selector.id_pattern is not None:
            sql.add(" AND ")
            dialect.regexp(sql, "e.id", selector.id_pattern)
        if selector.types is not None:
            sql.add(" AND ")
            _expression(dialect, sql, selector.types)
        sql.add(")")
    sql.add(")")


def _single_type(types: Expression | None) -> str | None:
    return types.name if isinstance(types, TypeName) else None


def _expression(dialect: Dialect, sql: Sql, expression: Expression) -> None:
    if isinstance(expression, Logical):
        joiner = " AND " if expression.op == ";" else " OR "
        sql.add("(")
        for index, item in enumerate(expression.items):
            if index:
                sql.add(joiner)
            _expression(dialect, sql, item)
        sql.add(")")
    elif isinstance(expression, TypeName):
        sql.add(
            "EXISTS (SELECT 1 FROM entity_type x WHERE x.tenant = e.tenant AND x.id = e.id"
            " AND x.type = ?)",
            expression.name,
        )
    elif isinstance(expression, ScopeMatch):
        dialect.scope(sql, expression.regex())
    elif isinstance(expression, Exists):
        if expression.negated:
            sql.add("NOT ")
        _exists(dialect, sql, expression.path)
    else:
        _comparison(dialect, sql, expression)


def _exists(dialect: Dialect, sql: Sql, path: Path) -> None:
    if not path.sub and not path.keys:
        dialect.has_attribute(sql, path.attribute)
        return
    inner = path.sub + (("value", *path.keys) if path.keys else ())
    dialect.exists(sql, path.attribute, inner)


def _comparison(dialect: Dialect, sql: Sql, term: Comparison) -> None:
    negated = term.op in ("!=", "!~=")
    if negated:
        sql.add("(")
        _exists(dialect, sql, term.path)
        sql.add(" AND NOT ")
    kinds = ["uri"] if term.op in ("~=", "!~=") else [literal.kind for literal in term.values]
    dialect.compare(sql, term, value_paths(term.path, kinds))
    if negated:
        sql.add(")")


SQL_OPS = {"==": "=", "!=": "=", ">": ">", ">=": ">=", "<": "<", "<=": "<="}
Compare = Callable[[Sql, str, Literal], None]
"""A dialect's test of the current value against one literal with an SQL operator."""


def predicate(sql: Sql, term: Comparison, compare: Compare) -> None:
    """A comparison's test of one value (not the pattern operators): a range, or any of the
    literals of a list, each tested by the dialect's `compare`."""
    if term.range:
        low, high = term.values
        sql.add("(")
        compare(sql, ">=", low)
        sql.add(" AND ")
        compare(sql, "<=", high)
        sql.add(")")
        return
    sql.add("(")
    for index, literal in enumerate(term.values):
        if index:
            sql.add(" OR ")
        compare(sql, SQL_OPS[term.op], literal)
    sql.add(")")


def value_paths(path: Path, kinds: list[str]) -> list[ValuePath]:
    """Where, within an attribute instance, the values a comparison looks at can lie."""
    if path.sub and path.sub[-1] in MEMBERS:
        return [ValuePath(path.sub + path.keys, False)]
    members = dict.fromkeys(member for kind in kinds for member in VALUE_MEMBERS[kind])
    return [
        ValuePath((*path.sub, member, *path.keys), member == "languageMap" and not path.keys)
        for member in members
    ]
