"""Fixtures for the privacy tests: the incident personas, and raising SOS alerts."""

from incidents.tests.fixtures import (  # noqa: F401
    _private_evidence_dir,
    beacon,
    device,
    device_client,
)
