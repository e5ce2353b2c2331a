"""Who may see what the privacy app guards: supervisors see who looked; some may see unredacted evidence."""

from rest_framework.permissions import BasePermission

from common.actors import Actor, is_supervisor

__all__ = ["IsSupervisor", "is_supervisor", "may_view_unredacted"]

UNREDACTED_PERMISSION = "privacy.view_unredacted_evidence"


def may_view_unredacted(actor: Actor) -> bool:
    """Only responders explicitly granted the permission (superusers hold every permission)."""
    return actor.is_responder and actor.user.has_perm(UNREDACTED_PERMISSION)


class IsSupervisor(BasePermission):
    message = "Only dispatchers and admins may do this."

    def has_permission(self, request, view):
        return is_supervisor(request.user)
