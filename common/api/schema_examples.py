"""An example for every operation of the OpenAPI schema (a drf-spectacular postprocessing hook).

Operations may carry hand-written examples (`extend_schema(examples=[OpenApiExample(...)])`); every
request body, JSON success response and error response that has none gets one built from its own schema,
with realistic values chosen by field name (a latitude in Bengaluru, an Indian phone number ...) within
the schema's bounds. tests/test_api_schema.py checks that every example is valid against its schema.
"""

from __future__ import annotations

import re

from common.api.schema import ERRORS, WRITE_ERRORS

# Plausible values by field name; anything the schema bounds (enum, range, length, pattern) still rules.
BY_NAME = {
    "latitude": 12.9716, "initial_latitude": 12.9716, "last_latitude": 12.9721,
    "longitude": 77.5946, "initial_longitude": 77.5946, "last_longitude": 77.595,
    "accuracy_m": 15.0, "last_accuracy_m": 12.0, "distance_km": 1.2, "distance_m": 180.0, "eta_minutes": 4,
    "name": "Asha", "first_name": "Meera", "last_name": "Rao", "officer_name": "Meera Rao", "username": "meera",
    "officer": "meera", "phone": "+919876543210", "email": "control-room@example.org",
    "password": "correct-horse-battery-7", "re_password": "correct-horse-battery-7",
    "current_password": "correct-horse-battery-7", "pin": "1357", "cancel_pin": "1357", "duress_pin": "2468",
    "current_pin": "1357", "unit_number": "PCR-1", "beacon_id": "GATE-1", "device_id": "CAM-01",
    "camera_id": "CAM-GATE-1", "idempotency_key": "6f1e2b9a-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
    "confidence_score": 0.92, "description": "Two people fighting near the gate.",
    "note": "On the way.", "resolution_note": "Two students separated; no injuries. Warden informed.",
    "reason": "Court order 114/2026", "message": "SOS created successfully", "sos_id": 1, "sos_request": 1,
    "id": 1, "ai_event_id": 1, "signal_id": 1, "count": 1, "sha256": "9" * 64, "access_token": "$SOS_TOKEN",
    "auth_token": "$TOKEN", "building": "Hostel Block 4", "floor": "2", "beacon_location": "Library Entrance",
    "status": "success", "signal_count": 2, "size_bytes": 46216, "width": 1280, "height": 720,
    "device_hints": {"timezone": "Asia/Kolkata", "language": "hi-IN", "network": "4g", "battery_percent": 14},
    "dropped": {}, "details": {"people": 3},
    # One camera of a detection worker's heartbeat (an item of `cameras`).
    "cameras[]": {"camera_id": "CAM-GATE-1", "state": "ok", "fps": 5.0, "dropped_frames": 0,
                  "last_frame_at": "2026-11-21T14:22:05Z", "model_latency_ms": 41.5},
}
FORMATS = {
    "date-time": "2026-11-21T14:22:05Z", "date": "2026-11-21", "uuid": "2af8d043-574a-41d3-931b-158dcfa7e1d5",
    "uri": "https://naarikavach.example.org/api/", "email": "control-room@example.org",
}
PATTERN_CANDIDATES = ["CAM-01", "GATE-1", "a1b2c3d4e5f6g7h8", "6f1e2b9a-3c4d-4e5f-8a9b-0c1d2e3f4a5b", "1357"]
MAX_DEPTH = 6


def _resolve(schema: dict, components: dict) -> dict:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:
        merged = {}
        for part in schema["allOf"]:
            merged.update(_resolve(part, components))
        merged.update({key: value for key, value in schema.items() if key != "allOf"})
        return merged
    return schema


def _fits(value, schema: dict) -> bool:
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return False
        return schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return schema.get("minimum", value) <= value <= schema.get("maximum", value)
    return True


