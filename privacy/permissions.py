"""Who may see what the privacy app guards: supervisors see who looked; some may see unredacted evidence."""

from rest_framework.permissions import BasePermission

from common.actors import Actor, is_responder

UNREDACTED_PERMISSION = "privacy.view_unredacted_evidence"
SUPERVISOR_ROLES = frozenset({"dispatcher", "admin"})


def is_supervisor(user) -> bool:
    """Dispatchers and admins oversee the response: they see the view audit, place legal holds and export bundles."""
    return is_responder(user) and (
        getattr(user, "role", "") in SUPERVISOR_ROLES or getattr(user, "is_superuser", False)
    )


def may_view_unredacted(actor: Actor) -> bool:
    """Only responders explicitly granted the permission (superusers hold every permission)."""
    return actor.is_responder and actor.user.has_perm(UNREDACTED_PERMISSION)


class IsSupervisor(BasePermission):
    message = "Only dispatchers and admins may do this."

    def has_permission(self, request, view):
        return is_supervisor(request.user)
