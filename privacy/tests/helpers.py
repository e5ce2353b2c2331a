"""Test data for the privacy tests: incidents with evidence, SOS alerts, users with the unredacted permission."""

from django.contrib.auth.models import Permission

from incidents import services as incident_services
from incidents.tests.factories import image_bytes, upload
from sos import services as sos_services
from sos.models import SOS


def incident_with_image(device, beacon, data: bytes | None = None, *, confidence=0.95):
    """Report a detection with one image; returns (incident or None, image)."""
    result = incident_services.ai_detection_report(
        kind="violence", device=device, beacon_id=beacon.beacon_id, confidence_score=confidence,
        description="Fight detected", images=[upload("cam.jpg", data if data is not None else image_bytes())],
    )
    return result.incident, result.images[0]


def raise_sos(owner=None, *, latitude=12.9716, longitude=77.5946, name="Asha", phone=""):
    sos, token = sos_services.sos_create(name=name, sos_type=SOS.Type.EMERGENCY, latitude=latitude,
                                         longitude=longitude, owner=owner, phone=phone)
    return sos, token


def grant_unredacted(user):
    user.user_permissions.add(Permission.objects.get(codename="view_unredacted_evidence"))
    # Permissions are cached on the instance; the API loads the user afresh, tests may not.
    for cache in ("_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(cache, None)
    return user
