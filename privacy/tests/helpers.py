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


def drawn_face(size: int = 200):
    """A drawn frontal face (BGR): skin oval, hair, brows, eyes, nose and mouth, softened like a camera would.

    Haar cascades respond to the light-dark patterns of a face (eyes and brows darker than cheeks and the
    bridge of the nose, a dark mouth line), so a drawing with those contrasts is found as reliably as a
    photograph; the tests check that it is found before relying on it.
    """
    import cv2
    import numpy as np

    img = np.full((size, size, 3), 90, np.uint8)
    c = size // 2
    cv2.ellipse(img, (c, c), (int(size * 0.28), int(size * 0.36)), 0, 0, 360, (150, 170, 200), -1)
    cv2.ellipse(img, (c, int(c - size * 0.25)), (int(size * 0.29), int(size * 0.14)), 0, 180, 360, (30, 30, 40), -1)
    eye_y, eye_dx = int(c - size * 0.07), int(size * 0.11)
    for side in (-1, 1):
        cv2.ellipse(img, (c + side * eye_dx, eye_y - int(size * 0.06)), (int(size * 0.07), int(size * 0.015)),
                    0, 0, 360, (40, 40, 50), -1)
        cv2.ellipse(img, (c + side * eye_dx, eye_y), (int(size * 0.06), int(size * 0.03)), 0, 0, 360, (60, 60, 70), -1)
        cv2.circle(img, (c + side * eye_dx, eye_y), int(size * 0.02), (20, 20, 20), -1)
    cv2.line(img, (c, eye_y + int(size * 0.02)), (c, c + int(size * 0.08)), (120, 140, 170), 3)
    cv2.ellipse(img, (c, c + int(size * 0.09)), (int(size * 0.04), int(size * 0.015)), 0, 0, 360, (100, 110, 140), -1)
    cv2.ellipse(img, (c, c + int(size * 0.18)), (int(size * 0.09), int(size * 0.025)), 0, 0, 360, (70, 70, 150), -1)
    return cv2.GaussianBlur(img, (0, 0), size / 150)


def scene_with_face(*, face_at=(300, 100), face_size=200, shape=(480, 640)) -> tuple[bytes, tuple]:
    """A JPEG of a noisy street-like scene with one face; returns it and the face's square (x, y, size)."""
    import cv2
    import numpy as np

    scene = np.random.default_rng(7).integers(0, 255, (*shape, 3), dtype=np.uint8)
    x, y = face_at
    scene[y:y + face_size, x:x + face_size] = drawn_face(face_size)
    ok, encoded = cv2.imencode(".jpg", scene, [cv2.IMWRITE_JPEG_QUALITY, 95])
    assert ok
    return encoded.tobytes(), (x, y, face_size)
