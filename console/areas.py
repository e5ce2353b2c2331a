"""The console's area filter on the server: a circle (centre and radius) or a polygon drawn on the map, and which
alerts of a query lie inside it (at their last position; an alert without one lies in no area)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import QuerySet

from cameras.geometry import circle_meets_polygon
from common.geo import distance_km, position_errors

MIN_VERTICES = 3
MAX_VERTICES = 50
MAX_RADIUS_KM = 500.0
# One degree of latitude is about this many km (the bounding box of a circle, for the database's prefilter).
KM_PER_DEGREE = 111.0


@dataclass(frozen=True)
class Circle:
    latitude: float
    longitude: float
    km: float

    def bounds(self) -> tuple[float, float, float | None, float | None]:
        """(south, north, west, east); west and east are None when the box would cross a pole or the 180th
        meridian (then only latitude prefilters)."""
        reach = self.km / KM_PER_DEGREE
        south, north = self.latitude - reach, self.latitude + reach
        cos = math.cos(math.radians(self.latitude))
        if south < -90 or north > 90 or cos < 1e-6:
            return max(south, -90.0), min(north, 90.0), None, None
        west, east = self.longitude - reach / cos, self.longitude + reach / cos
        if west < -180 or east > 180:
            return south, north, None, None
        return south, north, west, east

    def contains(self, latitude: float, longitude: float) -> bool:
        return distance_km(self.latitude, self.longitude, latitude, longitude) <= self.km


@dataclass(frozen=True)
class Polygon:
    vertices: tuple[tuple[float, float], ...]

    def bounds(self) -> tuple[float, float, float | None, float | None]:
        lats = [lat for lat, _ in self.vertices]
        lngs = [lng for _, lng in self.vertices]
        return min(lats), max(lats), min(lngs), max(lngs)

    def contains(self, latitude: float, longitude: float) -> bool:
        # Inside or on an edge: the same rule as a camera's coverage (cameras/geometry.py).
        return circle_meets_polygon((latitude, longitude), 0.0, [list(v) for v in self.vertices])


Area = Circle | Polygon


def parse_polygon(text: str) -> Polygon:
    """`lat,lng;lat,lng;...` (3 to 50 vertices, in order around the area) as a Polygon; a ValueError says what is
    wrong."""
    parts = [part.strip() for part in text.strip().strip(";").split(";")]
    if len(parts) < MIN_VERTICES or not all(parts):
        raise ValueError(f"Give at least {MIN_VERTICES} vertices as lat,lng;lat,lng;lat,lng.")
    if len(parts) > MAX_VERTICES:
        raise ValueError(f"Give at most {MAX_VERTICES} vertices (got {len(parts)}).")
    vertices = []
    for n, part in enumerate(parts, start=1):
        numbers = part.split(",")
        try:
            latitude, longitude = (float(number) for number in numbers)
        except ValueError:
            raise ValueError(f"Vertex {n} ({part!r}) is not two numbers lat,lng.") from None
        errors = position_errors(latitude, longitude)
        if errors:
            reasons = " ".join(message for messages in errors.values() for message in messages)
            raise ValueError(f"Vertex {n} ({part}): {reasons}")
        vertices.append((latitude, longitude))
    return Polygon(tuple(vertices))


def inside(rows: QuerySet, area: Area, *, latitude: str, longitude: str) -> QuerySet:
    """The rows whose position (the two fields named) lies in the area: a bounding box in the database, then the
    exact test on the few candidates' positions. Rows without a position are left out."""
    south, north, west, east = area.bounds()
    candidates = rows.filter(**{f"{latitude}__isnull": False, f"{longitude}__isnull": False,
                                f"{latitude}__gte": south, f"{latitude}__lte": north})
    if west is not None:
        candidates = candidates.filter(**{f"{longitude}__gte": west, f"{longitude}__lte": east})
    positions = candidates.order_by().values_list("pk", latitude, longitude)
    ids = [pk for pk, lat, lng in positions if area.contains(lat, lng)]
    return rows.filter(pk__in=ids)


def without_position(rows: QuerySet, *, latitude: str, longitude: str) -> QuerySet:
    return rows.filter(**{f"{latitude}__isnull": True}) | rows.filter(**{f"{longitude}__isnull": True})
