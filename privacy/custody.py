"""Evidence bundles: the original files of an incident or SOS with a manifest signed by the platform's key.

The manifest lists each file's name, size and SHA-256 (and the SHA-256 taken when it was received),
when it was captured and uploaded, the device and camera place it came from, the subject's audit trail
and every recorded look at it. `privacy.verify_bundle` checks a bundle with the public key alone.
"""

import base64
import hashlib
import json
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from common.audit import AuditChainHead
from incidents.models import Incident, IncidentImage
from privacy import hooks, selectors, signing
from privacy.verify_bundle import MANIFEST, SIGNATURE
from sos.models import SOS

FORMAT = "naarikavach-evidence-bundle/1"
# Bundles are written to memory up to this size, then to a temporary file.
SPOOL_BYTES = 16 * 1024 * 1024


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _audit_rows(entries) -> list[dict]:
    return [
        {
            "action": e.action, "from_status": e.from_status, "to_status": e.to_status, "by": e.actor_label,
            "details": e.details, "at": _time(e.created_at), "chain": e.chain, "seq": e.chain_seq,
            "prev_hash": e.prev_hash, "entry_hash": e.entry_hash,
        }
        for e in entries
    ]


def _view_rows(subject_kind: str, subject_id) -> list[dict]:
    return [
        {
            "action": v.action, "by": v.actor_label, "at": _time(v.created_at), "image_id": v.image_id,
            "delivery": v.delivery, "ip_address": v.ip_address, "reason": v.reason, "chain": v.chain,
            "seq": v.chain_seq, "entry_hash": v.entry_hash,
        }
        for v in selectors.view_audit_for(subject_kind=subject_kind, subject_id=subject_id)
    ]


def _heads(chains: set[str]) -> dict:
    return {h.chain: {"length": h.length, "last_hash": h.last_hash}
            for h in AuditChainHead.objects.filter(chain__in=chains)}


def _image_file(image: IncidentImage, data: bytes) -> dict:
    event = image.ai_event
    device, beacon = event.device, event.beacon
    return {
        "path": f"files/image-{image.pk}.{image.extension}",
        "image_id": image.pk,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "sha256_at_upload": image.sha256,
        "intact_since_upload": hashlib.sha256(data).hexdigest() == image.sha256,
        "content_type": image.content_type,
        "width": image.width,
        "height": image.height,
        "captured_at": (event.details or {}).get("captured_at"),
        "reported_at": _time(event.received_at),
        "uploaded_at": _time(image.uploaded_at),
        "ai_event_id": event.pk,
        "confidence_score": event.confidence_score,
        "device": {"device_id": device.device_id, "name": device.name, "kind": device.kind} if device else None,
        "camera": beacon.as_payload(),
    }


@dataclass(frozen=True)
class BundleFile:
    """One original file for a bundle, from any app: where it goes in the zip, how to read it, what it is."""

    path: str
    storage: Any
    name: str
    sha256_at_upload: str
    meta: dict


def _extra_file(item: BundleFile, data: bytes) -> dict:
    digest = hashlib.sha256(data).hexdigest()
    return {"path": item.path, "size": len(data), "sha256": digest, "sha256_at_upload": item.sha256_at_upload,
            "intact_since_upload": digest == item.sha256_at_upload, **item.meta}


def _sos_photos(sos: SOS) -> list[BundleFile]:
    """The citizen's own photos on her SOS."""
    return [BundleFile(path=f"files/sos-photo-{photo.pk}.{photo.extension}", storage=photo.image.storage,
                       name=photo.image.name, sha256_at_upload=photo.sha256,
                       meta={"sos_photo_id": photo.pk, "content_type": photo.content_type, "width": photo.width,
                             "height": photo.height, "description": photo.description,
                             "uploaded_at": _time(photo.uploaded_at), "source": "citizen"})
            for photo in sos.images.order_by("uploaded_at", "id")]


