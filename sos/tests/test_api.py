"""The SOS REST contract the NaariKavach mobile app depends on, and its answers to bad input."""

import pytest
from django.utils import timezone

from naarikavach.testing import client_for
from realtime.models import OutboxEvent
from sos.models import SOS, LocationUpdate
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db

VALID_SOS = {"name": "Asha", "sos_type": 0, "initial_latitude": 12.9716, "initial_longitude": 77.5946}


def counts():
    return SOS.objects.count(), LocationUpdate.objects.count(), OutboxEvent.objects.count()


def test_an_anonymous_caller_raises_an_sos_and_gets_the_only_copy_of_its_token(anon):
    response = anon.post("/api/create-sos/", {**VALID_SOS, "accuracy_m": 12.5, "phone": "+911234567890"})
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["message"]) == ("success", "SOS created successfully")
    sos = SOS.objects.get(pk=body["sos_id"])
    assert str(sos.room_id) == body["room_id"]
    assert sos.owner is None and sos.accuracy_m == 12.5
    assert sos.token_matches(body["access_token"])


def test_a_signed_in_citizen_owns_the_sos_they_raise(citizen):
    body = client_for(citizen).post("/api/create-sos/", VALID_SOS).json()
    assert SOS.objects.get(pk=body["sos_id"]).owner == citizen


def test_the_owner_streams_locations_with_the_access_token(anon):
    body = anon.post("/api/create-sos/", VALID_SOS).json()
    owner = client_for(None, sos_token=body["access_token"])
    response = owner.post("/api/update-location/", {"sos_request": body["sos_id"], "latitude": 12.98, "longitude": 77.6,
                                                    "accuracy_m": 8, "recorded_at": timezone.now().isoformat()})
    assert response.status_code == 201
    assert response.json()["status"] == "Location updated successfully"
    assert SOS.objects.get(pk=body["sos_id"]).locations.count() == 2


def test_a_posted_point_is_answered_as_it_was_stored():
    raised = raise_sos()
    # Raised before the point's time: points dated before their SOS are refused.
    SOS.objects.filter(pk=raised.sos.pk).update(created_at="2026-01-01T00:00:00Z")
    owner = client_for(None, sos_token=raised.token)
    body = owner.post("/api/update-location/", {"sos_request": raised.sos.pk, "latitude": 12.98, "longitude": 77.6,
                                                 "accuracy_m": 8, "recorded_at": "2026-01-02T03:04:05.5+05:30"}).json()
    assert body["location"] == {"latitude": 12.98, "longitude": 77.6, "accuracy_m": 8.0,
                                "recorded_at": "2026-01-01T21:34:05.500000Z"}
    point = raised.sos.locations.latest("id")
    assert (point.latitude, point.accuracy_m, point.recorded_at.isoformat()) == (12.98, 8.0, "2026-01-01T21:34:05.500000+00:00")


def test_assign_officer_answers_with_the_assignment_and_dispatches(officer_a):
    raised = raise_sos()
    response = client_for(officer_a).post("/api/assign-officer/", {
        "sos_request": raised.sos.pk, "officer_name": "Insp. Rao", "unit_number": "UNIT-A"})
    assert response.status_code == 201
    officer = response.json()["officer"]
    assert (officer["officer_name"], officer["unit_number"]) == ("Insp. Rao", "UNIT-A")
    raised.sos.refresh_from_db()
    assert raised.sos.status == "dispatched"


