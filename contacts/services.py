"""Trusted contacts, the alerts and live links they get when she raises an SOS, and walk-me-home check-ins.

`checkin_expire_due(now=...)` is the server-held timer: run it every few seconds (the `expire_checkins`
command, or the escalation scheduler); it raises an SOS for every check-in past its time plus grace.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from common.actors import Actor
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from common.geo import validate_position
from common.tokens import hash_secret, new_secret
from contacts.models import MAX_CONTACTS, CheckIn, CheckInPoint, ContactAlert, LiveLink, TrustedContact
from sos import services as sos_services
from sos.models import SOS, LocationUpdate, SOSAuditEntry
from sos.permissions import require_owner

MAX_CHECKIN_MINUTES = 24 * 60


def _require_signed_in(owner: User | None) -> User:
    if owner is None or not owner.is_authenticated:
        raise Forbidden("Sign in to keep trusted contacts and check-ins.")
    return owner


@transaction.atomic
def contact_add(*, owner: User, name: str, phone: str = "", email: str = "") -> TrustedContact:
    _require_signed_in(owner)
    # The row lock on the user serialises two concurrent adds, so the limit holds.
    User.objects.select_for_update().get(pk=owner.pk)
    if not name.strip():
        raise InvalidInput("A name is needed.", fields={"name": ["This field may not be blank."]})
    if not (phone.strip() or email.strip()):
        raise InvalidInput("Give a phone number or an email.", fields={"email": ["Give a phone number or an email."]})
    if TrustedContact.objects.filter(owner=owner).count() >= MAX_CONTACTS:
        raise Conflict(f"At most {MAX_CONTACTS} trusted contacts.", code="too_many_contacts")
    return TrustedContact.objects.create(owner=owner, name=name.strip(), phone=phone.strip(), email=email.strip())


@transaction.atomic
def contact_remove(*, owner: User, contact_id: int) -> None:
    _require_signed_in(owner)
    deleted, _ = TrustedContact.objects.filter(owner=owner, pk=contact_id).delete()
    if not deleted:
        raise NotFound("Contact not found")


def _live_url(token: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + reverse("dashboard:citizen-live", args=[token])


def contacts_alert_sos(*, sos: SOS, raised_because: str = "raised an SOS") -> list[str]:
    """Queue a message with a live link to every trusted contact of the SOS's owner; returns the links' tokens.

    Called by `sos_create` through `sos.hooks.sos_raised` (registered in apps.py), inside its transaction,
    so the alerts exist if and only if the SOS does.
    """
    if sos.owner_id is None:
        return []
    tokens = []
    who = sos.owner.get_full_name() or sos.owner.username
    for contact in TrustedContact.objects.filter(owner_id=sos.owner_id):
        token = new_secret()
        LiveLink.objects.create(sos_request=sos, contact=contact, token_hash=hash_secret(token))
        tokens.append(token)
        url = _live_url(token)
        text = (f"{who} {raised_because} at {timezone.localtime(sos.created_at):%H:%M}. "
                f"Follow it live (read-only, until an hour after it closes): {url}\n"
                f"If you can, call {settings.SOS_EMERGENCY_NUMBER}.")
        payload = {"sos_id": sos.pk, "contact": contact.name, "phone": contact.phone, "text": text, "live_url": url}
        subject = f"SOS from {who}"
        if contact.email:
            ContactAlert.objects.create(sos_request=sos, contact=contact, channel=ContactAlert.Channel.EMAIL,
                                        target=contact.email, subject=subject, body=text, payload=payload)
        if contact.phone and settings.CONTACT_WEBHOOK_URL:
            ContactAlert.objects.create(sos_request=sos, contact=contact, channel=ContactAlert.Channel.WEBHOOK,
                                        target=settings.CONTACT_WEBHOOK_URL, subject=subject, body=text, payload=payload)
    if tokens:
        SOSAuditEntry.record(sos, action="contacts_alerted", actor=Actor(user=sos.owner), details={"contacts": len(tokens)})
    return tokens


@transaction.atomic
def live_links_revoke(*, sos_id: int, actor: Actor) -> int:
    """The owner revokes every live link of her SOS."""
    try:
        sos = SOS.objects.select_for_update().get(pk=sos_id)
    except SOS.DoesNotExist:
        raise NotFound("SOS not found") from None
    require_owner(actor, sos)
    return LiveLink.objects.filter(sos_request=sos, revoked_at__isnull=True).update(revoked_at=timezone.now())


# Walk me home --------------------------------------------------------------------------------------


def _lock_running_checkin(*, owner: User, checkin_id: int) -> CheckIn:
    _require_signed_in(owner)
    checkin = CheckIn.objects.select_for_update().filter(pk=checkin_id, owner=owner).first()
    if checkin is None:
        raise NotFound("Check-in not found")
    if not checkin.is_running:
        raise Conflict("This check-in has ended.", code="checkin_ended")
    return checkin


@transaction.atomic
def checkin_start(*, owner: User, minutes: int, pin: str, destination: str = "") -> CheckIn:
    _require_signed_in(owner)
    if not 1 <= minutes <= MAX_CHECKIN_MINUTES:
        raise InvalidInput("Invalid duration.", fields={"minutes": [f"From 1 to {MAX_CHECKIN_MINUTES} minutes."]})
    if not sos_services.PIN_PATTERN.match(pin or ""):
        raise InvalidInput("Invalid PIN.", fields={"pin": ["Use 4 digits."]})
    now = timezone.now()
    return CheckIn.objects.create(
        owner=owner, destination=destination.strip(), pin_hash=make_password(pin), started_at=now,
        due_at=now + timedelta(minutes=minutes), grace=timedelta(seconds=settings.CHECKIN_GRACE_SECONDS),
    )


@transaction.atomic
def checkin_point_add(*, owner: User, checkin_id: int, latitude: float, longitude: float,
                      accuracy_m: float | None = None, recorded_at: datetime | None = None) -> CheckInPoint:
    validate_position(latitude, longitude, accuracy_m)
    checkin = _lock_running_checkin(owner=owner, checkin_id=checkin_id)
    return CheckInPoint.objects.create(checkin=checkin, latitude=latitude, longitude=longitude, accuracy_m=accuracy_m,
                                       recorded_at=recorded_at or timezone.now())


@transaction.atomic
def checkin_complete(*, owner: User, checkin_id: int, pin: str) -> CheckIn:
    """She arrived: the timer stops and her walk's positions are deleted."""
    checkin = _lock_running_checkin(owner=owner, checkin_id=checkin_id)
    if not check_password(pin or "", checkin.pin_hash):
        raise InvalidInput("Wrong PIN.", fields={"pin": ["Wrong PIN."]}, code="wrong_pin")
    checkin.completed_at = timezone.now()
    checkin.save(update_fields=["completed_at"])
    checkin.points.all().delete()
    return checkin


