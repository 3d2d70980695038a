"""Geo-queries (clause 4.10): georel, the reference geometry, distances and the relations."""

from __future__ import annotations

import math
from typing import Any

import orjson
import pytest

from ascn.errors import BadRequestData
from ascn.ngsild.geoquery import (
    EARTH_RADIUS,
    RELATIONS,
    GeoQuery,
    bounds,
    distance_box,
    geo_query,
    haversine,
    parse_georel,
)

LOCATION = "https://uri.etsi.org/ngsi-ld/location"
SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [2, 0], [2, 2], [0, 2], [0, 0]]]}
SAME_SQUARE = {"type": "Polygon", "coordinates": [[[2, 0], [2, 2], [0, 2], [0, 0], [2, 0]]]}
HALF_OVER = {"type": "Polygon", "coordinates": [[[1, 1], [3, 1], [3, 3], [1, 3], [1, 1]]]}
INNER = {"type": "Polygon", "coordinates": [[[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1], [0.5, 0.5]]]}
FAR = {"type": "Polygon", "coordinates": [[[10, 10], [11, 10], [11, 11], [10, 11], [10, 10]]]}
CENTRE = {"type": "Point", "coordinates": [1, 1]}
EDGE = {"type": "Point", "coordinates": [2, 1]}
OUTSIDE = {"type": "Point", "coordinates": [5, 5]}
SHAPES: dict[str, dict[str, Any]] = {
    "square": SQUARE,
    "same square": SAME_SQUARE,
    "half over": HALF_OVER,
    "inner": INNER,
    "far": FAR,
    "centre": CENTRE,
    "edge": EDGE,
    "outside": OUTSIDE,
}


def destination(lon: float, lat: float, bearing: float, metres: float) -> tuple[float, float]:
    """The point `metres` away from (lon, lat) along a great circle starting at `bearing`
    (degrees from north), longitude normalised to [-180, 180]."""
    angle = metres / EARTH_RADIUS
    phi1, lambda1, theta = math.radians(lat), math.radians(lon), math.radians(bearing)
    phi2 = math.asin(
        math.sin(phi1) * math.cos(angle) + math.cos(phi1) * math.sin(angle) * math.cos(theta)
    )
    lambda2 = lambda1 + math.atan2(
        math.sin(theta) * math.sin(angle) * math.cos(phi1),
        math.cos(angle) - math.sin(phi1) * math.sin(phi2),
    )
    longitude = (math.degrees(lambda2) + 540) % 360 - 180
    return longitude, math.degrees(phi2)


# --- georel ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("near;maxDistance==2000", ("near", 2000.0, None)),
        ("near;minDistance==15000", ("near", None, 15000.0)),
        ("near;maxDistance==10.5", ("near", 10.5, None)),
        ("near;minDistance==5;maxDistance==100", ("near", 100.0, 5.0)),
        ("within", ("within", None, None)),
        ("contains", ("contains", None, None)),
        ("intersects", ("intersects", None, None)),
        ("equals", ("equals", None, None)),
        ("disjoint", ("disjoint", None, None)),
        ("overlaps", ("overlaps", None, None)),
    ],
)
def test_valid_georels(text: str, expected: tuple[str, float | None, float | None]) -> None:
    assert parse_georel(text) == expected


def test_every_relation_of_the_specification_is_known() -> None:
    assert set(RELATIONS) == {
        "near",
        "within",
        "contains",
        "intersects",
        "equals",
        "disjoint",
        "overlaps",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("near", "near needs maxDistance"),
        ("near;", "modifier ''"),
        ("within;maxDistance==5", "within takes no distance"),
        ("equals;minDistance==5", "equals takes no distance"),
        ("invalid", "is not one of"),
        ("Near;maxDistance==5", "is not one of"),
        ("", "is not one of"),
        ("near;maxDistance=5", "modifier"),
        ("near;maxDistance==-5", "modifier"),
        ("near;maxDistance==far", "modifier"),
        ("near;distance==5", "modifier"),
    ],
)
def test_invalid_georels(text: str, message: str) -> None:
    with pytest.raises(BadRequestData, match=message):
        parse_georel(text)


# --- the reference geometry -----------------------------------------------------------------


def test_geo_query_reads_coordinates_as_json_text() -> None:
    query = geo_query("near;maxDistance==2000", "Point", "[100.49, 13.75]", LOCATION)
    assert query == GeoQuery(
        "near", {"type": "Point", "coordinates": [100.49, 13.75]}, LOCATION, 2000.0, None
    )
    polygon = geo_query("within", "Polygon", orjson.dumps(SQUARE["coordinates"]).decode(), "g")
    assert polygon.geometry == SQUARE
    assert polygon.property == "g"


def test_geo_query_takes_coordinates_already_parsed() -> None:
    query = geo_query("within", "Polygon", SQUARE["coordinates"], LOCATION)
    assert query.geometry == SQUARE


