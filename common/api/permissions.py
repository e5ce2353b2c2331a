"""DRF permission classes shared by the apps."""

from rest_framework.permissions import BasePermission

from common.actors import is_responder


class IsResponder(BasePermission):
    message = "Only officers and dispatchers may do this."

    def has_permission(self, request, view):
        return is_responder(request.user)
