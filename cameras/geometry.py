"""Coverage geometry: a camera's view as a polygon of [latitude, longitude] points, and whether a circle meets it.

Distances are in metres on a local flat projection around the point of interest (equirectangular):
camera ranges and SOS uncertainties are tens to hundreds of metres, where the error of that
projection is far below a phone's GPS error.
"""

from __future__ import annotations

import math

from common.geo import EARTH_RADIUS_KM, position_errors

EARTH_RADIUS_M = EARTH_RADIUS_KM * 1000
# A point this close to the coverage edge counts as on it (floating point, not GPS, precision).
EDGE_TOLERANCE_M = 0.01
MAX_ARC_STEP_DEG = 10.0

LatLng = tuple[float, float]


def _offset(origin: LatLng, *, east_m: float, north_m: float) -> LatLng:
    lat, lng = origin
    return (
        lat + math.degrees(north_m / EARTH_RADIUS_M),
        lng + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(math.radians(lat)))),
    )


def _project(origin: LatLng, point: LatLng) -> tuple[float, float]:
    """`point` as (east, north) metres from `origin`."""
    lat0, lng0 = origin
    lat, lng = point
    return (
        math.radians(lng - lng0) * EARTH_RADIUS_M * math.cos(math.radians(lat0)),
        math.radians(lat - lat0) * EARTH_RADIUS_M,
    )


def sector(position: LatLng, *, heading_deg: float, fov_deg: float, range_m: float) -> list[list[float]]:
    """The view of a camera at `position` looking along `heading_deg` (clockwise from north):
    its apex, then its far arc; a 360° field of view is a circle around the camera."""
    fov = min(max(fov_deg, 1.0), 360.0)
    steps = max(2, math.ceil(fov / MAX_ARC_STEP_DEG))
    start = heading_deg - fov / 2
    arc = []
    for i in range(steps + (0 if fov >= 360 else 1)):
        bearing = math.radians(start + fov * i / steps)
        arc.append(_offset(position, east_m=range_m * math.sin(bearing), north_m=range_m * math.cos(bearing)))
    points = arc if fov >= 360 else [position, *arc]
    return [[round(lat, 7), round(lng, 7)] for lat, lng in points]


def _inside(point: tuple[float, float], polygon: list[tuple[float, float]]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1]):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _segment_distance(point: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (px, py), (ax, ay), (bx, by) = point, a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length2))
    return math.hypot(px - ax - t * dx, py - ay - t * dy)


def distance_to_polygon_m(point: LatLng, polygon: list[list[float]]) -> float:
    """0 inside the polygon, else the distance from `point` to its nearest edge, in metres."""
    flat = [_project(point, (lat, lng)) for lat, lng in polygon]
    if _inside((0.0, 0.0), flat):
        return 0.0
    return min(_segment_distance((0.0, 0.0), a, b) for a, b in zip(flat, flat[1:] + flat[:1]))


def circle_meets_polygon(centre: LatLng, radius_m: float, polygon: list[list[float]]) -> bool:
    """Whether the circle (its edge included) and the polygon share a point."""
    return distance_to_polygon_m(centre, polygon) <= radius_m + EDGE_TOLERANCE_M


def polygon_errors(polygon) -> list[str]:
    """Why `polygon` is not a list of at least three [latitude, longitude] pairs; empty when it is one."""
    if not isinstance(polygon, list) or len(polygon) < 3:
        return ["Give at least three [latitude, longitude] points."]
    for point in polygon:
        if not (isinstance(point, (list, tuple)) and len(point) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in point)):
            return [f"Each point must be [latitude, longitude]; got {point!r}."]
        if position_errors(point[0], point[1]):
            return [f"Point {point!r} is not a valid [latitude, longitude]."]
    return []
