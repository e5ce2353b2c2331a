"""Reads of SOS alerts that need more than one line: who may see which, and distance filters."""

import math

from django.db.models import F, FloatField, QuerySet
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from accounts.models import Unit, User
from sos.models import EARTH_RADIUS_KM, SOS


def sos_visible_to(user: User) -> QuerySet[SOS]:
    """Responders see every SOS; a citizen sees only their own; anyone else nothing."""
    qs = SOS.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if user.is_responder:
        return qs
    return qs.filter(owner=user)


def sos_list(*, user: User, statuses: list[str] | None = None, near: tuple[float, float] | None = None,
             radius_km: float | None = None) -> QuerySet[SOS]:
    qs = sos_visible_to(user).select_related("owner")
    if statuses:
        qs = qs.filter(status__in=statuses)
    if near is None:
        return qs.order_by("-created_at", "-id")
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


def sos_detail(*, sos_id: int) -> SOS | None:
    return (
        SOS.objects.select_related("owner")
        .prefetch_related("locations", "assignments__unit", "audit_trail")
        .filter(pk=sos_id)
        .first()
    )


def unit_list(*, status: str | None = None) -> QuerySet[Unit]:
    qs = Unit.objects.all().prefetch_related("officers")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("unit_number")
