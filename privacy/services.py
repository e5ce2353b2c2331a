"""State changes of the privacy app: recording each look at guarded data, and handing evidence out."""

import hashlib
import ipaddress
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from common.actors import Actor
from common.api.evidence import EvidenceDelivery, evidence_open
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from incidents.models import Incident, IncidentAudio, IncidentAuditEntry, IncidentImage
from incidents.permissions import may_see_incident
from incidents.storage import evidence_uses_signed_urls
from privacy import citizen, custody, redaction
from privacy.models import LegalHold, RedactedImage, ViewAuditEntry
from privacy.permissions import is_supervisor, may_view_unredacted
from sos.models import SOS, SOSAuditEntry

MAX_REASON_CHARS = 1000


def view_record(
    *,
    actor: Actor,
    action: str,
    subject_kind: str,
    subject_id,
    delivery: str,
    ip_address: str | None = None,
    image_id: int | None = None,
    reason: str = "",
    details: dict | None = None,
) -> ViewAuditEntry:
    """Record one look at guarded data: who, when, what, from which address and (if given) why."""
    ip_address = _ip_or_none(ip_address)
    return ViewAuditEntry.append(
        ViewAuditEntry(
            action=action,
            actor=actor.db_user,
            actor_label=actor.label,
            subject_kind=subject_kind,
            subject_id=str(subject_id),
            image_id=image_id,
            delivery=delivery,
            ip_address=ip_address,
            reason=reason,
            details=details or {},
        )
    )


def _ip_or_none(address: str | None) -> str | None:
    """An address the audit can store, or None: a request without a usable peer address (common.ratelimit
    calls it "unknown") is still recorded, without one."""
    try:
        return str(ipaddress.ip_address(address)) if address else None
    except ValueError:
        return None


def image_subject(image: IncidentImage) -> tuple[str, str]:
    """The subject whose trail a look at `image` goes into: its incident, or the report it came with."""
    if image.incident_id:
        return ViewAuditEntry.Subject.INCIDENT, str(image.incident_id)
    return ViewAuditEntry.Subject.AI_EVENT, str(image.ai_event_id)


def _clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required.", fields={"reason": ["Say why you need this."]})
    if len(reason) > MAX_REASON_CHARS:
        raise InvalidInput("Reason too long.", fields={"reason": [f"At most {MAX_REASON_CHARS} characters."]})
    return reason


def _image_for(actor: Actor, image_id: int) -> IncidentImage:
    if not actor.is_responder:
        raise Forbidden("Only officers and dispatchers may see evidence.")
    image = IncidentImage.objects.select_related("incident__assigned_to").filter(pk=image_id).first()
    if image is None or (image.incident is not None and not may_see_incident(actor, image.incident)):
        raise NotFound("Image not found.")  # out of an officer's scope reads like a missing image
    return image


def _open(storage, name: str, *, content_type: str, filename: str) -> EvidenceDelivery:
    return evidence_open(storage, name, content_type=content_type, filename=filename,
                         signed_url=evidence_uses_signed_urls())


def _deliver_and_record(delivery: EvidenceDelivery, **record) -> EvidenceDelivery:
    """Record the look; a look that cannot be recorded is not handed out."""
    try:
        with transaction.atomic():
            view_record(delivery=ViewAuditEntry.Delivery.SIGNED_URL if delivery.url else ViewAuditEntry.Delivery.FILE,
                        **record)
    except BaseException:
        if delivery.handle is not None:
            delivery.handle.close()
        raise
    return delivery


def _read_original(image: IncidentImage) -> bytes:
    return _read_file(image.image.storage, image.image.name)


def _read_file(storage, name: str) -> bytes:
    try:
        with storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise NotFound("The evidence file is missing from storage.", code="evidence_missing") from None
    except Exception as error:
        if type(error).__name__ == "NotFound":  # google.api_core.exceptions.NotFound, from GCS
            raise NotFound("The evidence file is missing from storage.", code="evidence_missing") from None
        raise


def redacted_derivative_path(image: IncidentImage) -> str:
    return f"redacted/{image.image.name.rsplit('.', 1)[0]}.png"


