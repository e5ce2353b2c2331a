"""Handing a stored file out as evidence (incident images and sound clips, SOS photos, camera pre-roll):
one place for how it is opened and which headers guard the answer."""

from dataclasses import dataclass
from typing import Any

from django.http import FileResponse, HttpResponseRedirect

from common.errors import NotFound


@dataclass(frozen=True)
class EvidenceDelivery:
    """What a download view answers with: a signed URL to redirect to (GCS), or an open file to stream."""

    url: str | None = None
    handle: Any = None
    content_type: str = ""
    filename: str = ""


def evidence_open(storage, name: str, *, content_type: str, filename: str, signed_url: bool = False,
                  missing: str = "The evidence file is missing from storage.") -> EvidenceDelivery:
    """A signed URL (`signed_url`, for storages that make them), or the file opened; a 404 when it is gone."""
    if signed_url:
        return EvidenceDelivery(url=storage.url(name), content_type=content_type, filename=filename)
    try:
        handle = storage.open(name, "rb")
    except FileNotFoundError:
        raise NotFound(missing, code="evidence_missing") from None
    return EvidenceDelivery(handle=handle, content_type=content_type, filename=filename)


def evidence_response(delivery: EvidenceDelivery):
    """A redirect to the signed URL, or the file streamed inline and never sniffed; never kept in a shared cache."""
    if delivery.url:
        response = HttpResponseRedirect(delivery.url)
    else:
        response = FileResponse(delivery.handle, content_type=delivery.content_type)
        response["Content-Disposition"] = f'inline; filename="{delivery.filename}"'
        response["X-Content-Type-Options"] = "nosniff"
    # Evidence must not linger in shared caches, and a signed URL must not outlive its purpose in one.
    response["Cache-Control"] = "private, no-store"
    return response
