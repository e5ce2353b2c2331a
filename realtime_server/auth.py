"""Who is connecting: a signed-in user (API token) or the holder of one SOS's access token."""

from dataclasses import dataclass

from django.utils import timezone

from accounts.selectors import token_user
from common.actors import Actor
from common.tokens import hash_secret
from sos.selectors import sos_token_hash_exists

MAX_CREDENTIAL_LENGTH = 256


class AuthenticationFailed(Exception):
    """The connect `auth` payload names nobody; its message goes back to the client."""


@dataclass(frozen=True)
class Session:
    """A connection's actor, and the digest of the API token it came with (re-checked while it is open)."""

    actor: Actor
    token_digest: str | None = None


def _credential(auth: dict, name: str) -> str | None:
    value = auth.get(name)
    if not value:
        return None
    value = str(value)
    # A NUL cannot be in any token (PostgreSQL cannot even compare it), and no token is this long.
    if "\x00" in value or len(value) > MAX_CREDENTIAL_LENGTH:
        raise AuthenticationFailed("Invalid token." if name == "token" else "Invalid SOS token.")
    return value


def authenticate_session(auth) -> Session:
    """Resolve the `auth` payload of a Socket.IO connect: {"token": ...} and/or {"sos_token": ...}."""
    if not isinstance(auth, dict) or not (auth.get("token") or auth.get("sos_token")):
        raise AuthenticationFailed('Authentication required: connect with auth {"token": ...} or {"sos_token": ...}.')
    user, sos_token_hash, token_digest = None, None, None
    key = _credential(auth, "token")
    if key:
        token = token_user(key=key, now=timezone.now())
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        user, token_digest = token.user, token.digest
    sos_token = _credential(auth, "sos_token")
    if sos_token:
        sos_token_hash = hash_secret(sos_token)
        if not sos_token_hash_exists(sos_token_hash):
            raise AuthenticationFailed("Invalid SOS token.")
    return Session(actor=Actor(user=user, sos_token_hash=sos_token_hash), token_digest=token_digest)


def authenticate(auth) -> Actor:
    return authenticate_session(auth).actor


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
