"""SOS fixtures: an alert raised anonymously (known only by its token) and one raised by a signed-in citizen."""

from dataclasses import dataclass

import pytest

from sos import services
from sos.models import SOS


@dataclass
class RaisedSOS:
    sos: SOS
    token: str


def raise_sos(owner=None, *, latitude=12.9716, longitude=77.5946, name="Asha") -> RaisedSOS:
    sos, token = services.sos_create(
        name=name, sos_type=SOS.Type.EMERGENCY, latitude=latitude, longitude=longitude, owner=owner
    )
    return RaisedSOS(sos=sos, token=token)


@pytest.fixture
def anonymous_sos(db) -> RaisedSOS:
    return raise_sos()


@pytest.fixture
def citizen_sos(citizen) -> RaisedSOS:
    return raise_sos(owner=citizen)
