"""OASIS Common Alerting Protocol 1.2: an SOS or incident alert payload written as a CAP <alert>, and a checker.

The payloads are the ones alerts carry (`SOS.alert_payload()`, `Incident.event_payload()`), so a CAP
webhook and `GET …/cap.xml` say the same thing. `cap_problems()` checks a document against the CAP 1.2
rules that matter to receivers: every required element in order, the enumerations, the time format
and the circle syntax.
"""

import re
from datetime import datetime
from xml.etree import ElementTree as ET

from common.geo import position_errors

NS = "urn:oasis:names:tc:emergency:cap:1.2"

STATUSES = {"Actual", "Exercise", "System", "Test", "Draft"}
MSG_TYPES = {"Alert", "Update", "Cancel", "Ack", "Error"}
SCOPES = {"Public", "Restricted", "Private"}
CATEGORIES = {"Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
              "CBRNE", "Other"}
URGENCIES = {"Immediate", "Expected", "Future", "Past", "Unknown"}
SEVERITIES = {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}
CERTAINTIES = {"Observed", "Likely", "Possible", "Unlikely", "Unknown"}
# CAP's dateTime: no fractional seconds, an explicit offset ("Z" is not allowed).
CAP_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
CIRCLE = re.compile(r"^(-?\d+(\.\d+)?),(-?\d+(\.\d+)?) (\d+(\.\d+)?)$")

SEVERITY_BY_PRIORITY = {"Critical": "Extreme", "High": "Severe", "Medium": "Moderate", "Low": "Minor"}
# Where a camera's beacon is, without a measured accuracy: a building-sized circle.
DEFAULT_RADIUS_KM = 0.05
CLOSING_EVENTS = {"sos_resolved", "sos_cancelled", "incident_resolved"}
RESTRICTION = "For police and emergency responders only."


def cap_time(value: str | datetime) -> str:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(microsecond=0).isoformat()


def _msg_type(event: str) -> str:
    if event.endswith("_created"):
        return "Alert"
    return "Cancel" if event in CLOSING_EVENTS else "Update"


def _circle(latitude: float, longitude: float, radius_km: float) -> str:
    return f"{latitude:.6f},{longitude:.6f} {radius_km:.3f}"


def _sos_fields(sos: dict, sender: str) -> dict:
    emergency = sos["sos_type"] == 0
    accuracy = sos.get("accuracy_m")
    return {
        "identifier": f"naarikavach-sos-{sos['sos_id']}",
        "first_sent": sos["created_at"],
        "category": "Safety",
        "event": "SOS emergency" if emergency else "SOS alert",
        "severity": "Extreme" if emergency else "Severe",
        "certainty": "Observed",
        "headline": f"SOS {'emergency' if emergency else 'alert'} #{sos['sos_id']} from {sos['name']}",
        "description": f"Citizen SOS, status {sos['status']}."
        + (f" Escalation level {sos['escalation_level']}." if sos.get("escalation_level") else ""),
        "area": f"Position reported by {sos['name']}'s phone" if sos["latitude"] is not None
        else "Location pending: the phone has not reported a position yet",
        # An SOS raised without a fix (location pending) has no circle yet; the area still names it.
        "circle": _circle(sos["latitude"], sos["longitude"],
                          accuracy / 1000 if accuracy is not None else DEFAULT_RADIUS_KM)
        if sos["latitude"] is not None else None,
    }


def _incident_fields(incident: dict, sender: str) -> dict:
    beacon = incident["beacon"]
    place = ", ".join(part for part in (beacon["name"], beacon.get("building"), beacon.get("floor")) if part)
    fields = {
        "identifier": f"naarikavach-incident-{incident['incident_id']}",
        "first_sent": incident["first_signal_at"],
        "category": "Security",
        "event": f"{incident['kind'].capitalize()} detected",
        "severity": SEVERITY_BY_PRIORITY.get(incident["priority"], "Unknown"),
        "certainty": "Likely",
        "headline": f"{incident['priority']} {incident['kind']} alert at {beacon['name']}",
        "description": f"{incident['description']} (status {incident['status']})",
        "area": place,
        "circle": None,
    }
    if beacon.get("latitude") is not None:
        fields["circle"] = _circle(beacon["latitude"], beacon["longitude"], DEFAULT_RADIUS_KM)
    return fields


# Characters XML 1.0 cannot carry at all (C0 controls but tab, newline and carriage return; lone surrogates;
# U+FFFE, U+FFFF): a device's description or a name holding one must not break the document (or the feed).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text):
    """`text` without the characters XML 1.0 cannot hold (None stays None)."""
    return _NOT_XML.sub("", text) if isinstance(text, str) else text


