"""Coverage geometry: computed views, and whether an uncertainty circle meets a coverage polygon."""

import math

import pytest

from cameras import geometry
from common.geo import distance_km

ORIGIN = (22.5726, 88.3639)


def metres(a, b) -> float:
    return distance_km(a[0], a[1], b[0], b[1]) * 1000


def test_a_computed_view_starts_at_the_camera_and_reaches_its_range_along_the_heading():
    polygon = geometry.sector(ORIGIN, heading_deg=90.0, fov_deg=60.0, range_m=40.0)
    assert polygon[0] == [ORIGIN[0], ORIGIN[1]]
    for point in polygon[1:]:
        assert metres(ORIGIN, point) == pytest.approx(40.0, abs=0.05)
    middle = polygon[1 + (len(polygon) - 1) // 2]
    assert middle[1] > ORIGIN[1] and middle[0] == pytest.approx(ORIGIN[0], abs=1e-6)  # due east


def test_a_point_east_of_a_north_facing_camera_is_outside_its_view():
    north = geometry.sector(ORIGIN, heading_deg=0.0, fov_deg=90.0, range_m=50.0)
    east_20m = geometry._offset(ORIGIN, east_m=20.0, north_m=0.0)
    ahead_20m = geometry._offset(ORIGIN, east_m=0.0, north_m=20.0)
    assert geometry.distance_to_polygon_m(ahead_20m, north) == 0.0
    # The view's right edge runs north-east from the camera: 20 m east is 20·sin(45°) from it.
    assert geometry.distance_to_polygon_m(east_20m, north) == pytest.approx(20 * math.sin(math.radians(45)), abs=0.05)


def test_a_circle_just_touching_the_edge_meets_the_coverage_and_one_a_metre_short_does_not():
    square = [[22.5725, 88.3659], [22.5727, 88.3659], [22.5727, 88.3661], [22.5725, 88.3661]]
    west = (22.5726, 88.3650)
    gap = geometry.distance_to_polygon_m(west, square)
    assert 85 < gap < 100
    assert geometry.circle_meets_polygon(west, gap, square)
    assert not geometry.circle_meets_polygon(west, gap - 1.0, square)
    assert geometry.circle_meets_polygon((22.5726, 88.3660), 0.0, square)  # inside, with no uncertainty


@pytest.mark.parametrize("polygon", [[], [[1, 2], [3, 4]], [[1, 2], [3, 4], [5, "x"]], [[91, 0], [0, 0], [0, 1]],
                                     "not a list", [[1, 2], [3, 4], [5, 6, 7]], [[True, 2], [3, 4], [5, 6]]])
def test_a_malformed_coverage_polygon_is_refused_with_a_reason(polygon):
    assert geometry.polygon_errors(polygon)
