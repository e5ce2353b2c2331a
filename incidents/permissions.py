"""Who may do what with incidents: devices report detections; responders (officers, dispatchers, admins) act."""

from rest_framework.permissions import BasePermission

from incidents.models import Device


def is_responder(user) -> bool:
    return bool(user and user.is_authenticated and getattr(user, "is_responder", False))


class IsActiveDevice(BasePermission):
    message = "Only registered detection devices may report detections."

    def has_permission(self, request, view):
        return isinstance(request.auth, Device) and request.auth.is_active


class IsResponder(BasePermission):
    message = "Only officers and dispatchers may do this."

    def has_permission(self, request, view):
        return is_responder(request.user)
