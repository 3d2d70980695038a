"""The SQLite fragments of the shared query planner: JSON1 paths, the regexp and geo_match
functions the store's connections define, and the R*Tree of geometry boxes."""

from __future__ import annotations

import orjson

from ascn.ngsild.geoquery import Box, GeoQuery
from ascn.ngsild.qlang import Comparison, Literal
from ascn.store.planner import Sql, ValuePath, predicate


def attribute_path(iri: str) -> str:
    return f'$.attrs."{iri}"'


def json_path(names: tuple[str, ...]) -> str:
    return "$" + "".join(f'."{name}"' for name in names)


class SqliteDialect:
    def regexp(self, sql: Sql, column: str, pattern: str) -> None:
        sql.add(f"regexp(?, {column})", pattern)

    def has_attribute(self, sql: Sql, iri: str) -> None:
        sql.add("json_type(e.doc, ?) IS NOT NULL", attribute_path(iri))

    def exists(self, sql: Sql, attribute: str, inner: tuple[str, ...]) -> None:
        sql.add(
            "EXISTS (SELECT 1 FROM json_each(e.doc, ?) i WHERE json_type(i.value, ?) IS NOT NULL)",
            attribute_path(attribute),
            json_path(inner),
        )

    def compare(self, sql: Sql, term: Comparison, paths: list[ValuePath]) -> None:
        sql.add(
            "EXISTS (SELECT 1 FROM json_each(e.doc, ?) i WHERE (",
            attribute_path(term.path.attribute),
        )
        for index, path in enumerate(paths):
            if index:
                sql.add(" OR ")
            sql.add("EXISTS (SELECT 1 FROM json_each(i.value, ?) v WHERE ", json_path(path.names))
            if not path.members:
                # Elements of an array count as values; members of an object do not.
                sql.add("typeof(v.key) != 'text' AND ")
            _predicate(sql, term)
            sql.add(")")
        sql.add("))")

    def scope(self, sql: Sql, regex: str) -> None:
        sql.add(
            "EXISTS (SELECT 1 FROM json_each(e.doc, '$.scope') s WHERE regexp(?, s.value))", regex
        )

    def geo_candidates(self, sql: Sql, tenant: str, geo: GeoQuery, box: Box) -> None:
        sql.add(
            "SELECT g.eid FROM geo g WHERE g.id IN (SELECT b.id FROM geo_box b"
            " WHERE b.min_x <= ? AND b.max_x >= ? AND b.min_y <= ? AND b.max_y >= ?)"
            " AND +g.tenant = ? AND +g.attr = ?",
            box[2],
            box[0],
            box[3],
            box[1],
            tenant,
            geo.property,
        )

    def geo_match(self, sql: Sql, geo: GeoQuery) -> None:
        sql.add(
            "EXISTS (SELECT 1 FROM geo g WHERE g.tenant = e.tenant AND g.eid = e.id"
            " AND g.attr = ? AND geo_match(?, ?, ?, ?, g.geojson))",
            geo.property,
            geo.relation,
            orjson.dumps(geo.geometry).decode(),
            geo.max_distance,
            geo.min_distance,
        )


def _predicate(sql: Sql, term: Comparison) -> None:
    if term.op in ("~=", "!~="):
        sql.add("v.type = 'text' AND regexp(?, v.value)", term.values[0].value)
        return
    predicate(sql, term, _compare)


def _compare(sql: Sql, op: str, literal: Literal) -> None:
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
