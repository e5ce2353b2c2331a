"""Reads of SOS alerts that need more than one line: who may see which, distance filters, trails."""

import math
from dataclasses import dataclass

from django.db.models import F, FloatField, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from accounts.models import Unit, User
from common.geo import EARTH_RADIUS_KM
from common.tokens import hash_secret
from realtime.models import OutboxEvent
from realtime.selectors import outbox_newest_id
from sos.models import SOS, LocationUpdate, OfficerAssignment


@dataclass(frozen=True)
class Trail:
    """An SOS's points as of outbox event `as_of_event_id`, read in one snapshot."""

    sos_id: int
    room_id: str
    as_of_event_id: int
    points: list[dict]


def sos_token_hash_exists(access_token_hash: str) -> bool:
    return SOS.objects.filter(access_token_hash=access_token_hash).exists()


def sos_by_idempotency_key(key: str) -> SOS | None:
    """The SOS a phone already raised with this idempotency key, if any."""
    return SOS.objects.filter(idempotency_key_hash=hash_secret(key)).first()


def sos_room_owner(*, room_id: str) -> dict | None:
    """What deciding a join of an SOS's room needs: its id, owner, token hash, whether it is open and the
    units assigned to it (None: no such room)."""
    sos = SOS.objects.filter(room_id=room_id).values("id", "owner_id", "access_token_hash", "status").first()
    if sos is not None:
        sos["is_open"] = sos.pop("status") in SOS.OPEN_STATUSES
        sos["unit_ids"] = set(OfficerAssignment.objects.filter(sos_request_id=sos["id"])
                              .values_list("unit_id", flat=True))
    return sos


def sos_visible_to(user: User) -> QuerySet[SOS]:
    """Dispatchers and admins see every SOS; officers every open one and their unit's (sos.permissions);
    a citizen only their own; anyone else nothing."""
    qs = SOS.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.is_responder and user.role == User.Role.OFFICER and not user.is_superuser:
        mine = SOSAssignmentScope(unit_id=user.unit_id)
        return qs.filter(Q(status__in=SOS.OPEN_STATUSES) | Q(pk__in=mine.sos_ids())).prefetch_related("assignments")
    if user.is_responder:
        return qs.prefetch_related("assignments")
    return qs.filter(owner=user)


@dataclass(frozen=True)
class SOSAssignmentScope:
    unit_id: int | None

    def sos_ids(self):
        return OfficerAssignment.objects.filter(unit_id=self.unit_id).values("sos_request_id")


def sos_near(qs: QuerySet[SOS], *, near: tuple[float, float], radius_km: float | None = None) -> QuerySet[SOS]:
    """`qs` with `distance_km` from `near`, nearest first; only those within `radius_km` when given."""
    lat, lng = near
    qs = qs.annotate(distance_km=_haversine_km_expression(lat, lng))
    if radius_km is not None:
        # A bounding box first lets the database use plain comparisons before the trigonometry.
        dlat = radius_km / 111.0
        dlng = radius_km / max(111.0 * math.cos(math.radians(lat)), 1e-6)
        qs = qs.filter(last_latitude__range=(lat - dlat, lat + dlat), distance_km__lte=radius_km)
        if abs(lat) + dlat < 89 and dlng < 180:
            qs = qs.filter(last_longitude__range=(lng - dlng, lng + dlng))
    return qs.order_by("distance_km", "-created_at")


def _haversine_km_expression(lat: float, lng: float):
    phi1 = math.radians(lat)
    phi2 = Radians(F("last_latitude"))
    dphi = Radians(F("last_latitude") - lat)
    dlmb = Radians(F("last_longitude") - lng)
    a = Power(Sin(dphi / 2), 2) + math.cos(phi1) * Cos(phi2) * Power(Sin(dlmb / 2), 2)
    return 2 * EARTH_RADIUS_KM * ASin(Least(Sqrt(a), 1.0), output_field=FloatField())


def sos_detail(*, sos_id: int, max_points: int | None = None) -> SOS | None:
    """The SOS with its assignments, audit trail and the newest `max_points` points of its trail (all if
    None), oldest first: a long trail never makes one read unbounded."""
    newest = LocationUpdate.objects.order_by("-recorded_at", "-id")
    points = newest[:max_points] if max_points else newest
    sos = (
        SOS.objects.select_related("owner")
        .prefetch_related(Prefetch("locations", queryset=points, to_attr="recent_points"),
                          "assignments__unit", "audit_trail", "images",
                          "camera_links__camera")
        .filter(pk=sos_id)
        .first()
    )
    if sos is not None:
        sos.recent_points.reverse()
    return sos


def unit_list(*, status: str | None = None) -> QuerySet[Unit]:
    qs = Unit.objects.all().prefetch_related("officers")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("unit_number")


def sos_trail(*, sos_id: int) -> Trail:
    """The trail of an SOS and the newest outbox id, in one statement so that both come from one snapshot.

    Every point whose `location_history` event has an id up to `as_of_event_id` is in the trail, and no
    other: a client that gets this trail and then the room's events after that id sees each point once.
    """
    newest = OutboxEvent.objects.order_by("-id").values("id")[:1]
    points = list(
        LocationUpdate.objects.filter(sos_request_id=sos_id)
        .annotate(as_of_event_id=Subquery(newest))
        .select_related("sos_request")
        .order_by("recorded_at", "id")
    )
    if not points:
        # A missing SOS, or one raised without a position (location pending): no point to be consistent with.
        room_id = SOS.objects.filter(pk=sos_id).values_list("room_id", flat=True).first()
        return Trail(sos_id=sos_id, room_id=str(room_id or ""), as_of_event_id=outbox_newest_id(), points=[])
    return Trail(
        sos_id=sos_id,
        room_id=str(points[0].sos_request.room_id),
        as_of_event_id=points[0].as_of_event_id or 0,
        points=[point.as_point() for point in points],
    )
