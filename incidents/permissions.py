"""Devices report detections (responders act: common.api.permissions.IsResponder)."""

from rest_framework.permissions import BasePermission

from incidents.models import Device


class IsActiveDevice(BasePermission):
    message = "Only registered detection devices may report detections."

    def has_permission(self, request, view):
        return isinstance(request.auth, Device) and request.auth.is_active