@pytest.mark.parametrize(
    ("georel", "geometry", "coordinates", "message"),
    [
        ("within", "Point", "not json", "not a JSON array"),
        ("within", "Point", "[200, 0]", "outside WGS84"),
        ("within", "Point", "[0, 95]", "outside WGS84"),
        ("within", "Point", "[1]", "position"),
        ("within", "Point", "null", "position"),
        ("within", "Polygon", "[[[0,0],[1,0],[1,1]]]", "closed"),
        ("within", "Polygon", "[[[0,0],[1,0],[1,1],[0,1]]]", "closed"),
        ("within", "Circle", "[0, 0]", "not a GeoJSON geometry type"),
        ("within", "LineString", "[[0, 0]]", "two positions"),
        ("near;maxDistance==10", "Polygon", orjson.dumps(SQUARE["coordinates"]).decode(), "Point"),
        ("near;maxDistance==10", "LineString", "[[0,0],[1,1]]", "Point"),
        ("nowhere", "Point", "[0, 0]", "is not one of"),
    ],
)
def test_invalid_reference_geometries(
    georel: str, geometry: str, coordinates: str, message: str
) -> None:
    with pytest.raises(BadRequestData, match=message):
        geo_query(georel, geometry, coordinates, LOCATION)


# --- distances ------------------------------------------------------------------------------


def test_haversine_one_degree_of_latitude() -> None:
    metres = haversine(100.5, 13.0, 100.5, 14.0)
    assert metres == pytest.approx(111_200, rel=0.005)
    assert haversine(0, 0, 1, 0) == pytest.approx(metres)


def test_haversine_between_real_places() -> None:
    # Bangkok's Grand Palace to Wat Arun, across the Chao Phraya: about 0.75 km.
    assert haversine(100.4913, 13.7500, 100.4889, 13.7437) == pytest.approx(750, rel=0.05)
    # Monas (Jakarta) to Bangkok's Grand Palace: about 2,320 km.
    assert haversine(106.8272, -6.1754, 100.4913, 13.7500) == pytest.approx(2_320_000, rel=0.02)


def test_haversine_is_symmetric_and_zero_on_a_point() -> None:
    assert haversine(10, 20, 30, 40) == pytest.approx(haversine(30, 40, 10, 20))
    assert haversine(100.5, 13.7, 100.5, 13.7) == 0
    # Half the circumference between antipodes.
    assert haversine(0, 0, 180, 0) == pytest.approx(math.pi * EARTH_RADIUS)


def test_haversine_across_the_antimeridian() -> None:
    assert haversine(179.9, -17.0, -179.9, -17.0) == pytest.approx(21_270, rel=0.01)


@pytest.mark.parametrize(
    ("lon", "lat", "metres"),
    [
        (100.5, 13.7, 5_000),
        (106.8, -6.2, 50_000),
        (0.0, 0.0, 1_000),
        (10.0, 70.0, 100_000),
        (-70.0, -50.0, 20_000),
    ],
)
def test_distance_box_holds_points_at_the_distance_in_four_directions(
    lon: float, lat: float, metres: float
) -> None:
    west, south, east, north = distance_box(lon, lat, metres)
    assert west < lon < east
    assert south < lat < north
    for bearing in (0, 90, 180, 270):
        x, y = destination(lon, lat, bearing, metres * 0.999)
        assert haversine(lon, lat, x, y) == pytest.approx(metres * 0.999)
        assert west <= x <= east, bearing
        assert south <= y <= north, bearing
    # ...and the box is not much larger than it must be.
    assert north - lat == pytest.approx(math.degrees(metres / EARTH_RADIUS))


@pytest.mark.parametrize(
    ("lon", "lat", "metres"),
    [
        (100.5, 13.7, 5_000),
        (0.0, 60.0, 1_000_000),
        (179.9, -17.0, 50_000),
        (-179.95, 10.0, 20_000),
        (10.0, 89.9, 20_000),
    ],
)
def test_distance_box_holds_every_point_within_the_distance(
    lon: float, lat: float, metres: float
) -> None:
    """The box narrows the candidates of near;maxDistance: a point closer than the distance
    that falls outside it is an entity the query wrongly leaves out."""
    west, south, east, north = distance_box(lon, lat, metres)
    for bearing in range(0, 360, 3):
        x, y = destination(lon, lat, bearing, metres * 0.999)
        assert west <= x <= east and south <= y <= north, (bearing, x, y)


def test_distance_box_stays_within_the_world() -> None:
    # A circle holding a pole spans every longitude.
    west, south, east, north = distance_box(0, 89.99, 100_000)
    assert (west, east, north) == (-180.0, 180.0, 90.0)
    assert south == pytest.approx(89.99 - math.degrees(100_000 / EARTH_RADIUS))
    west, south, east, north = distance_box(179.99, -89.0, 500_000)
    assert west >= -180 and east <= 180 and south >= -90 and north <= 90


