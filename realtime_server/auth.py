"""Who is connecting: a signed-in user (DRF token) or the holder of one SOS's access token."""

from rest_framework.authtoken.models import Token

from common.actors import Actor
from common.tokens import hash_secret
from sos.selectors import sos_token_hash_exists


class AuthenticationFailed(Exception):
    """The connect `auth` payload names nobody; its message goes back to the client."""


def authenticate(auth) -> Actor:
    """Resolve the `auth` payload of a Socket.IO connect: {"token": ...} and/or {"sos_token": ...}."""
    if not isinstance(auth, dict) or not (auth.get("token") or auth.get("sos_token")):
        raise AuthenticationFailed('Authentication required: connect with auth {"token": ...} or {"sos_token": ...}.')
    user, sos_token_hash = None, None
    if auth.get("token"):
        token = Token.objects.select_related("user__unit").filter(key=str(auth["token"])).first()
        if token is None or not token.user.is_active:
            raise AuthenticationFailed("Invalid token.")
        user = token.user
    if auth.get("sos_token"):
        sos_token_hash = hash_secret(str(auth["sos_token"]))
        if not sos_token_hash_exists(sos_token_hash):
            raise AuthenticationFailed("Invalid SOS token.")
    return Actor(user=user, sos_token_hash=sos_token_hash)


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
