"""Citizen photos on an SOS: the owner attaches up to three per call; the owner and responders see them.

Each image is accepted only if its bytes decode as a whole JPEG, PNG or WebP image (the same intake as
incident evidence), and is stored privately with its SHA-256, taken from the bytes received.
"""

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from common.actors import Actor
from common.errors import Forbidden, InvalidInput
from incidents.evidence import inspect_image
from sos.models import SOSImage
from sos.permissions import is_sos_owner
from sos.services import _lock_sos, _publish_sos_updated

MAX_IMAGES_PER_UPLOAD = 3


@transaction.atomic
def sos_images_add(*, sos_id: int, images: list, descriptions: list[str], actor: Actor) -> list[SOSImage]:
    """Attach photos to an SOS (its owner only); all of them, or none if one is refused."""
    sos = _lock_sos(sos_id)
    if not is_sos_owner(actor, sos):
        raise Forbidden("Only the person who raised this SOS may add photos to it.")
    if not images:
        raise InvalidInput("At least one image is required.", fields={"images": ["At least one image is required."]})
    if len(images) > MAX_IMAGES_PER_UPLOAD:
        message = f"At most {MAX_IMAGES_PER_UPLOAD} images per upload."
        raise InvalidInput(message, fields={"images": [message]})
    if any(len(d) > 255 for d in descriptions):
        raise InvalidInput("Description too long.", fields={"descriptions": ["At most 255 characters each."]})
    # Every image is decoded before any is stored: a bad third photo leaves nothing behind.
    inspected = [inspect_image(upload, number=i + 1, max_bytes=settings.EVIDENCE_MAX_BYTES)
                 for i, upload in enumerate(images)]
    saved = []
    for i, evidence in enumerate(inspected):
        photo = SOSImage(sos_request=sos, sha256=evidence.sha256, content_type=evidence.content_type,
                         size_bytes=evidence.size, width=evidence.width, height=evidence.height,
                         description=descriptions[i].strip() if i < len(descriptions) else "",
                         uploaded_by=actor.db_user)
        photo.image.save("upload", ContentFile(evidence.data), save=False)
        photo.save()
        saved.append(photo)
    _publish_sos_updated(sos, action="images_added", actor=actor, extra={"images": len(saved)})
    return saved