def redacted_derivative(image: IncidentImage, *, rebuild: bool = False) -> RedactedImage:
    """The image with faces blurred, made once and cached beside the original (which is never changed)."""
    existing = RedactedImage.objects.filter(image=image).first()
    if existing is not None and existing.detector == redaction.DETECTOR_VERSION and not rebuild:
        return existing
    redacted = redaction.blur_faces(_read_original(image))
    storage = image.image.storage
    name = storage.save(redacted_derivative_path(image), ContentFile(redacted.data))
    try:
        with transaction.atomic():
            if existing is not None:
                RedactedImage.objects.filter(pk=existing.pk).delete()
            derivative = RedactedImage.objects.create(
                image=image, file=name, faces_found=len(redacted.faces), detector=redaction.DETECTOR_VERSION,
                sha256=hashlib.sha256(redacted.data).hexdigest(), size_bytes=len(redacted.data),
            )
    except IntegrityError:
        # Another request made it at the same moment: keep theirs.
        storage.delete(name)
        return RedactedImage.objects.get(image=image)
    if existing is not None and existing.file.name != name:
        storage.delete(existing.file.name)
    return derivative


def _open_redacted(image: IncidentImage) -> EvidenceDelivery:
    derivative = redacted_derivative(image)
    filename = f"evidence-{image.pk}.png"
    try:
        return _open(image.image.storage, derivative.file.name, content_type="image/png", filename=filename)
    except NotFound:
        # The cached file went missing (a cleaned cache): make it again from the original.
        derivative = redacted_derivative(image, rebuild=True)
        return _open(image.image.storage, derivative.file.name, content_type="image/png", filename=filename)


def redacted_image_data(image: IncidentImage) -> bytes:
    """The bytes of the image with faces blurred (a PNG), for copies that leave the platform, such as alert
    emails: made now if not made yet, and again if the cached file is lost. Never the original."""
    derivative = redacted_derivative(image)
    try:
        return _read_file(image.image.storage, derivative.file.name)
    except NotFound:
        derivative = redacted_derivative(image, rebuild=True)
        return _read_file(image.image.storage, derivative.file.name)


@dataclass(frozen=True)
class _SystemActor:
    """The platform itself, as the view audit names it (an Actor-like object: no account)."""

    label: str
    db_user: None = None


ALERT_MAILER = _SystemActor("system:alert-email")


def evidence_emailed_record(*, image: IncidentImage, recipient: str) -> ViewAuditEntry:
    """An alert email carried this image, faces blurred, to `recipient`: recorded in the view audit like a look,
    once the mail server has accepted it (the recipient is an address, not an account: it goes in `reason`)."""
    kind, subject_id = image_subject(image)
    with transaction.atomic():
        return view_record(actor=ALERT_MAILER, action=ViewAuditEntry.Action.EVIDENCE_EMAILED, subject_kind=kind,
                           subject_id=subject_id, delivery=ViewAuditEntry.Delivery.EMAIL, image_id=image.pk,
                           reason=f"Alert email to {recipient}")


def evidence_view(*, image_id: int, actor: Actor, ip_address: str | None) -> EvidenceDelivery:
    """A responder's look at an evidence image, faces blurred; audited."""
    image = _image_for(actor, image_id)
    kind, subject_id = image_subject(image)
    return _deliver_and_record(
        _open_redacted(image), actor=actor, action=ViewAuditEntry.Action.EVIDENCE_VIEW, subject_kind=kind,
        subject_id=subject_id, ip_address=ip_address, image_id=image.pk,
    )


def evidence_original_view(
    *,
    actor: Actor,
    ip_address: str | None,
    reason: str,
    file,
    content_type: str,
    filename: str,
    subject_kind: str,
    subject_id,
    image_id: int | None = None,
    details: dict | None = None,
) -> EvidenceDelivery:
    """The original of an evidence file (`file`: a stored FieldFile), faces unblurred, for holders of the
    unredacted-evidence permission who say why; audited with the reason under `subject_kind`/`subject_id`.

    The one path for every kind of evidence: incident images here, camera snapshots, pre-roll key frames and
    clips (cameras.services). The caller has found the row and checked that the actor is a responder."""
    if not may_view_unredacted(actor):
        raise Forbidden("You may not view unredacted evidence.")
    reason = _clean_reason(reason)
    delivery = _open(file.storage, file.name, content_type=content_type, filename=filename)
    return _deliver_and_record(
        delivery, actor=actor, action=ViewAuditEntry.Action.EVIDENCE_UNREDACTED, subject_kind=subject_kind,
        subject_id=subject_id, ip_address=ip_address, image_id=image_id, reason=reason, details=details,
    )


