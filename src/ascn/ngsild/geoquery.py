"""Geo-queries (clause 4.10): the relation, the reference geometry, and the exact test.

Distances are in metres on a sphere of the mean Earth radius (IUGG, 6,371,008.8 m), measured
from the reference point to the nearest point of the entity's geometry (the nearest point is
found in longitude/latitude, which is exact for points and close for short distances). The other
relations are tested on the geometries as given in WGS84 longitude/latitude, with shapely.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

from ascn.errors import BadRequestData
from ascn.ngsild.geojson import check_geometry

RELATIONS = ("near", "within", "contains", "intersects", "equals", "disjoint", "overlaps")
EARTH_RADIUS = 6_371_008.8
_MODIFIER = re.compile(r"^(maxDistance|minDistance)==(\d+(?:\.\d+)?)$")

_NOT_A_GEOMETRY = (
    ValueError,
    TypeError,
    AttributeError,
    KeyError,
    IndexError,
    shapely.errors.ShapelyError,
)
Box = tuple[float, float, float, float]
"""min longitude, min latitude, max longitude, max latitude."""


@dataclass(frozen=True, slots=True)
class GeoQuery:
    relation: str
    geometry: dict[str, Any]
    property: str
    """The IRI of the GeoProperty tested (location by default)."""
    max_distance: float | None = None
    min_distance: float | None = None

    def box(self) -> Box | None:
        """A box every match lies in, for an index to narrow the candidates; None: no bound."""
        if self.relation == "disjoint":
            return None
        if self.relation == "near":
            if self.max_distance is None:
                return None
            longitude, latitude = self.geometry["coordinates"][:2]
            return distance_box(longitude, latitude, self.max_distance)
        minx, miny, maxx, maxy = _shape(orjson.dumps(self.geometry)).bounds
        return (minx, miny, maxx, maxy)

    def matches(self, value: Any) -> bool:
        """Whether an entity's GeoProperty value (or its JSON text) stands in this relation to
        the reference."""
        try:
            target = _shape(value.encode() if isinstance(value, str) else orjson.dumps(value))
        except _NOT_A_GEOMETRY:
            return False
        reference = _shape(orjson.dumps(self.geometry))
        if self.relation == "near":
            distance = metres_to(reference, target)
            return (self.max_distance is None or distance <= self.max_distance) and (
                self.min_distance is None or distance >= self.min_distance
            )
        test = {
            "within": target.within,
            "contains": target.contains,
            "intersects": target.intersects,
            "equals": target.equals,
            "disjoint": target.disjoint,
            "overlaps": target.overlaps,
        }[self.relation]
        return bool(test(reference))


def parse_georel(text: str) -> tuple[str, float | None, float | None]:
    """georel as in "near;maxDistance==2000", "within"... -> (relation, max, min)."""
    relation, *modifiers = text.split(";")
    if relation not in RELATIONS:
        raise BadRequestData(f"georel {relation!r} is not one of {', '.join(RELATIONS)}")
    distances: dict[str, float] = {}
    for modifier in modifiers:
        match = _MODIFIER.match(modifier)
        if match is None:
            raise BadRequestData(
                f"georel modifier {modifier!r}: use maxDistance==N or minDistance==N"
            )
        distances[match.group(1)] = float(match.group(2))
    if relation == "near" and not distances:
        raise BadRequestData("georel near needs maxDistance==N or minDistance==N")
    if relation != "near" and distances:
        raise BadRequestData(f"georel {relation} takes no distance")
    return relation, distances.get("maxDistance"), distances.get("minDistance")


def geo_query(georel: str, geometry: Any, coordinates: Any, geoproperty: str) -> GeoQuery:
    """A geo-query from its parts (GET parameters, or the members of a geoQ object)."""
    relation, max_distance, min_distance = parse_georel(georel)
    if isinstance(coordinates, str):
        try:
            coordinates = orjson.loads(coordinates)
        except orjson.JSONDecodeError:
            raise BadRequestData(f"coordinates {coordinates!r} are not a JSON array") from None
    reference = check_geometry({"type": geometry, "coordinates": coordinates}, "the geometry")
    if relation == "near" and geometry != "Point":
        raise BadRequestData("georel near needs a Point geometry")
    try:
        _shape(orjson.dumps(reference))
    except _NOT_A_GEOMETRY as error:
        raise BadRequestData(f"the geometry is not valid: {error}") from None
    return GeoQuery(relation, reference, geoproperty, max_distance, min_distance)


def distance_box(longitude: float, latitude: float, metres: float) -> Box:
    """A longitude/latitude box holding every point within `metres` of a point (the exact
    bounds of a spherical cap: its widest longitude is reached off the centre's parallel)."""
    angle = metres / EARTH_RADIUS
    dlat = math.degrees(angle)
    south, north = latitude - dlat, latitude + dlat
    if north >= 90.0 or south <= -90.0 or angle >= math.pi / 2:
        return (-180.0, max(-90.0, south), 180.0, min(90.0, north))
    ratio = math.sin(angle) / math.cos(math.radians(latitude))
    dlon = 180.0 if ratio >= 1.0 else math.degrees(math.asin(ratio))
    if longitude - dlon < -180.0 or longitude + dlon > 180.0:
        return (-180.0, south, 180.0, north)
    return (longitude - dlon, south, longitude + dlon, north)


def haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Metres between two points on the sphere."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS * math.asin(min(1.0, math.sqrt(a)))


def metres_to(reference: BaseGeometry, target: BaseGeometry) -> float:
    here, there = nearest_points(reference, target)
    return haversine(here.x, here.y, there.x, there.y)


def bounds(value: Any) -> Box | None:
    """The box of a GeoJSON geometry (or its JSON text), None if it is not one."""
    try:
        geometry = orjson.loads(value) if isinstance(value, str) else value
        coordinates = geometry.get("coordinates") if isinstance(geometry, dict) else None
        if (
            geometry.get("type") == "Point"
            and isinstance(coordinates, list)
            and len(coordinates) >= 2
            and all(type(c) in (int, float) for c in coordinates[:2])
        ):
            return (coordinates[0], coordinates[1], coordinates[0], coordinates[1])
        minx, miny, maxx, maxy = _shape(orjson.dumps(geometry)).bounds
    except _NOT_A_GEOMETRY:
        return None
    return (minx, miny, maxx, maxy)


@lru_cache(maxsize=4096)
def _shape(text: bytes) -> BaseGeometry:
    geometry: BaseGeometry = shape(orjson.loads(text))
    return geometry
