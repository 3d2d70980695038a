"""The PostgreSQL fragments of the shared query planner: SQL/JSON paths over the JSONB
document, POSIX regular expressions, and PostGIS on the geometry index.

Values are found with jsonb_path_query in lax mode, then tested in SQL by their JSON type, so
that a number never equals a string and a malformed date matches nothing instead of failing the
query. Strings compare by code point (COLLATE "C"), as SQLite does."""

from __future__ import annotations

import struct
from typing import Any

import orjson
import shapely
from shapely.geometry import shape

from ascn.ngsild.geoquery import Box, GeoQuery
from ascn.ngsild.qlang import Comparison, Literal
from ascn.store.planner import Sql, ValuePath, predicate

RELATIONS = {
    "within": "ST_Within",
    "contains": "ST_Contains",
    "intersects": "ST_Intersects",
    "equals": "ST_Equals",
    "disjoint": "ST_Disjoint",
    "overlaps": "ST_Overlaps",
}


def json_path(attribute: str, names: tuple[str, ...], tail: str = "") -> str:
    """A lax SQL/JSON path from the document to `names` inside each instance of an attribute."""
    steps = "".join("." + orjson.dumps(name).decode() for name in names)
    return f"lax $.attrs.{orjson.dumps(attribute).decode()}[*]{steps}{tail}"


def wkb(geometry: dict[str, Any]) -> bytes:
    """A GeoJSON geometry as WKB, parsed by shapely as on every backend; a 2D point, the common
    case, is packed directly."""
    coordinates = geometry.get("coordinates")
    if (
        geometry.get("type") == "Point"
        and isinstance(coordinates, list)
        and len(coordinates) == 2
        and all(type(c) in (int, float) for c in coordinates)
    ):
        return struct.pack("<BIdd", 1, 1, *coordinates)
    return bytes(shapely.to_wkb(shape(geometry)))


class PostgresDialect:
    def regexp(self, sql: Sql, column: str, pattern: str) -> None:
        sql.add(f"{column} ~ ?", pattern)

    def has_attribute(self, sql: Sql, iri: str) -> None:
        sql.add("jsonb_exists(e.doc -> 'attrs', ?::text)", iri)

    def exists(self, sql: Sql, attribute: str, inner: tuple[str, ...]) -> None:
        sql.add("jsonb_path_exists(e.doc, ?::jsonpath)", json_path(attribute, inner))

    def compare(self, sql: Sql, term: Comparison, paths: list[ValuePath]) -> None:
        sql.add("(")
        for index, path in enumerate(paths):
            if index:
                sql.add(" OR ")
            # Elements of an array count as values; members of an object only in a languageMap.
            tail = ".*" if path.members else "[*]"
            sql.add(
                "EXISTS (SELECT 1 FROM jsonb_path_query(e.doc, ?::jsonpath) v WHERE ",
                json_path(term.path.attribute, path.names, tail),
            )
            _predicate(sql, term)
            sql.add(")")
        sql.add(")")

    def scope(self, sql: Sql, regex: str) -> None:
        sql.add(
            "EXISTS (SELECT 1 FROM jsonb_path_query(e.doc, 'lax $.scope[*]') s"
            " WHERE jsonb_typeof(s) = 'string' AND (s #>> '{}') ~ ?)",
            regex,
        )

    def geo_candidates(self, sql: Sql, tenant: str, geo: GeoQuery, box: Box) -> None:
        sql.add(
            "SELECT g.id FROM geo g WHERE g.geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)"
            " AND g.tenant = ? AND g.attr = ?",
            *box,
            tenant,
            geo.property,
        )

    def geo_match(self, sql: Sql, geo: GeoQuery) -> None:
        sql.add(
            "EXISTS (SELECT 1 FROM geo g WHERE g.tenant = e.tenant AND g.id = e.id"
            " AND g.attr = ? AND ",
            geo.property,
        )
        reference = wkb(geo.geometry)
        if geo.relation == "near":
            sql.add("(TRUE")
            if geo.max_distance is not None:
                sql.add(
                    " AND ascn_metres(g.geom, ST_GeomFromWKB(?, 4326)) <= ?",
                    reference,
                    geo.max_distance,
                )
            if geo.min_distance is not None:
                sql.add(
                    " AND ascn_metres(g.geom, ST_GeomFromWKB(?, 4326)) >= ?",
                    reference,
                    geo.min_distance,
                )
            sql.add("))")
            return
        sql.add(f"{RELATIONS[geo.relation]}(g.geom, ST_GeomFromWKB(?, 4326)))", reference)


def _predicate(sql: Sql, term: Comparison) -> None:
    if term.op in ("~=", "!~="):
        sql.add(
            "(CASE WHEN jsonb_typeof(v) = 'string' THEN (v #>> '{}') ~ ? END)",
            term.values[0].value,
        )
        return
    predicate(sql, term, _compare)


def _compare(sql: Sql, op: str, literal: Literal) -> None:
    if literal.kind == "number":
        sql.add(
            f"coalesce(CASE WHEN jsonb_typeof(v) = 'number' THEN v::float8 {op} ?::float8 END,"
            " FALSE)",
            float(literal.value),
        )
    elif literal.kind == "boolean":
        if op == "=":
            sql.add("v = ?::jsonb", "true" if literal.value else "false")
        else:
            sql.add("FALSE")
    elif literal.kind == "datetime":
        sql.add(
            "coalesce(CASE WHEN jsonb_typeof(v) = 'string'"
            f" THEN ascn_instant(v #>> '{{}}') {op} ascn_instant(?) END, FALSE)",
            literal.value,
        )
    else:
        sql.add(
            "coalesce(CASE WHEN jsonb_typeof(v) = 'string'"
            f" THEN (v #>> '{{}}') COLLATE \"C\" {op} ?::text END, FALSE)",
            str(literal.value),
        )


def pg(sql: Sql) -> str:
    """The planner's SQL with psycopg's parameter marks."""
    return sql.text.replace("?", "%s")
