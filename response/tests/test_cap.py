"""CAP 1.2 for an SOS and an incident, checked against the CAP rules; the checker itself; the Atom feed."""

from xml.etree import ElementTree as ET

import pytest
from django.urls import reverse

from common.actors import Actor
from common.cap import NS, cap_problems
from incidents import services as incident_services
from sos import services as sos_services
from sos.tests.conftest import raise_sos

ATOM = "{http://www.w3.org/2005/Atom}"


def cap_fields(document: bytes) -> dict:
    root = ET.fromstring(document)
    found = {child.tag.removeprefix(f"{{{NS}}}"): child.text for child in root}
    info = root.find(f"{{{NS}}}info")
    found.update({f"info.{c.tag.removeprefix(f'{{{NS}}}')}": c.text for c in info})
    area = info.find(f"{{{NS}}}area")
    found.update({f"area.{c.tag.removeprefix(f'{{{NS}}}')}": c.text for c in area})
    return found


def test_an_sos_exports_as_a_valid_cap_alert_with_a_circle_from_its_position_and_accuracy(client_for, dispatcher):
    sos, _ = sos_services.sos_create(name="Asha", sos_type=0, latitude=22.5726, longitude=88.3639, accuracy_m=25)

    response = client_for(dispatcher).get(reverse("sos-cap", args=[sos.pk]), HTTP_ACCEPT="application/cap+xml")

    assert response.status_code == 200 and response["Content-Type"] == "application/cap+xml"
    assert cap_problems(response.content) == []
    fields = cap_fields(response.content)
    assert (fields["identifier"], fields["msgType"], fields["status"], fields["scope"]) == (
        f"naarikavach-sos-{sos.pk}", "Alert", "Actual", "Restricted")
    assert (fields["info.category"], fields["info.event"], fields["info.urgency"], fields["info.severity"],
            fields["info.certainty"]) == ("Safety", "SOS emergency", "Immediate", "Extreme", "Observed")
    assert fields["area.circle"] == "22.572600,88.363900 0.025"
    assert fields["sent"] == sos.created_at.replace(microsecond=0).isoformat()


def test_a_closed_sos_exports_as_a_cancel_that_references_the_alert(client_for, dispatcher):
    sos, _ = sos_services.sos_create(name="Asha", sos_type=1, latitude=12.97, longitude=77.59)
    sos_services.sos_resolve(sos_id=sos.pk, actor=Actor.for_user(dispatcher))

    document = client_for(dispatcher).get(reverse("sos-cap", args=[sos.pk])).content

    fields = cap_fields(document)
    assert cap_problems(document) == []
    assert (fields["msgType"], fields["info.urgency"], fields["info.severity"]) == ("Cancel", "Past", "Severe")
    assert fields["references"].split(",")[1] == f"naarikavach-sos-{sos.pk}"


def test_an_incident_exports_as_a_valid_cap_alert(client_for, dispatcher, device, beacon):
    incident = incident_services.ai_detection_report(kind="violence", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.95, description="Fight").incident

    response = client_for(dispatcher).get(reverse("incident-cap", args=[incident.pk]))

    assert cap_problems(response.content) == []
    fields = cap_fields(response.content)
    assert (fields["info.category"], fields["info.severity"], fields["info.certainty"]) == (
        "Security", "Extreme", "Likely")
    assert fields["area.areaDesc"] == "Library Entrance, Central Library, G"
    assert fields["area.circle"] == "22.572600,88.363900 0.050"


def test_cap_is_for_responders_and_unknown_alerts_are_404(client_for, citizen, dispatcher):
    sos = raise_sos().sos

    assert client_for(citizen).get(reverse("sos-cap", args=[sos.pk])).status_code == 403
    missing = client_for(dispatcher).get(reverse("sos-cap", args=[999999]), HTTP_ACCEPT="application/cap+xml")
    assert missing.status_code == 404 and missing.json()["code"]


