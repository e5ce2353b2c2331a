"""Fixtures for the incidents tests (defined in fixtures.py so that tests/ can use them too)."""

from incidents.tests.fixtures import (  # noqa: F401
    _private_evidence_dir,
    beacon,
    device,
    device_client,
    other_beacon,
    roaming_client,
    roaming_device,
)