def evidence_view_unredacted(*, image_id: int, actor: Actor, ip_address: str | None, reason: str) -> EvidenceDelivery:
    """The original image, for holders of the unredacted-evidence permission who say why; audited with the reason."""
    image = _image_for(actor, image_id)
    kind, subject_id = image_subject(image)
    return evidence_original_view(
        actor=actor, ip_address=ip_address, reason=reason, file=image.image, content_type=image.content_type,
        filename=f"evidence-{image.pk}-original.{image.extension}", subject_kind=kind, subject_id=subject_id,
        image_id=image.pk,
    )


def evidence_audio_view(*, audio_id: int, actor: Actor, ip_address: str | None) -> EvidenceDelivery:
    """A responder plays an evidence sound clip (there are no faces to blur); the look is audited."""
    if not actor.is_responder:
        raise Forbidden("Only officers and dispatchers may hear evidence.")
    clip = IncidentAudio.objects.select_related("incident__assigned_to").filter(pk=audio_id).first()
    if clip is None or (clip.incident is not None and not may_see_incident(actor, clip.incident)):
        raise NotFound("Audio clip not found.")
    if clip.incident_id:
        subject_kind, subject_id = ViewAuditEntry.Subject.INCIDENT, str(clip.incident_id)
    else:
        subject_kind, subject_id = ViewAuditEntry.Subject.AI_EVENT, str(clip.ai_event_id)
    delivery = _open(clip.audio.storage, clip.audio.name, content_type=clip.content_type,
                     filename=f"evidence-audio-{clip.pk}.{clip.extension}")
    return _deliver_and_record(delivery, actor=actor, action=ViewAuditEntry.Action.EVIDENCE_AUDIO,
                               subject_kind=subject_kind, subject_id=subject_id, ip_address=ip_address,
                               details={"audio_id": clip.pk})


def sos_trail_read_record(*, sos_id: int, actor: Actor, ip_address: str | None) -> ViewAuditEntry:
    """An SOS's trail was read (detail API): by whom, from where."""
    with transaction.atomic():
        return view_record(actor=actor, action=ViewAuditEntry.Action.SOS_TRAIL_READ,
                           subject_kind=ViewAuditEntry.Subject.SOS, subject_id=sos_id,
                           delivery=ViewAuditEntry.Delivery.JSON, ip_address=ip_address)


def sos_photo_view_record(*, sos_id: int, photo_id: int, actor: Actor, ip_address: str | None) -> ViewAuditEntry:
    """A citizen's photo on an SOS was handed out (to its owner or a responder): by whom, from where."""
    return view_record(actor=actor, action=ViewAuditEntry.Action.EVIDENCE_VIEW, subject_kind=ViewAuditEntry.Subject.SOS,
                       subject_id=sos_id, delivery=ViewAuditEntry.Delivery.FILE, ip_address=ip_address,
                       details={"sos_photo_id": photo_id})


def _require_supervisor(actor: Actor, what: str) -> None:
    if not is_supervisor(actor.user):
        raise Forbidden(f"Only dispatchers and admins may {what}.")


def _subject(subject_kind: str, subject_id):
    model = {"incident": Incident, "sos": SOS}[subject_kind]
    subject = model.objects.filter(pk=subject_id).first()
    if subject is None:
        raise NotFound(f"{'Incident' if subject_kind == 'incident' else 'SOS'} not found.")
    return subject


def evidence_bundle_export(*, subject_kind: str, subject_id, actor: Actor, ip_address: str | None, reason: str):
    """The signed evidence bundle of an incident or SOS (an open file), for a supervisor who says why; audited.

    The export is recorded first, so that the bundle's own manifest lists it among the looks at the subject.
    """
    _require_supervisor(actor, "export evidence bundles")
    reason = _clean_reason(reason)
    subject = _subject(subject_kind, subject_id)
    with transaction.atomic():
        view_record(actor=actor, action=ViewAuditEntry.Action.BUNDLE_EXPORT, subject_kind=subject_kind,
                    subject_id=subject.pk, delivery=ViewAuditEntry.Delivery.ZIP, ip_address=ip_address,
                    reason=reason)
    return custody.build_bundle(subject_kind=subject_kind, subject=subject, generated_by=actor.label, reason=reason)