VALID = (
    f'<alert xmlns="{NS}"><identifier>a-1</identifier><sender>s@x</sender><sent>2026-12-01T10:00:00+00:00</sent>'
    "<status>Actual</status><msgType>Alert</msgType><scope>Public</scope><info><category>Safety</category>"
    "<event>SOS</event><urgency>Immediate</urgency><severity>Extreme</severity><certainty>Observed</certainty>"
    "<area><areaDesc>Here</areaDesc><circle>22.5,88.3 0.1</circle></area></info></alert>"
)


@pytest.mark.parametrize("broken, problem", [
    ("<identifier>a-1</identifier>", "missing <identifier>"),
    ("<status>Actual</status>", "missing <status>"),
    ("<scope>Public</scope>", "missing <scope>"),
    ("<certainty>Observed</certainty>", "missing <certainty>"),
    ("<severity>Extreme</severity>", "<severity> 'Huge'"),
    ("<msgType>Alert</msgType>", "<msgType> 'Notice'"),
    ("<sent>2026-12-01T10:00:00+00:00</sent>", "not a CAP dateTime"),
    ("<circle>22.5,88.3 0.1</circle>", "is not 'latitude,longitude radius'"),
    ("<circle>22.5,88.3 0.1</circle>", "outside WGS 84"),
    ("<identifier>a-1</identifier>", "restricted character"),
])
def test_the_cap_checker_finds_each_broken_rule(broken, problem):
    replacement = {
        "missing": "", "<severity> 'Huge'": "<severity>Huge</severity>", "<msgType> 'Notice'":
        "<msgType>Notice</msgType>", "not a CAP dateTime": "<sent>2026-12-01T10:00:00Z</sent>",
        "is not 'latitude,longitude radius'": "<circle>22.5 88.3, 0.1</circle>",
        "outside WGS 84": "<circle>122.5,88.3 0.1</circle>", "restricted character": "<identifier>a 1</identifier>",
    }
    key = "missing" if problem.startswith("missing") else problem
    document = VALID.replace(broken, replacement[key]).encode()

    assert cap_problems(VALID.encode()) == []
    assert any(problem in found for found in cap_problems(document)), cap_problems(document)


def test_the_atom_feed_lists_open_alerts_with_links_to_their_cap(client_for, dispatcher, citizen, device, beacon):
    open_sos, closed_sos = raise_sos(name="Open").sos, raise_sos(name="Closed").sos
    sos_services.sos_resolve(sos_id=closed_sos.pk, actor=Actor.for_user(dispatcher))
    incident = incident_services.ai_detection_report(kind="scream", device=device, beacon_id=beacon.beacon_id,
                                                     confidence_score=0.95, description="Scream").incident

    response = client_for(dispatcher).get(reverse("open-alerts-feed"), HTTP_ACCEPT="application/atom+xml")

    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    entries = ET.fromstring(response.content).findall(f"{ATOM}entry")
    assert sorted(e.find(f"{ATOM}id").text for e in entries) == sorted([
        f"urn:naarikavach:sos:{open_sos.pk}", f"urn:naarikavach:incident:{incident.pk}"])
    links = [e.find(f"{ATOM}link").get("href") for e in entries]
    assert any(link.endswith(f"/api/sos/{open_sos.pk}/cap.xml") for link in links)
    assert client_for(citizen).get(reverse("open-alerts-feed")).status_code == 403


def test_an_sos_without_a_position_yet_exports_and_feeds_without_a_circle(client_for, dispatcher):
    from sos import services as sos_services

    sos, _ = sos_services.sos_create(name="Asha", sos_type=0, latitude=None, longitude=None)
    responder = client_for(dispatcher)

    cap = responder.get(f"/api/sos/{sos.pk}/cap.xml")
    feed = responder.get("/api/feeds/open-alerts.atom")
    nearest = responder.get(f"/api/sos/{sos.pk}/nearest-units/")

    assert cap.status_code == 200 and cap_problems(cap.content) == []
    assert b"<circle>" not in cap.content and b"Location pending" in cap.content
    assert feed.status_code == 200 and b"location pending" in feed.content
    assert nearest.status_code == 409 and nearest.json()["code"] == "no_position"
