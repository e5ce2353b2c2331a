"""The incident personas (beacons, devices) for the ResQ alias tests."""

from incidents.tests.fixtures import _private_evidence_dir, beacon, device, device_client  # noqa: F401
