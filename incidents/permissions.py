"""Devices report detections; responders act on incidents, officers within their unit's scope.

Officers' scope (docs/security.md), as for SOS: dispatchers and admins see and act on every incident. An
officer sees every open incident (any of them may be the nearest) and every incident assigned to their
unit, closed or not; acts only on incidents assigned to their unit or to no one yet; and assigns only
officers of their own unit. "Assigned to their unit": to an officer of the same unit, or to themself.
Devices and the platform itself (camera tamper, a unit on scene) act under their own rules.
"""

from django.db.models import Q, QuerySet
from rest_framework.permissions import BasePermission

from common.actors import Actor, sees_everything
from common.errors import Forbidden, NotFound
from incidents.models import Device, Incident


def _covers(actor: Actor, incident: Incident) -> bool:
    """The incident is assigned to this officer or to an officer of their unit."""
    assigned = incident.assigned_to
    if assigned is None:
        return False
    return assigned.pk == actor.user.pk or (actor.unit_id is not None and assigned.unit_id == actor.unit_id)


def _scoped(actor: Actor) -> bool:
    return actor.is_officer and not sees_everything(actor)


def may_see_incident(actor: Actor, incident: Incident) -> bool:
    return sees_everything(actor) or (actor.is_responder and (incident.is_open or _covers(actor, incident)))


def require_may_see_incident(actor: Actor, incident: Incident) -> None:
    """Out of scope reads exactly like a missing incident: ids cannot be probed."""
    if not may_see_incident(actor, incident):
        raise NotFound("Incident not found.")


def require_may_act_on_incident(actor: Actor, incident: Incident) -> None:
    """An officer's change: only on incidents of their unit or of no one yet (403 `other_unit`)."""
    if not _scoped(actor):
        return
    require_may_see_incident(actor, incident)
    if incident.assigned_to_id is not None and not _covers(actor, incident):
        raise Forbidden("This incident is assigned to another unit; only that unit or a dispatcher may act on it.",
                        code="other_unit")


def require_may_assign_officer(actor: Actor, officer) -> None:
    """Officers hand incidents only to officers of their own unit."""
    if _scoped(actor) and (actor.unit_id is None or officer.unit_id != actor.unit_id) and officer.pk != actor.user.pk:
        raise Forbidden("Officers may assign only officers of their own unit.", code="other_unit")


def incidents_visible_to(actor: Actor, incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """The incidents of `incidents` that `actor` may see."""
    if sees_everything(actor):
        return incidents
    if not actor.is_responder:
        return incidents.none()
    mine = Q(assigned_to=actor.user) | (Q(assigned_to__unit_id=actor.unit_id) if actor.unit_id else Q(pk__in=[]))
    return incidents.filter(Q(status__in=Incident.OPEN_STATUSES) | mine)


class IsActiveDevice(BasePermission):
    message = "Only registered detection devices may report detections."

    def has_permission(self, request, view):
        return isinstance(request.auth, Device) and request.auth.is_active

