"""Who is connecting: a signed-in user (DRF token) or the holder of one SOS's access token."""

from dataclasses import dataclass

from rest_framework.authtoken.models import Token

from accounts.models import User
from sos.models import SOS, hash_token


class AuthenticationFailed(Exception):
    """The connect `auth` payload names nobody; its message goes back to the client."""


@dataclass(frozen=True)
class Principal:
    """What the server remembers about a connection: enough to decide every join without the user row."""

    user_id: int | None = None
    username: str = ""
    role: str = ""
    is_responder: bool = False
    unit_number: str | None = None
    owned_sos_id: int | None = None
    owned_sos_room_id: str | None = None

    @property
    def is_officer(self) -> bool:
        return self.role == User.Role.OFFICER

    @property
    def label(self) -> str:
        return f"{self.role}:{self.username}" if self.user_id else "sos-owner-token"


def authenticate(auth) -> Principal:
    """Resolve the `auth` payload of a Socket.IO connect: {"token": ...} and/or {"sos_token": ...}."""
    if not isinstance(auth, dict) or not (auth.get("token") or auth.get("sos_token")):
        raise AuthenticationFailed('Authentication required: connect with auth {"token": ...} or {"sos_token": ...}.')
    fields = {}
    if auth.get("token"):
        fields.update(_user_fields(str(auth["token"])))
    if auth.get("sos_token"):
        fields.update(_sos_owner_fields(str(auth["sos_token"])))
    return Principal(**fields)


def _user_fields(key: str) -> dict:
    token = Token.objects.select_related("user__unit").filter(key=key).first()
    if token is None or not token.user.is_active:
        raise AuthenticationFailed("Invalid token.")
    user = token.user
    return {
        "user_id": user.pk,
        "username": user.username,
        "role": user.role,
        "is_responder": user.is_responder,
        "unit_number": user.unit.unit_number if user.unit else None,
    }


def _sos_owner_fields(access_token: str) -> dict:
    sos = SOS.objects.filter(access_token_hash=hash_token(access_token)).values("id", "room_id").first()
    if sos is None:
        raise AuthenticationFailed("Invalid SOS token.")
    return {"owned_sos_id": sos["id"], "owned_sos_room_id": str(sos["room_id"])}


def parse_last_event_id(value) -> int | None:
    """A client's resume point: a non-negative integer (JavaScript clients may send it as a string)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("last_event_id must be a non-negative integer.")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError("last_event_id must be a non-negative integer.") from None
    if number < 0 or (isinstance(value, float) and not value.is_integer()):
        raise ValueError("last_event_id must be a non-negative integer.")
    return number