def alert_element(subject_key: str, payload: dict, *, event: str, sender: str, sent: datetime | None = None,
                  web: str = "") -> ET.Element:
    fields = (_sos_fields if subject_key == "sos" else _incident_fields)(payload, sender)
    msg_type = _msg_type(event)
    sent_at = cap_time(sent) if sent is not None else cap_time(fields["first_sent"])
    alert = ET.Element(f"{{{NS}}}alert")

    def add(parent, name, text):
        child = ET.SubElement(parent, f"{{{NS}}}{name}")
        child.text = xml_safe(text)
        return child

    identifier = fields["identifier"] if msg_type == "Alert" else f"{fields['identifier']}-{event}-{sent_at}"
    add(alert, "identifier", identifier)
    add(alert, "sender", sender)
    add(alert, "sent", sent_at)
    add(alert, "status", "Actual")
    add(alert, "msgType", msg_type)
    add(alert, "scope", "Restricted")
    add(alert, "restriction", RESTRICTION)
    if msg_type != "Alert":
        add(alert, "references", f"{sender},{fields['identifier']},{cap_time(fields['first_sent'])}")
    info = ET.SubElement(alert, f"{{{NS}}}info")
    add(info, "language", "en")
    add(info, "category", fields["category"])
    add(info, "event", fields["event"])
    add(info, "urgency", "Past" if msg_type == "Cancel" else "Immediate")
    add(info, "severity", fields["severity"])
    add(info, "certainty", fields["certainty"])
    add(info, "senderName", "NaariKavach")
    add(info, "headline", fields["headline"])
    add(info, "description", fields["description"])
    if web:
        add(info, "web", web)
    area = ET.SubElement(info, f"{{{NS}}}area")
    add(area, "areaDesc", fields["area"] or "Unknown place")
    if fields["circle"]:
        add(area, "circle", fields["circle"])
    return alert


def alert_xml(subject_key: str, payload: dict, *, event: str, sender: str | None = None,
              sent: datetime | None = None, web: str = "") -> bytes:
    """The CAP 1.2 document for one alert about an SOS (`subject_key="sos"`) or an incident."""
    if sender is None:
        from django.conf import settings

        sender = getattr(settings, "CAP_SENDER", "naarikavach@localhost")
    ET.register_namespace("", NS)
    element = alert_element(subject_key, payload, event=event, sender=sender, sent=sent, web=web)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


# The checker ------------------------------------------------------------------------------------

ALERT_ORDER = ["identifier", "sender", "sent", "status", "msgType", "source", "scope", "restriction", "addresses",
               "code", "note", "references", "incidents", "info"]
INFO_ORDER = ["language", "category", "event", "responseType", "urgency", "severity", "certainty", "audience",
              "eventCode", "effective", "onset", "expires", "senderName", "headline", "description",
              "instruction", "web", "contact", "parameter", "resource", "area"]
AREA_ORDER = ["areaDesc", "polygon", "circle", "geocode", "altitude", "ceiling"]
FORBIDDEN_CHARS = re.compile(r"[ ,<&]")


def _names(element: ET.Element) -> list[str]:
    return [child.tag.removeprefix(f"{{{NS}}}") for child in element]


def _order_problems(where: str, names: list[str], order: list[str], required: list[str]) -> list[str]:
    problems = [f"{where}: missing <{name}>" for name in required if name not in names]
    unknown = [name for name in names if name not in order]
    problems += [f"{where}: unknown <{name}>" for name in unknown]
    positions = [order.index(name) for name in names if name in order]
    if positions != sorted(positions):
        problems.append(f"{where}: elements out of order: {names}")
    return problems


def cap_problems(document: bytes) -> list[str]:
    """Every way `document` breaks the CAP 1.2 rules checked here; empty when it is valid."""
    try:
        root = ET.fromstring(document)
    except ET.ParseError as exc:
        return [f"not XML: {exc}"]
    if root.tag != f"{{{NS}}}alert":
        return [f"root is {root.tag}, not the CAP 1.2 <alert>"]
    text = {child.tag.removeprefix(f"{{{NS}}}"): (child.text or "") for child in root}
    problems = _order_problems("alert", _names(root), ALERT_ORDER,
                               ["identifier", "sender", "sent", "status", "msgType", "scope"])
    for name in ("identifier", "sender"):
        if name in text and (not text[name] or FORBIDDEN_CHARS.search(text[name])):
            problems.append(f"alert: <{name}> is empty or has a space, comma or restricted character")
    if "sent" in text and not CAP_TIME.match(text["sent"]):
        problems.append(f"alert: <sent> {text['sent']!r} is not a CAP dateTime")
    for name, allowed in (("status", STATUSES), ("msgType", MSG_TYPES), ("scope", SCOPES)):
        if name in text and text[name] not in allowed:
            problems.append(f"alert: <{name}> {text[name]!r} is not one of {sorted(allowed)}")
    if text.get("scope") == "Restricted" and not text.get("restriction"):
        problems.append("alert: a Restricted alert needs a <restriction>")
    if text.get("msgType") in {"Update", "Cancel"} and not text.get("references"):
        problems.append("alert: an Update or Cancel needs <references>")
    for info in root.findall(f"{{{NS}}}info"):
        problems += _info_problems(info)
    return problems


def _info_problems(info: ET.Element) -> list[str]:
    problems = _order_problems("info", _names(info), INFO_ORDER,
                               ["category", "event", "urgency", "severity", "certainty"])
    for name, allowed in (("category", CATEGORIES), ("urgency", URGENCIES), ("severity", SEVERITIES),
                          ("certainty", CERTAINTIES)):
        for element in info.findall(f"{{{NS}}}{name}"):
            if element.text not in allowed:
                problems.append(f"info: <{name}> {element.text!r} is not one of {sorted(allowed)}")
    for area in info.findall(f"{{{NS}}}area"):
        problems += _order_problems("area", _names(area), AREA_ORDER, ["areaDesc"])
        for circle in area.findall(f"{{{NS}}}circle"):
            problems += _circle_problems(circle.text or "")
    return problems


def _circle_problems(value: str) -> list[str]:
    match = CIRCLE.match(value)
    if not match:
        return [f"area: <circle> {value!r} is not 'latitude,longitude radius'"]
    latitude, longitude = float(match.group(1)), float(match.group(3))
    if position_errors(latitude, longitude):
        return [f"area: <circle> {value!r} is outside WGS 84 ranges"]
    return []
