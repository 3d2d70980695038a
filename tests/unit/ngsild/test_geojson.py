"""ascn.ngsild.geojson: RFC 7946 geometries as GeoProperty values."""

from __future__ import annotations

from typing import Any

import pytest

from ascn.errors import BadRequestData
from ascn.ngsild.geojson import GEOMETRY_TYPES, check_geometry, is_geometry

SQUARE = [[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]
HOLE = [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]]

VALID: list[dict[str, Any]] = [
    {"type": "Point", "coordinates": [13.3986, 52.5547]},
    {"type": "Point", "coordinates": [-180, -90]},
    {"type": "Point", "coordinates": [180, 90, 35.5]},
    {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]},
    {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
    {"type": "MultiLineString", "coordinates": [[[1, 2], [3, 4]], [[5, 6], [7, 8], [9, 10]]]},
    {"type": "Polygon", "coordinates": [SQUARE]},
    {"type": "Polygon", "coordinates": [SQUARE, HOLE]},
    {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE, HOLE]]},
    {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Point", "coordinates": [1, 2]},
            {"type": "LineString", "coordinates": [[1, 2], [3, 4]]},
        ],
    },
]


@pytest.mark.parametrize("geometry", VALID, ids=lambda g: str(g["type"]))
def test_valid_geometries(geometry: dict[str, Any]) -> None:
    assert check_geometry(geometry) is geometry
    assert is_geometry(geometry)


def test_every_geometry_type_is_covered() -> None:
    assert {g["type"] for g in VALID} == GEOMETRY_TYPES


INVALID: list[tuple[str, Any]] = [
    ("point-latitude-95", {"type": "Point", "coordinates": [10, 95]}),
    ("point-latitude--91", {"type": "Point", "coordinates": [10, -91]}),
    ("point-longitude-181", {"type": "Point", "coordinates": [181, 0]}),
    ("point-one-number", {"type": "Point", "coordinates": [1]}),
    ("point-four-numbers", {"type": "Point", "coordinates": [1, 2, 3, 4]}),
    ("point-text", {"type": "Point", "coordinates": ["1", 2]}),
    ("point-bool", {"type": "Point", "coordinates": [True, 2]}),
    ("point-null", {"type": "Point", "coordinates": [None, 2]}),
    ("point-nested", {"type": "Point", "coordinates": [[1, 2]]}),
    ("point-no-coordinates", {"type": "Point"}),
    ("multipoint-empty", {"type": "MultiPoint", "coordinates": []}),
    ("multipoint-flat", {"type": "MultiPoint", "coordinates": [1, 2]}),
    ("linestring-one-position", {"type": "LineString", "coordinates": [[1, 2]]}),
    ("linestring-latitude-95", {"type": "LineString", "coordinates": [[1, 2], [3, 95]]}),
    ("multilinestring-flat", {"type": "MultiLineString", "coordinates": [[1, 2], [3, 4]]}),
    ("multilinestring-one-position-line", {"type": "MultiLineString", "coordinates": [[[1, 2]]]}),
    (
        "polygon-unclosed-ring",
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
    ),
    ("polygon-three-positions", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
    (
        "polygon-unclosed-hole",
        {"type": "Polygon", "coordinates": [SQUARE, [*HOLE[:-1], [0.3, 0.3]]]},
    ),
    ("polygon-not-nested", {"type": "Polygon", "coordinates": SQUARE}),
    (
        "multipolygon-unclosed-ring",
        {"type": "MultiPolygon", "coordinates": [[[[0, 0], [1, 0], [1, 1], [0, 1]]]]},
    ),
    ("geometrycollection-no-geometries", {"type": "GeometryCollection"}),
    ("geometrycollection-not-a-list", {"type": "GeometryCollection", "geometries": {}}),
    (
        "geometrycollection-invalid-member",
        {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [0, 95]}]},
    ),
    ("unknown-type", {"type": "Circle", "coordinates": [1, 2]}),
    ("feature", {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 2]}}),
    ("lowercase-type", {"type": "point", "coordinates": [1, 2]}),
    ("no-type", {"coordinates": [1, 2]}),
    ("not-an-object", [1, 2]),
    ("a-string", "POINT (1 2)"),
    ("null", None),
]


@pytest.mark.parametrize(("label", "geometry"), INVALID, ids=[label for label, _ in INVALID])
def test_invalid_geometries(label: str, geometry: Any) -> None:
    with pytest.raises(BadRequestData) as caught:
        check_geometry(geometry, "location")
    assert caught.value.detail.startswith("location")


def test_is_geometry_needs_a_geometry_type_and_coordinates() -> None:
    assert not is_geometry({"type": "Point"})
    assert not is_geometry({"type": "Feature", "coordinates": [1, 2]})
    assert not is_geometry({"type": "Property", "value": 1})
    assert not is_geometry([1, 2])
    assert not is_geometry("Point")
    assert is_geometry({"type": "GeometryCollection", "geometries": []})