# Legal holds --------------------------------------------------------------------------------------


def _record_on_subject(subject_kind: str, subject, *, action: str, actor: Actor, details: dict) -> None:
    model = IncidentAuditEntry if subject_kind == "incident" else SOSAuditEntry
    model.record(subject, action=action, actor=actor, details=details)


def legal_hold_place(*, subject_kind: str, subject_id, actor: Actor, reason: str) -> LegalHold:
    """Keep an SOS or incident, and everything attached, past any retention; a supervisor, with a reason."""
    _require_supervisor(actor, "place legal holds")
    if subject_kind not in LegalHold.Subject.values:
        raise InvalidInput("Unknown subject.", fields={"subject_kind": ["Use sos or incident."]})
    reason = _clean_reason(reason)
    with transaction.atomic():
        subject = _subject(subject_kind, subject_id)
        hold = LegalHold.objects.create(subject_kind=subject_kind, subject_id=str(subject.pk), reason=reason,
                                        placed_by=actor.db_user, placed_by_label=actor.label)
        _record_on_subject(subject_kind, subject, action="legal_hold_placed", actor=actor,
                           details={"hold_id": hold.pk, "reason": reason})
    return hold


def legal_hold_release(*, hold_id: int, actor: Actor, reason: str) -> LegalHold:
    _require_supervisor(actor, "release legal holds")
    reason = _clean_reason(reason)
    with transaction.atomic():
        hold = LegalHold.objects.select_for_update().filter(pk=hold_id).first()
        if hold is None:
            raise NotFound("Legal hold not found.")
        if not hold.is_active:
            raise Conflict("This hold was already released.", code="hold_released")
        hold.released_at, hold.released_by_label, hold.release_reason = timezone.now(), actor.label, reason
        hold.save(update_fields=["released_at", "released_by_label", "release_reason"])
        subject = _subject(hold.subject_kind, hold.subject_id)
        _record_on_subject(hold.subject_kind, subject, action="legal_hold_released", actor=actor,
                           details={"hold_id": hold.pk, "reason": reason})
    return hold


# A citizen's own data -----------------------------------------------------------------------------


def citizen_data_export(*, actor: Actor, ip_address: str | None) -> dict:
    """Everything the platform holds about the signed-in citizen; the export is audited."""
    if actor.user is None:
        raise Forbidden("Sign in to export your data.")
    with transaction.atomic():
        view_record(actor=actor, action=ViewAuditEntry.Action.CITIZEN_EXPORT,
                    subject_kind=ViewAuditEntry.Subject.CITIZEN, subject_id=actor.user.pk,
                    delivery=ViewAuditEntry.Delivery.JSON, ip_address=ip_address)
        return {"generated_at": timezone.now().isoformat(), **citizen.citizen_export_data(actor.user)}


def citizen_data_delete(*, actor: Actor, password: str):
    """Delete the signed-in citizen's data and account, keeping what must be kept; returns what went and stayed."""
    user = actor.user
    if user is None:
        raise Forbidden("Sign in to delete your data.")
    if user.is_responder or user.is_staff:
        raise Forbidden("Staff accounts are closed by an administrator, not deleted by their holder.")
    if not user.check_password(password or ""):
        raise InvalidInput("Wrong password.", fields={"current_password": ["Wrong password."]})
    return citizen.citizen_delete(user)


def redacted_derivatives_prepare(*, limit: int = 100) -> int:
    """Make the blurred derivatives not made yet (newest images first), so that no responder waits for one.

    For the background scheduler, after uploads; returns how many were made. An image whose file is
    missing is skipped (its download answers 404).
    """
    missing = IncidentImage.objects.filter(
        Q(redacted__isnull=True) | ~Q(redacted__detector=redaction.DETECTOR_VERSION)
    ).order_by("-uploaded_at", "-id")[:limit]
    made = 0
    for image in missing:
        try:
            redacted_derivative(image)
        except NotFound:
            continue
        made += 1
    return made
