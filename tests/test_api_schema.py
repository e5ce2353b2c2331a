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
    for path, method, operation in _operations(schema):
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
