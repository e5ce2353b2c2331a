"""The OpenAPI schema: each operation its own request component, its errors declared, the X-SOS-Token scheme."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

WRITE_METHODS = {"post", "put", "patch"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def _operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def _request_refs(operation):
    content = operation.get("requestBody", {}).get("content", {})
    return {media["schema"].get("$ref") for media in content.values() if "$ref" in media.get("schema", {})}


def test_no_two_operations_share_a_request_component(schema):
    owners = {}
    for _path, _method, operation in _operations(schema):
        for ref in _request_refs(operation):
            owners.setdefault(ref, set()).add(operation["operationId"])
    # Operations that take the very same input share its component, by design: the SOS state changes
    # (an optional note), the two detection reports, acknowledging or starting an incident, and exporting
    # the evidence bundle of an incident or an SOS (a reason), linking or unlinking a camera to an SOS.
    by_design = {"SOSStateChangeInput", "DetectionReport", "IncidentNote", "EvidenceBundleRequest", "CameraLinkInput"}
    shared = {ref: ids for ref, ids in owners.items() if len(ids) > 1 and ref.rsplit("/", 1)[1] not in by_design}
    assert shared == {}
    assert "#/components/schemas/SOSCreateInput" in owners
    assert "#/components/schemas/AssignOfficerInput" in owners


def test_every_operation_declares_the_error_shape(schema):
    for path, method, operation in _operations(schema):
        for code in ("400", "401", "403", "404", "429"):
            body = operation["responses"][code]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (path, method, code)
        if method in WRITE_METHODS:
            assert "409" in operation["responses"], (path, method)
    assert set(schema["components"]["schemas"]["Error"]["required"]) == {"error", "code"}


def test_the_sos_token_scheme_is_declared_where_it_is_accepted(schema):
    scheme = schema["components"]["securitySchemes"]["sosToken"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "X-SOS-Token")
    accepting = {(path, method) for path, method, operation in _operations(schema)
                 if {"sosToken": []} in operation.get("security", [])}
    assert ("/api/update-location/", "post") in accepting
    assert ("/api/sos/{sos_id}/", "get") in accepting
    assert ("/api/assign-officer/", "post") not in accepting


def test_the_api_docs_page_loads_swagger_ui_from_our_own_static_files(anon):
    page = anon.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page


def _examples(media: dict) -> list:
    found = [example["value"] for example in media.get("examples", {}).values() if "value" in example]
    return found + ([media["example"]] if "example" in media else [])


def test_every_operation_has_examples_of_its_requests_and_its_answers(schema):
    missing = []
    for path, method, operation in _operations(schema):
        for media_type, media in operation.get("requestBody", {}).get("content", {}).items():
            if media_type == "application/json" and not _examples(media):
                missing.append((path, method, "request"))
        success = [code for code in operation["responses"] if code.startswith("2")]
        for code, response in operation["responses"].items():
            media = response.get("content", {}).get("application/json")
            if media is not None and (code in success or code.startswith("4")) and not _examples(media):
                missing.append((path, method, code))
        assert any(code.startswith("4") for code in operation["responses"]), (path, method)
    assert missing == []
    assert sum(1 for _ in _operations(schema)) >= 60


def _json_schema(node, direction: str):
    """OpenAPI 3.0 to JSON Schema: `nullable` as a null alternative, components under $defs; a request
    need not send read-only fields."""
    if isinstance(node, list):
        return [_json_schema(item, direction) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {}
    for key, value in node.items():
        if key == "$ref":
            converted[key] = "#/$defs/" + value.rsplit("/", 1)[1]
        elif key == "properties":
            converted[key] = {name: _json_schema(sub, direction) for name, sub in value.items()}
        elif key not in ("nullable", "readOnly", "writeOnly", "example", "discriminator", "xml"):
            converted[key] = _json_schema(value, direction)
    if direction == "request" and "required" in converted:
        read_only = {name for name, sub in node.get("properties", {}).items() if sub.get("readOnly")}
        converted["required"] = [name for name in converted["required"] if name not in read_only]
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def test_every_example_is_valid_against_its_own_schema(schema):
    import jsonschema

    invalid, checked = [], 0
    for path, method, operation in _operations(schema):
        bodies = [("request", media) for media in operation.get("requestBody", {}).get("content", {}).values()]
        bodies += [("response", response["content"]["application/json"]) for response in operation["responses"].values()
                   if "application/json" in response.get("content", {})]
        for direction, media in bodies:
            defs = {name: _json_schema(component, direction)
                    for name, component in schema["components"]["schemas"].items()}
            validator = jsonschema.Draft202012Validator({**_json_schema(media.get("schema", {}), direction),
                                                         "$defs": defs})
            for value in _examples(media):
                checked += 1
                errors = [error.message for error in validator.iter_errors(value)]
                if errors:
                    invalid.append((path, method, direction, errors[:2]))
    assert invalid == [], "\n".join(map(str, invalid))
    assert checked >= 200
