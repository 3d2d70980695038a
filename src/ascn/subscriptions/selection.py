"""Whether an entity satisfies a subscription's selection, evaluated on the stored entity:
type expressions, ids and id patterns, the q language and scopeQ (the same semantics as the
stores' SQL: a comparison holds when some value at its path satisfies it)."""

from __future__ import annotations

import functools
import re
from typing import Any

from ascn.errors import AscnError
from ascn.ngsild.entity import Entity
from ascn.ngsild.history import millis
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
from ascn.store.planner import VALUE_MEMBERS

OPS = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


def holds(expression: Expression, entity: Entity) -> bool:
    if isinstance(expression, Logical):
        results = (holds(item, entity) for item in expression.items)
        return all(results) if expression.op == ";" else any(results)
    if isinstance(expression, TypeName):
        return expression.name in entity["type"]
    if isinstance(expression, ScopeMatch):
        pattern = _regex(expression.regex())
        return any(pattern.search(s) for s in entity.get("scope", ()))
    if isinstance(expression, Exists):
        found = bool(_at(entity, expression.path, None))
        return not found if expression.negated else found
    return _compare(expression, entity)


def _compare(term: Comparison, entity: Entity) -> bool:
    negated = term.op in ("!=", "!~=")
    kinds = ["uri"] if term.op in ("~=", "!~=") else [v.kind for v in term.values]
    values = _at(entity, term.path, kinds)
    if negated and not _at(entity, term.path, None):
        return False
    matched = any(_satisfies(term, value) for value in values)
    return not matched if negated else matched


def _at(entity: Entity, path: Path, kinds: list[str] | None) -> list[Any]:
    """The values at a path in every instance of its attribute: with `kinds`, the scalars a
    comparison looks at (array elements count); without, whatever exists there."""
    found: list[Any] = []
    for instance in entity["attrs"].get(path.attribute, ()):
        node: Any = instance
        for name in path.sub:
            node = node.get(name) if isinstance(node, dict) else None
        if node is None:
            continue
        if kinds is None:
            if path.keys:
                node = _keys(node.get("value") if isinstance(node, dict) else None, path.keys)
            if node is not None:
                found.append(node)
            continue
        if path.sub and path.sub[-1] in MEMBERS:
            found.extend(_scalars(_keys(node, path.keys)))
            continue
        members = dict.fromkeys(m for kind in kinds for m in VALUE_MEMBERS[kind])
        for member in members:
            value = _keys(node.get(member) if isinstance(node, dict) else None, path.keys)
            if member == "languageMap" and not path.keys and isinstance(value, dict):
                found.extend(v for v in value.values() if not isinstance(v, dict | list))
            else:
                found.extend(_scalars(value))
    return found


def _keys(node: Any, keys: tuple[str, ...]) -> Any:
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _scalars(value: Any) -> list[Any]:
    if value is None or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [v for v in value if not isinstance(v, dict | list)]
    return [value]


def _satisfies(term: Comparison, value: Any) -> bool:
    if term.op in ("~=", "!~="):
        return (
            isinstance(value, str) and _regex(str(term.values[0].value)).search(value) is not None
        )
    if term.range:
        low, high = term.values
        return _test(">=", low, value) and _test("<=", high, value)
    op = "==" if term.op == "!=" else term.op
    return any(_test(op, literal, value) for literal in term.values)


def _test(op: str, literal: Literal, value: Any) -> bool:
    number = type(value) in (int, float)
    if literal.kind == "number":
        return number and bool(OPS[op](value, literal.value))
    if literal.kind == "boolean":
        return op == "==" and type(value) is bool and value == literal.value
    if not isinstance(value, str):
        return False
    if literal.kind == "datetime":
        try:
            return bool(OPS[op](millis(value), millis(str(literal.value))))
        except AscnError:  # a string that is not a DateTime matches nothing
            return False
    return bool(OPS[op](value, str(literal.value)))


@functools.lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
