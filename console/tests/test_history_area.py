"""The history's area filter: a radius or a polygon drawn on the map keeps the closed alerts whose last position
lies inside; an alert never located lies in no area (and is counted); bad areas are clear 400s."""

import pytest

from common.actors import Actor
from incidents import services as incident_services
from incidents.tests.fixtures import _private_evidence_dir, beacon, device  # noqa: F401  (fixtures)
from naarikavach.testing import client_for
from sos import services
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db

# A square of about 2.2 km around Kolkata's centre (the beacon fixture's Library Entrance lies inside).
SQUARE = "22.56,88.35;22.56,88.37;22.58,88.37;22.58,88.35"
# A triangle whose hypotenuse cuts the square in two: (22.575, 88.355) is inside, (22.575, 88.368) is not.
TRIANGLE = "22.56,88.35;22.58,88.35;22.56,88.37"


@pytest.fixture
def closed(dispatcher, device, beacon):  # noqa: F811
    """Closed alerts in and around Kolkata, one never located, and a closed incident at the beacon."""
    control = Actor(user=dispatcher)
    alerts = {
        "centre": raise_sos(name="Centre", latitude=22.575, longitude=88.355),
        "east": raise_sos(name="East", latitude=22.575, longitude=88.368),
        "howrah": raise_sos(name="Howrah", latitude=22.595, longitude=88.263),  # ~9.5 km west
        # In the corner of the 2 km circle's bounding box, 2.3 km from its centre: outside the circle.
        "corner": raise_sos(name="Corner", latitude=22.5876, longitude=88.3799),
        "bengaluru": raise_sos(name="Bengaluru"),
        "unlocated": raise_sos(name="Unlocated", latitude=None, longitude=None),
    }
    for raised in alerts.values():
        services.sos_resolve(sos_id=raised.sos.pk, actor=control, note="safe")
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.9, description="fight").incident
    incident_services.incident_resolve(incident_id=incident.pk, actor=control, resolution_note="dispersed")
    ids = {name: raised.sos.pk for name, raised in alerts.items()}
    ids["incident"] = str(incident.pk)
    return ids


def found(client, **params) -> tuple[set, dict]:
    answer = client.get("/api/console/history/", params)
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    return {item["sos"]["id"] if item["kind"] == "sos" else item["incident"]["id"] for item in body["results"]}, body


def named(closed, *names) -> set:
    return {closed[name] for name in names}


def test_a_radius_keeps_the_closed_alerts_within_that_distance_of_its_centre(dispatcher, closed):
    client = client_for(dispatcher)

    near, body = found(client, lat=22.5726, lng=88.3639, km=2)
    wide, _ = found(client, lat=22.5726, lng=88.3639, km=12)

    assert near == named(closed, "centre", "east", "incident")
    assert body["count"] == 3 and body["without_position"] == 1
    assert wide == named(closed, "centre", "east", "incident", "howrah", "corner")


def test_a_polygon_keeps_the_closed_alerts_inside_it_with_the_other_filters(dispatcher, closed):
    client = client_for(dispatcher)

    in_square, body = found(client, area=SQUARE)
    in_triangle, _ = found(client, area=TRIANGLE)
    sos_in_square, _ = found(client, area=SQUARE, kind="sos")
    by_name, _ = found(client, area=SQUARE, q="east")

    assert in_square == named(closed, "centre", "east", "incident")
    assert body["without_position"] == 1
    assert in_triangle == named(closed, "centre")
    assert sos_in_square == named(closed, "centre", "east")
    assert by_name == named(closed, "east")


def test_without_an_area_every_closed_alert_is_listed_even_one_never_located(dispatcher, closed):
    everything, body = found(client_for(dispatcher))

    assert everything == set(closed.values())
    assert body["without_position"] == 0


@pytest.mark.parametrize("params, field, message", [
    ({"area": "22.56,88.35;22.58,88.37"}, "area", "Give at least 3 vertices"),
    ({"area": ";".join(["22.5,88.3"] * 51)}, "area", "Give at most 50 vertices (got 51)"),
    ({"area": "22.56,88.35;95,88.37;22.58,88.35"}, "area", "Vertex 2 (95,88.37): Latitude must be between -90 and 90."),
    ({"area": "22.56,88.35;22.58,188;22.58,88.35"}, "area", "Longitude must be between -180 and 180."),
    ({"area": "22.56,88.35;north,88.37;22.58,88.35"}, "area", "Vertex 2 ('north,88.37') is not two numbers"),
    ({"area": "22.56,88.35,1;22.5,88.3;22.58,88.35"}, "area", "is not two numbers"),
    ({"area": "22.56,nan;22.5,88.3;22.58,88.35"}, "area", "Longitude must be between"),
    ({"area": "<script>"}, "area", "Give at least 3 vertices"),
    ({"lat": 91, "lng": 88.36, "km": 2}, "lat", "less than or equal to 90"),
    ({"lat": 22.5, "lng": -181, "km": 2}, "lng", "greater than or equal to -180"),
    ({"lat": "here", "lng": 88.36, "km": 2}, "lat", "A valid number is required."),
    ({"lat": 22.5, "lng": 88.36, "km": 0}, "km", "greater than or equal to 0.01"),
    ({"lat": 22.5, "lng": 88.36, "km": "inf"}, "km", "A valid number is required."),
    ({"lat": 22.5, "km": 2}, "lng", "A radius area needs lat, lng and km together."),
    ({"lat": 22.5, "lng": 88.36, "km": 2, "area": SQUARE}, "area", "not both"),
])
def test_a_bad_area_is_a_clear_error_naming_its_field(dispatcher, params, field, message):
    answer = client_for(dispatcher).get("/api/console/history/", params)

    assert answer.status_code == 400
    body = answer.json()
    assert field in body["fields"], body
    assert message in " ".join(body["fields"][field]), body


def test_only_responders_search_the_history_by_area(citizen, anon):
    assert anon.get("/api/console/history/", {"area": SQUARE}).status_code == 401
    assert client_for(citizen).get("/api/console/history/", {"area": SQUARE}).status_code == 403
