"""Schema-driven requests (schemathesis) against every operation of /api/schema/, as each kind of caller:
no response is a server error and every response matches the schema. Bounded: SCHEMA_FUZZ_EXAMPLES
examples per operation and caller (25 unless set)."""

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from incidents import services as incident_services
from naarikavach.testing import api_token
from naarikavach.wsgi import application
from sos.tests.conftest import raise_sos

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "25"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: a request through the WSGI app must not close the test's connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def callers(citizen, dispatcher):
    beacon = incident_services.beacon_create(beacon_id="fuzz-beacon", name="Fuzz", latitude=12.9, longitude=77.5)
    _, device_key = incident_services.device_create(device_id="FUZZ-CAM", beacon=beacon)
    raise_sos(owner=citizen)
    return {
        "anonymous": {},
        "citizen": {"Authorization": f"Token {api_token(citizen)}"},
        "dispatcher": {"Authorization": f"Token {api_token(dispatcher)}"},
        "device": {"Authorization": f"Device {device_key}"},
    }


def _check(operation, headers) -> None:
    @given(case=operation.as_strategy())
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                         suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call(headers={**(case.headers or {}), **headers})
        # A failure raises with the case (a curl command to repeat it) and the broken rule.
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    run()


@pytest.mark.parametrize("caller", ["anonymous", "citizen", "dispatcher", "device"])
def test_no_operation_answers_5xx_or_breaks_its_schema(callers, caller):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        # Signing out would end the caller's session for every operation after it.
        if operation.path.startswith("/auth/token/logout"):
            continue
        _check(operation, callers[caller])
        operations += 1
    assert operations >= 20  # Every operation of the schema was exercised, not an empty schema.
