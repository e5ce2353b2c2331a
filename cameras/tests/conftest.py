"""Camera personas: CAM-01's worker runs two cameras at the library, facing the entrance and the stairs."""

import pytest

from cameras import services
from incidents.tests.fixtures import (  # noqa: F401
    _private_evidence_dir,
    beacon,
    device,
    device_client,
    other_beacon,
    roaming_client,
    roaming_device,
)

# The library entrance; the cameras look north from here.
ORIGIN = (22.5726, 88.3639)


@pytest.fixture
def entrance_camera(device, beacon):  # noqa: F811
    """Looks north over a 90° field for 50 m."""
    return services.camera_create(
        camera_id="library-entrance", name="Library entrance", device=device, beacon=beacon,
        latitude=ORIGIN[0], longitude=ORIGIN[1], heading_deg=0.0, fov_deg=90.0, range_m=50.0,
    )


@pytest.fixture
def stairs_camera(device, beacon):  # noqa: F811
    """Same worker and beacon; covers a small drawn square 200 m east of the entrance."""
    return services.camera_create(
        camera_id="library-stairs", name="Library stairs", device=device, beacon=beacon,
        latitude=ORIGIN[0], longitude=ORIGIN[1] + 0.002,
        coverage=[[22.5725, 88.3659], [22.5727, 88.3659], [22.5727, 88.3661], [22.5725, 88.3661]],
    )
