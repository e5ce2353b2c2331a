"""Fixtures for the privacy tests: the incident personas, and raising SOS alerts."""

import pytest

from incidents.tests.fixtures import (  # noqa: F401
    _private_evidence_dir,
    beacon,
    device,
    device_client,
)


@pytest.fixture(autouse=True)
def _signing_key_of_this_test(settings, tmp_path):
    """Each test signs with its own platform key, made on first use in its own directory."""
    settings.EVIDENCE_SIGNING_KEY_FILE = tmp_path / "keys" / "evidence_signing_key.pem"