def test_resolve_answers_with_the_sos_and_unknown_ids_are_not_found(dispatcher):
    raised = raise_sos()
    client = client_for(dispatcher)
    response = client.post(f"/api/resolve-sos/{raised.sos.pk}/", {"note": "Reached safely"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["sos"]["status"]) == ("SOS resolved", "resolved")
    missing = client.post("/api/resolve-sos/99999/")
    assert (missing.status_code, missing.json()["error"]) == (404, "SOS not found")


def test_a_closed_sos_refuses_changes_with_409(dispatcher):
    raised = raise_sos()
    client = client_for(dispatcher)
    client.post(f"/api/resolve-sos/{raised.sos.pk}/")
    before = counts()
    owner = client_for(None, sos_token=raised.token)
    assert owner.post("/api/update-location/", {"sos_request": raised.sos.pk, "latitude": 1, "longitude": 1}).status_code == 409
    assert owner.post(f"/api/cancel-sos/{raised.sos.pk}/").status_code == 409
    assert client.post(f"/api/resolve-sos/{raised.sos.pk}/").status_code == 409
    assert counts() == before


def test_the_owner_cancels_a_false_alarm():
    raised = raise_sos()
    response = client_for(None, sos_token=raised.token).post(f"/api/cancel-sos/{raised.sos.pk}/", {"note": "Pressed by mistake"})
    assert response.status_code == 200
    assert response.json()["sos"]["status"] == "cancelled"
    assert raised.sos.audit_trail.last().details == {"note": "Pressed by mistake"}


def test_the_detail_shows_trail_assignments_and_audit_trail(dispatcher):
    raised = raise_sos()
    client = client_for(dispatcher)
    client.post(f"/api/sos/{raised.sos.pk}/acknowledge/")
    from accounts.services import unit_get_or_create

    unit_get_or_create(unit_number="UNIT-B")
    client.post("/api/assign-officer/", {"sos_request": raised.sos.pk, "officer_name": "Rao", "unit_number": "UNIT-B"})
    detail = client.get(f"/api/sos/{raised.sos.pk}/").json()
    assert [p["latitude"] for p in detail["locations"]] == [raised.sos.initial_latitude]
    assert [a["unit_number"] for a in detail["assignments"]] == ["UNIT-B"]
    assert [(e["action"], e["by"]) for e in detail["audit_trail"]] == [
        ("created", "sos-owner-token"), ("acknowledged", "dispatcher:dispatch"), ("assigned", "dispatcher:dispatch")]


def test_the_list_is_paginated_and_filtered_by_status(dispatcher):
    for _ in range(3):
        raise_sos()
    resolved = raise_sos()
    client = client_for(dispatcher)
    client.post(f"/api/resolve-sos/{resolved.sos.pk}/")
    page = client.get("/api/sos/?page_size=2").json()
    assert (page["count"], len(page["results"]), page["next"] is not None) == (4, 2, True)
    active = client.get("/api/sos/?status=active").json()
    assert active["count"] == 3
    closed = client.get("/api/sos/?status=resolved,cancelled").json()
    assert [row["sos_id"] for row in closed["results"]] == [resolved.sos.pk]


def test_near_filter_keeps_alerts_within_the_radius_nearest_first(dispatcher):
    near = raise_sos(latitude=12.9716, longitude=77.5946)        # Bengaluru centre
    nearer = raise_sos(latitude=12.9720, longitude=77.5950)
    raise_sos(latitude=13.0827, longitude=80.2707)                # Chennai, ~290 km away
    rows = client_for(dispatcher).get("/api/sos/?near=12.9721,77.5951&radius_km=5").json()["results"]
    assert [row["sos_id"] for row in rows] == [nearer.sos.pk, near.sos.pk]
    assert rows[0]["distance_km"] < rows[1]["distance_km"] < 5


def test_units_list_shows_last_positions(officer_a, dispatcher):
    client_for(officer_a).post("/api/units/UNIT-A/location/", {"latitude": 12.9, "longitude": 77.6, "accuracy_m": 5})
    units = client_for(dispatcher).get("/api/units/").json()["results"]
    [unit] = [u for u in units if u["unit_number"] == "UNIT-A"]
    assert (unit["last_latitude"], unit["last_longitude"], unit["officers"]) == (12.9, 77.6, ["officer_a"])


def test_the_openapi_schema_describes_the_sos_endpoints(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/create-sos/", "/api/update-location/", "/api/assign-officer/", "/api/sos/{sos_id}/"} <= set(paths)
    assert anon.get("/api/docs/").status_code == 200


# A bad optional detail no longer refuses an SOS: sos/tests/test_dropped_details.py. What is still refused:
BAD_SOS = [
    ([VALID_SOS], {"non_field_errors"}),  # not an object at all
]


@pytest.mark.parametrize(("body", "bad_fields"), BAD_SOS)
def test_bad_sos_input_is_a_400_naming_each_field_and_stores_nothing(anon, body, bad_fields):
    before = counts()
    response = anon.post("/api/create-sos/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == bad_fields
    assert response.json()["code"] == "invalid"
    assert counts() == before


BAD_LOCATION = [
    ({"latitude": 1, "longitude": 1}, {"sos_request"}),
    ({"sos_request": "abc", "latitude": 1, "longitude": 1}, {"sos_request"}),
    ({"latitude": 95, "longitude": 1}, {"latitude"}),
    ({"latitude": 1, "longitude": -200}, {"longitude"}),
    ({"latitude": "north", "longitude": 1}, {"latitude"}),
    ({"latitude": 1, "longitude": 1, "recorded_at": "yesterday"}, {"recorded_at"}),
    ({"latitude": 1, "longitude": 1, "recorded_at": "2999-01-01T00:00:00Z"}, {"recorded_at"}),
]


@pytest.mark.parametrize(("body", "bad_fields"), BAD_LOCATION)
def test_bad_location_input_is_a_400_and_stores_nothing(body, bad_fields):
    raised = raise_sos()
    body = {"sos_request": raised.sos.pk, **body} if "sos_request" not in bad_fields else body
    before = counts()
    response = client_for(None, sos_token=raised.token).post("/api/update-location/", body)
    assert response.status_code == 400, response.content
    assert set(response.json()["fields"]) == bad_fields
    assert counts() == before


def test_malformed_json_is_a_clean_400(anon):
    response = anon.post("/api/create-sos/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON" in response.json()["error"]


def test_a_location_for_an_unknown_sos_is_404(dispatcher):
    response = client_for(dispatcher).post("/api/update-location/", {"sos_request": 987654, "latitude": 1, "longitude": 1})
    assert (response.status_code, response.json()["error"]) == (404, "SOS not found")


def test_an_officer_assigning_an_unknown_unit_gets_a_400_on_that_field(officer_a):
    raised = raise_sos()
    response = client_for(officer_a).post("/api/assign-officer/", {"sos_request": raised.sos.pk, "officer_name": "Rao",
                                                                   "unit_number": "GHOST-9"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"unit_number"}


@pytest.mark.parametrize("query", ["status=open", "near=12.9", "near=a,b", "near=95,10", "radius_km=5",
                                   "near=1,1&radius_km=-1"])
def test_bad_list_filters_are_clear_errors(dispatcher, query):
    raise_sos()
    response = client_for(dispatcher).get(f"/api/sos/?{query}")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_page_past_the_end_is_not_found(dispatcher):
    raise_sos()
    response = client_for(dispatcher).get("/api/sos/?page=999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert response.json()["error"]


def test_unknown_routes_under_the_api_answer_json_404(anon):
    response = anon.get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_wrong_method_is_405_json(anon):
    response = anon.get("/api/create-sos/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@pytest.mark.django_db(transaction=True)
def test_a_database_that_is_busy_answers_503_to_retry_and_keeps_nothing(anon):
    """An SQLite writer lock held past the busy timeout (or a PostgreSQL lock wait) is a 503, not a 500."""
    import threading

    from django.db import connection

    raised = raise_sos()
    hold, release = threading.Event(), threading.Event()

    def hold_the_sos_row():
        from django.db import transaction

        with transaction.atomic():
            SOS.objects.select_for_update().get(pk=raised.sos.pk).save()
            hold.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_the_sos_row)
    holder.start()
    hold.wait(10)
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                connection.ensure_connection()
                connection.connection.execute("PRAGMA busy_timeout = 100")
            else:
                cursor.execute("SET lock_timeout = '100ms'")
        before = LocationUpdate.objects.count()
        response = client_for(None, sos_token=raised.token).post(
            "/api/update-location/", {"sos_request": raised.sos.pk, "latitude": 1, "longitude": 1})
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert (response.json()["code"], response["Retry-After"]) == ("busy", "2")
    assert LocationUpdate.objects.count() == before


def test_a_dispatcher_assigning_a_free_text_unit_gets_it_created_ad_hoc(dispatcher):
    raised = raise_sos()
    # What the NaariKavach dashboard sends (its Dashboard.jsx handleAssignOfficer body).
    response = client_for(dispatcher).post("/api/assign-officer/", {"sos_request": raised.sos.pk, "officer_name": "Officer Smith",
                                                                   "unit_number": "UNIT001"})
    assert response.status_code == 201
    assert response.json()["officer"]["unit_number"] == "UNIT001"
    units = client_for(dispatcher).get("/api/units/").json()["results"]
    assert [u["status"] for u in units if u["unit_number"] == "UNIT001"] == ["dispatched"]
