"""The REST calls of the NaariKavach clients and the ResQ detectors, as their code sends them.

NaariKavach: the web dashboard (naarikavach_website/src/components/Dashboard.jsx) and the app
(NaariKavach_App/.../services/services.tsx) with their base URL set to <our host>/naarikavach.
ResQ: its AI routes without /ai/ (ai_engine/urls.py: violence-detected/, scream-detected/).
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from common.actors import Actor
from incidents.models import Incident
from incidents.tests.factories import report, upload
from naarikavach.testing import client_for
from sos import services
from sos.models import SOS
from sos.tests.conftest import raise_sos

pytestmark = pytest.mark.django_db

BASE = "/naarikavach"


def test_the_dashboards_sos_list_is_a_json_array_with_their_field_names_and_ours(dispatcher):
    raised = raise_sos(name="Asha")
    services.sos_location_add(sos_id=raised.sos.pk, latitude=12.98, longitude=77.6, actor=Actor(user=dispatcher))
    services.sos_assign(sos_id=raised.sos.pk, officer_name="Officer Smith", unit_number="UNIT001",
                        actor=Actor(user=dispatcher))

    # Dashboard.jsx fetchSOSData: fetch('http://localhost:8000/api/sos/', {headers: getAuthHeaders()}) ... data.map(...)
    response = client_for(dispatcher).get(f"{BASE}/api/sos/")

    assert response.status_code == 200
    [row] = response.json()
    assert (row["id"], row["name"], row["sos_type"], row["room_id"]) == (
        raised.sos.pk, "Asha", 0, str(raised.sos.room_id))
    assert (row["status_flag"], row["acknowledged_flag"], row["unit_number_dispatched"]) == (0, 1, "UNIT001")
    assert (row["initial_latitude"], row["initial_longitude"]) == (12.9716, 77.5946)
    assert [p["latitude"] for p in row["location_updates"]] == [12.9716, 12.98]
    assert row["location_updates"][0]["sos_request"] == raised.sos.pk
    assert [(a["officer_name"], a["unit_number"]) for a in row["officer_assignments"]] == [("Officer Smith", "UNIT001")]
    assert (row["user"], row["status"], row["sos_id"]) == (None, "dispatched", raised.sos.pk)


def test_our_own_sos_list_keeps_its_pagination(dispatcher):
    raise_sos()
    body = client_for(dispatcher).get("/api/sos/").json()
    assert set(body) >= {"count", "results"}


def test_the_array_holds_every_open_alert_and_only_the_recently_closed(dispatcher, settings):
    settings.COMPAT_CLOSED_WINDOW_HOURS = 24
    still_open = raise_sos(name="open")
    recent = raise_sos(name="closed today")
    services.sos_resolve(sos_id=recent.sos.pk, actor=Actor(user=dispatcher))
    old = raise_sos(name="closed last week")
    services.sos_resolve(sos_id=old.sos.pk, actor=Actor(user=dispatcher))
    SOS.objects.filter(pk=old.sos.pk).update(closed_at=timezone.now() - timedelta(days=7))

    rows = client_for(dispatcher).get(f"{BASE}/api/sos/").json()

    assert {(r["name"], r["status_flag"]) for r in rows} == {("open", 0), ("closed today", 1)}
    assert still_open.sos.pk in {r["id"] for r in rows}


def test_the_closed_part_of_the_array_is_capped(dispatcher, settings):
    settings.COMPAT_CLOSED_LIMIT = 2
    for i in range(4):
        services.sos_resolve(sos_id=raise_sos(name=f"closed {i}").sos.pk, actor=Actor(user=dispatcher))
    raise_sos(name="open")
    rows = client_for(dispatcher).get(f"{BASE}/api/sos/").json()
    assert sorted(r["name"] for r in rows) == ["closed 2", "closed 3", "open"]


@pytest.mark.parametrize("persona", ["citizen", "anonymous"])
def test_the_array_is_for_responders_only(persona, citizen, client):
    raise_sos(owner=citizen)
    response = (client_for(citizen) if persona == "citizen" else client).get(f"{BASE}/api/sos/")
    assert response.status_code in (401, 403)
    assert "error" in response.json()


def test_get_all_sos_wraps_the_same_array(dispatcher):
    raise_sos()
    body = client_for(dispatcher).get(f"{BASE}/api/get-all-sos/").json()
    assert (body["status"], body["count"], len(body["data"])) == ("success", 1, 1)


def test_the_apps_sos_detail_has_location_updates_and_officer_assignments_for_its_owner(citizen, other_citizen):
    raised = raise_sos(owner=citizen)
    # services.tsx getSOSById: fetchApi<SOSData>(`/api/sos/${sosId}/`)
    mine = client_for(citizen).get(f"{BASE}/api/sos/{raised.sos.pk}/")
    theirs = client_for(other_citizen).get(f"{BASE}/api/sos/{raised.sos.pk}/")
    missing = client_for(citizen).get(f"{BASE}/api/sos/987654/")

    assert mine.status_code == 200
    assert [p["latitude"] for p in mine.json()["location_updates"]] == [12.9716]
    assert mine.json()["officer_assignments"] == []
    assert (theirs.status_code, missing.status_code) == (404, 404)  # a stranger learns nothing: the same answer as a missing SOS


def test_their_other_calls_reach_our_views_under_the_base_url(dispatcher):
    # services.tsx createSOS: fetchApi('/api/create-sos/', {method: 'POST', body: {name, sos_type, initial_latitude, initial_longitude}})
    created = client_for(None).post(f"{BASE}/api/create-sos/", {"name": "Priya", "sos_type": 0,
                                                                  "initial_latitude": 12.9, "initial_longitude": 77.5},
                                    format="json")
    sos_id = created.json()["sos_id"]
    # Dashboard.jsx handleResolveSOS: fetch(`.../api/resolve-sos/${sosId}/`, {method: 'POST'}) with no body
    resolved = client_for(dispatcher).post(f"{BASE}/api/resolve-sos/{sos_id}/")
    assert (created.status_code, resolved.status_code) == (201, 200)
    assert SOS.objects.get(pk=sos_id).status == SOS.Status.RESOLVED


@pytest.mark.parametrize("path", ["/api/violence-detected/", "/api/scream-detected/"])
def test_resqs_ai_routes_without_ai_answer_like_ours(path, device_client, beacon):
    body = {**report(beacon.beacon_id, 0.95, device_id="CAM-01"),
            "description": "Violent confrontation detected with weapon - immediate response needed"}
    if "violence" in path:
        body["images"] = [upload("violence1.jpg")]
    response = device_client.post(path, body, format="multipart")
    ours = device_client.post(path.replace("/api/", "/api/ai/"), {**body, "images": []}, format="multipart")

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "incident_created"
    # The same incident: the alias and our route are one endpoint (the second report joins the first).
    assert ours.status_code == 200 and ours.json()["incident_id"] == response.json()["incident_id"]
    assert Incident.objects.count() == 1


def test_resqs_ai_route_without_a_device_key_is_refused(client, beacon):
    response = client.post("/api/violence-detected/", report(beacon.beacon_id), format="multipart")
    assert response.status_code == 401
    assert Incident.objects.count() == 0


def test_a_cross_origin_preflight_from_an_allowed_origin_is_answered_before_authentication(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:3000"]
    preflight = client.options("/auth/token/login/", HTTP_ORIGIN="http://localhost:3000",
                               HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                               HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type,authorization")
    listing = client.options("/naarikavach/api/sos/", HTTP_ORIGIN="http://localhost:3000",
                             HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert preflight.status_code == 200
    assert preflight["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert "authorization" in preflight["Access-Control-Allow-Headers"]
    assert listing["Access-Control-Allow-Origin"] == "http://localhost:3000"


def test_an_origin_not_in_the_list_gets_no_cors_headers(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["http://localhost:3000"]
    response = client.options("/auth/token/login/", HTTP_ORIGIN="https://evil.example",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in response
