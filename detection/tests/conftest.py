"""Fixtures for the detection worker's stage tests."""

import pytest

from detection.tests.factories import FakeApi


@pytest.fixture
def fake_api():
    api = FakeApi()
    yield api
    api.close()