# --- relations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("relation", "matching"),
    [
        ("within", {"square", "same square", "inner", "centre"}),
        ("contains", {"square", "same square"}),
        ("intersects", {"square", "same square", "half over", "inner", "centre", "edge"}),
        ("equals", {"square", "same square"}),
        ("disjoint", {"far", "outside"}),
        ("overlaps", {"half over"}),
    ],
)
def test_relations_against_a_square(relation: str, matching: set[str]) -> None:
    """ "Entity geometry REL reference geometry" with the square as the reference."""
    query = GeoQuery(relation, SQUARE, LOCATION)
    found = {name for name, shape in SHAPES.items() if query.matches(shape)}
    assert found == matching


def test_relations_against_a_point() -> None:
    def match(relation: str, value: dict[str, Any]) -> bool:
        return GeoQuery(relation, CENTRE, LOCATION).matches(value)

    assert match("equals", CENTRE)
    assert not match("equals", EDGE)
    assert match("contains", CENTRE)
    assert match("contains", SQUARE)
    assert not match("contains", FAR)
    assert match("intersects", SQUARE)
    assert match("intersects", CENTRE)
    assert not match("intersects", OUTSIDE)
    assert match("within", CENTRE)
    assert not match("within", SQUARE)
    assert match("disjoint", OUTSIDE)
    assert not match("disjoint", SQUARE)


def test_matches_takes_json_text_as_well() -> None:
    query = GeoQuery("within", SQUARE, LOCATION)
    assert query.matches(orjson.dumps(CENTRE).decode())
    assert not query.matches(orjson.dumps(OUTSIDE).decode())


NOT_GEOMETRIES: list[Any] = [
    "not json",
    "null",
    None,
    5,
    [],
    {"type": "Point"},
    {"coordinates": [1, 1]},
    {"type": "Nowhere", "coordinates": [1, 1]},
    {"type": "Point", "coordinates": "ab"},
]


def test_matches_on_something_that_is_not_a_geometry_is_false() -> None:
    """matches answers whether a value stands in the relation, and bounds gives None for what
    is not a geometry (their docstrings): neither may raise on a value that is not one."""
    wrong = []
    for value in NOT_GEOMETRIES:
        try:
            answers = (
                GeoQuery("intersects", SQUARE, LOCATION).matches(value),
                GeoQuery("disjoint", SQUARE, LOCATION).matches(value),
                bounds(value),
            )
        except Exception as error:
            wrong.append(f"{value!r}: {type(error).__name__}")
            continue
        if answers != (False, False, None):
            wrong.append(f"{value!r}: {answers}")
    assert wrong == []


def test_near_with_a_maximum_distance() -> None:
    palace = {"type": "Point", "coordinates": [100.4913, 13.7500]}
    wat_arun = {"type": "Point", "coordinates": [100.4889, 13.7437]}
    lumphini = {"type": "Point", "coordinates": [100.5418, 13.7314]}
    query = GeoQuery("near", palace, LOCATION, max_distance=2000)
    assert query.matches(palace)
    assert query.matches(wat_arun)
    assert not query.matches(lumphini)
    assert GeoQuery("near", palace, LOCATION, max_distance=600).matches(wat_arun) is False
    assert GeoQuery("near", palace, LOCATION, max_distance=10_000).matches(lumphini)


def test_near_with_a_minimum_distance() -> None:
    palace = {"type": "Point", "coordinates": [100.4913, 13.7500]}
    wat_arun = {"type": "Point", "coordinates": [100.4889, 13.7437]}
    lumphini = {"type": "Point", "coordinates": [100.5418, 13.7314]}
    query = GeoQuery("near", palace, LOCATION, min_distance=2000)
    assert not query.matches(palace)
    assert not query.matches(wat_arun)
    assert query.matches(lumphini)
    both = GeoQuery("near", palace, LOCATION, max_distance=10_000, min_distance=2000)
    assert [both.matches(p) for p in (palace, wat_arun, lumphini)] == [False, False, True]


def test_near_measures_to_the_nearest_point_of_a_polygon() -> None:
    inside = {"type": "Point", "coordinates": [1, 1]}
    assert GeoQuery("near", inside, LOCATION, max_distance=1).matches(SQUARE)
    beside = {"type": "Point", "coordinates": [2.01, 1]}
    metres = haversine(2.01, 1, 2, 1)
    assert GeoQuery("near", beside, LOCATION, max_distance=metres * 1.01).matches(SQUARE)
    assert not GeoQuery("near", beside, LOCATION, max_distance=metres * 0.99).matches(SQUARE)
    assert GeoQuery("near", beside, LOCATION, min_distance=metres * 0.99).matches(SQUARE)


def test_the_box_bounds_every_match() -> None:
    assert GeoQuery("within", SQUARE, LOCATION).box() == (0, 0, 2, 2)
    assert GeoQuery("disjoint", SQUARE, LOCATION).box() is None
    assert GeoQuery("near", CENTRE, LOCATION, min_distance=5).box() is None
    near = GeoQuery("near", CENTRE, LOCATION, max_distance=1000).box()
    assert near is not None
    assert near == distance_box(1, 1, 1000)
    assert bounds(SQUARE) == (0, 0, 2, 2)
    assert bounds(orjson.dumps(CENTRE).decode()) == (1, 1, 1, 1)