def _string(name: str, schema: dict):
    candidates = [BY_NAME.get(name), FORMATS.get(schema.get("format"))]
    if "pattern" in schema:
        candidates += PATTERN_CANDIDATES
    label = name.removesuffix("[]").replace("_", " ")
    candidates.append(label.capitalize() if label else "text")
    for candidate in candidates:
        if isinstance(candidate, str) and _fits(candidate, schema):
            return candidate
    return "x" * max(schema.get("minLength", 1), 1)


def _number(name: str, schema: dict, integer: bool):
    value = BY_NAME.get(name)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not _fits(value, schema):
        low, high = schema.get("minimum"), schema.get("maximum")
        value = 1 if low is None or low <= 1 else low
        if high is not None and value > high:
            value = high
    return int(value) if integer else float(value)


def example_for(schema: dict, components: dict, *, name: str = "", direction: str = "response", depth: int = 0):
    """A value valid against `schema` (OpenAPI 3.0); None where nothing sensible fits."""
    schema = _resolve(schema, components)
    if "example" in schema:
        return schema["example"]
    if "enum" in schema:
        return next((value for value in schema["enum"] if value is not None), None)
    if "oneOf" in schema or "anyOf" in schema:
        return example_for((schema.get("oneOf") or schema["anyOf"])[0], components, name=name, direction=direction,
                           depth=depth)
    kind = schema.get("type", "object" if "properties" in schema else None)
    if kind is None:  # any value: what the field usually holds
        return BY_NAME.get(name, {})
    if kind == "object":
        if isinstance(BY_NAME.get(name), dict) and not schema.get("properties"):
            return BY_NAME[name]
        if depth >= MAX_DEPTH:
            return {}
        skip = "readOnly" if direction == "request" else "writeOnly"
        value = {}
        for field, field_schema in schema.get("properties", {}).items():
            resolved = _resolve(field_schema, components)
            if resolved.get(skip) or resolved.get("format") == "binary":
                continue
            field_value = example_for(field_schema, components, name=field, direction=direction, depth=depth + 1)
            if field_value is not None or resolved.get("nullable"):
                value[field] = field_value
        if not schema.get("properties") and isinstance(schema.get("additionalProperties"), dict):
            item = example_for(schema["additionalProperties"], components, direction=direction, depth=depth + 1)
            if item is not None:
                value["key"] = item
        return value
    if kind == "array":
        item = example_for(schema.get("items", {}), components, name=f"{name}[]", direction=direction,
                           depth=depth + 1)
        return [] if item is None else [item] * max(schema.get("minItems", 1), 1)
    if kind == "string":
        return None if schema.get("format") == "binary" else _string(name, schema)
    if kind in ("integer", "number"):
        return _number(name, schema, kind == "integer")
    if kind == "boolean":
        return False
    return None


def _error_example(code: str) -> dict:
    codes = {"400": "invalid", "401": "not_authenticated", "403": "permission_denied", "404": "not_found",
             "409": "conflict", "429": "throttled", "503": "busy"}
    body = {"error": {**ERRORS, **WRITE_ERRORS}.get(code, "Error."), "code": codes.get(code, "error")}
    if code == "400":
        body["fields"] = {"field": ["This field is required."]}
    return body


def _has_example(media: dict) -> bool:
    return bool(media.get("examples")) or "example" in media


def add_examples(result, generator, request, public):
    """drf-spectacular postprocessing hook: fill in an example wherever an operation has none."""
    components = result.get("components", {}).get("schemas", {})
    for item in result.get("paths", {}).values():
        for operation in item.values():
            for _media_type, media in operation.get("requestBody", {}).get("content", {}).items():
                if not _has_example(media) and "schema" in media:
                    value = example_for(media["schema"], components, direction="request")
                    if value is not None:
                        media["examples"] = {"Example": {"value": value, "summary": "A typical request"}}
            for code, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if media is None or _has_example(media):
                    continue
                if code.startswith(("4", "5")):
                    value = _error_example(code)
                else:
                    value = example_for(media.get("schema", {}), components)
                if value is not None:
                    media["examples"] = {"Example": {"value": value, "summary": response.get("description", "")[:80]}}
    return result