def checkin_expire_due(*, now: datetime | None = None) -> list[SOS]:
    """Raise an SOS for every running check-in past its time plus grace, with her walk's positions; tell her contacts."""
    now = now or timezone.now()
    raised = []
    due = CheckIn.objects.filter(completed_at__isnull=True, expired_at__isnull=True, due_at__lte=now)
    for checkin_id in list(due.values_list("pk", flat=True)):
        sos = _checkin_expire(checkin_id=checkin_id, now=now)
        if sos is not None:
            raised.append(sos)
    return raised


@transaction.atomic
def _checkin_expire(*, checkin_id: int, now: datetime) -> SOS | None:
    # Locked and checked again: she may have checked in, or another scheduler run taken it, meanwhile.
    checkin = CheckIn.objects.select_for_update().select_related("owner").get(pk=checkin_id)
    if not checkin.is_running or checkin.expires_at() > now:
        return None
    points = list(checkin.points.all())
    last = points[-1] if points else None
    owner = checkin.owner
    where = f" on the way to {checkin.destination}" if checkin.destination else ""
    # Her trusted contacts are alerted by sos_create (sos.hooks.sos_raised), told why it was raised.
    sos, _token = sos_services.sos_create(
        name=owner.get_full_name() or owner.username, sos_type=SOS.Type.EMERGENCY, owner=owner,
        latitude=last.latitude if last else None, longitude=last.longitude if last else None,
        accuracy_m=last.accuracy_m if last else None, phone=getattr(owner, "phone", "") or "",
        raised_because=f"did not check in{where} as planned; an SOS was raised",
    )
    # Her walk becomes the SOS's trail, with the times the points were taken (the newest is its position).
    if last:
        sos.locations.update(recorded_at=last.recorded_at)
        SOS.objects.filter(pk=sos.pk).update(last_located_at=last.recorded_at)
    LocationUpdate.objects.bulk_create([
        LocationUpdate(sos_request=sos, latitude=p.latitude, longitude=p.longitude, accuracy_m=p.accuracy_m,
                       recorded_at=p.recorded_at, received_at=now, reported_by=owner) for p in points[:-1]
    ])
    SOSAuditEntry.record(sos, action="checkin_expired", actor=Actor(user=owner),
                         details={"checkin_id": checkin.pk, "destination": checkin.destination, "points": len(points)})
    checkin.expired_at = now
    checkin.sos_request = sos
    checkin.save(update_fields=["expired_at", "sos_request"])
    return sos
