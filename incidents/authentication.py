"""`Authorization: Device <key>`: how cameras and other detectors prove who they are."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, SessionAuthentication, get_authorization_header

from accounts.authentication import HashedTokenAuthentication
from common.tokens import hash_secret
from incidents.models import Device

KEYWORD = "Device"


class DevicePrincipal:
    """`request.user` for a device: authenticated, but never a person, a responder or staff."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_responder = False
    is_staff = False
    is_superuser = False
    role = "device"
    pk = id = None

    def __init__(self, device: Device):
        self.device = device
        self.username = device.label

    def __str__(self):
        return self.username


class DeviceAuthentication(BaseAuthentication):
    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != KEYWORD.lower().encode():
            return None  # Not a device: leave the request to the other authenticators.
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Device <key>'.")
        try:
            raw_key = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid device key.") from None
        # The key has 256 random bits, so looking it up by its hash needs no constant-time comparison.
        device = Device.objects.select_related("beacon").filter(api_key_hash=hash_secret(raw_key)).first()
        if device is None or not device.is_active:
            raise exceptions.AuthenticationFailed("Invalid or inactive device key.")
        return DevicePrincipal(device), device

    def authenticate_header(self, request):
        return KEYWORD


# For responders' views: they sign in with a token or a session; devices are recognised too, so that a
# device is told 403 (not for you), not 401 (who are you).
RESPONDER_AUTHENTICATION = [HashedTokenAuthentication, SessionAuthentication, DeviceAuthentication]
