"""GeoJSON geometries (RFC 7946) as NGSI-LD GeoProperty values."""

from __future__ import annotations

from typing import Any

from ascn.errors import BadRequestData

GEOMETRY_TYPES = frozenset(
    {
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
    }
)


def is_geometry(value: object) -> bool:
    """Whether a value looks like a GeoJSON geometry (what concise form relies on)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("type"), str)
        and value["type"] in GEOMETRY_TYPES
        and ("coordinates" in value or "geometries" in value)
    )


def check_geometry(value: Any, what: str = "geometry") -> dict[str, Any]:
    """A valid GeoJSON geometry object, else BadRequestData naming what is wrong."""
    if not isinstance(value, dict):
        raise BadRequestData(f"{what} must be a GeoJSON geometry object")
    kind = value.get("type")
    if kind == "GeometryCollection":
        members = value.get("geometries")
        if not isinstance(members, list):
            raise BadRequestData(f"{what}: a GeometryCollection needs a geometries array")
        for index, member in enumerate(members):
            check_geometry(member, f"{what}.geometries[{index}]")
        return value
    if kind not in GEOMETRY_TYPES:
        raise BadRequestData(f"{what}: {kind!r} is not a GeoJSON geometry type")
    coordinates = value.get("coordinates")
    depth = {
        "Point": 0,
        "MultiPoint": 1,
        "LineString": 1,
        "MultiLineString": 2,
        "Polygon": 2,
        "MultiPolygon": 3,
    }[kind]
    _check_coordinates(coordinates, depth, kind, what)
    return value


def _check_coordinates(node: Any, depth: int, kind: str, what: str) -> None:
    if depth == 0:
        if (
            not isinstance(node, list)
            or not 2 <= len(node) <= 3
            or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in node)
        ):
            raise BadRequestData(f"{what}: a {kind} position must be [longitude, latitude]")
        if not (-180 <= node[0] <= 180 and -90 <= node[1] <= 90):
            raise BadRequestData(f"{what}: position {node} is outside WGS84 bounds")
        return
    if not isinstance(node, list) or not node:
        raise BadRequestData(f"{what}: {kind} coordinates are malformed")
    for child in node:
        _check_coordinates(child, depth - 1, kind, what)
    if kind in {"LineString", "MultiLineString"} and depth == 1 and len(node) < 2:
        raise BadRequestData(f"{what}: a LineString needs at least two positions")
    if (
        kind in {"Polygon", "MultiPolygon"}
        and depth == 1
        and (len(node) < 4 or node[0] != node[-1])
    ):
        raise BadRequestData(f"{what}: a polygon ring needs four or more positions, closed")