def _read(image: IncidentImage) -> bytes:
    with image.image.storage.open(image.image.name, "rb") as handle:
        return handle.read()


def _incident_part(incident: Incident) -> dict:
    return {
        "incident_id": str(incident.pk), "kind": incident.kind, "status": incident.status,
        "priority": incident.priority, "beacon": incident.beacon.as_payload(),
        "first_signal_at": _time(incident.first_signal_at), "resolved_at": _time(incident.resolved_at),
        "resolution_note": incident.resolution_note,
        "audit_trail": _audit_rows(incident.audit_trail.all()),
        "view_audit": _view_rows("incident", incident.pk),
    }


def _sos_part(sos: SOS) -> dict:
    return {
        "sos_id": sos.pk, "status": sos.status, "sos_type": sos.sos_type, "name": sos.name, "phone": sos.phone,
        "created_at": _time(sos.created_at), "closed_at": _time(sos.closed_at),
        "trail": [point.as_point() for point in sos.locations.order_by("recorded_at", "id")],
        "assignments": [{"officer_name": a.officer_name, "unit": a.unit.unit_number, "at": _time(a.assigned_at)}
                        for a in sos.assignments.select_related("unit")],
        "audit_trail": _audit_rows(sos.audit_trail.all()),
        "view_audit": _view_rows("sos", sos.pk),
    }


def build_bundle(*, subject_kind: str, subject, generated_by: str, reason: str):
    """Write the bundle of `subject` (an Incident or an SOS); returns an open file positioned at its start."""
    if subject_kind == "incident":
        incidents, part = [subject], {"incident": _incident_part(subject)}
    else:
        incidents = list(Incident.objects.filter(signals__sos=subject).distinct())
        part = {"sos": _sos_part(subject), "incidents": [_incident_part(i) for i in incidents]}
    images = IncidentImage.objects.filter(incident__in=incidents).select_related(
        "ai_event__device", "ai_event__beacon").order_by("uploaded_at", "id")
    key = signing.signing_key()
    chains = {row["chain"] for section in _sections(part) for row in section}
    output = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_STORED) as archive:
        files, missing = [], []
        for image in images:
            try:
                data = _read(image)
            except Exception as error:  # a file lost from storage is reported, not hidden, and not fatal
                missing.append({"image_id": image.pk, "sha256_at_upload": image.sha256,
                                "uploaded_at": _time(image.uploaded_at), "error": type(error).__name__})
                continue
            entry = _image_file(image, data)
            archive.writestr(entry["path"], data)
            files.append(entry)
        extras = []
        if subject_kind == "sos":
            extras = _sos_photos(subject) + [item for found in hooks.sos_bundle_files.fire(sos=subject) for item in found]
        for item in extras:
            try:
                with item.storage.open(item.name, "rb") as handle:
                    data = handle.read()
            except Exception as error:  # as for images: reported, not hidden, and not fatal
                missing.append({"path": item.path, "sha256_at_upload": item.sha256_at_upload,
                                "error": type(error).__name__, **item.meta})
                continue
            archive.writestr(item.path, data)
            files.append(_extra_file(item, data))
        manifest = {
            "format": FORMAT,
            "subject": {"kind": subject_kind, "id": str(subject.pk)},
            "generated_at": timezone.now().isoformat(),
            "generated_by": generated_by,
            "reason": reason,
            "key_id": signing.key_id(key.public_key()),
            "files": files,
            "missing_files": missing,
            **part,
            "chain_heads": _heads(chains),
        }
        manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True, default=str).encode()
        archive.writestr(MANIFEST, manifest_bytes)
        archive.writestr(SIGNATURE, base64.b64encode(key.sign(manifest_bytes)) + b"\n")
    output.seek(0)
    return output


def _sections(part: dict):
    for value in part.values():
        for item in value if isinstance(value, list) else [value]:
            yield item["audit_trail"]
            yield item["view_audit"]
