"""Who is acting: a signed-in user, the holder of one SOS's access token, or a detection device.

Views and the realtime server build an Actor from the request or connection; services decide what it
may do, on the rows they have locked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from common.tokens import hash_secret

RESPONDER_ROLES = frozenset({"officer", "dispatcher", "admin"})
SUPERVISOR_ROLES = frozenset({"dispatcher", "admin"})


def is_responder(user: Any) -> bool:
    """Officers, dispatchers and admins act on alerts; citizens, devices and anonymous callers do not."""
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
        and getattr(user, "pk", None) is not None
        and (getattr(user, "role", "") in RESPONDER_ROLES or getattr(user, "is_superuser", False))
    )


def sees_everything(actor: Actor) -> bool:
    """Dispatchers and admins see and act on every alert; officers work within their scope (docs/security.md)."""
    return actor.is_responder and not actor.is_officer


def is_supervisor(user: Any) -> bool:
    """Dispatchers and admins oversee the response: they override, read reports, see who looked, place holds."""
    return is_responder(user) and (getattr(user, "role", "") in SUPERVISOR_ROLES or getattr(user, "is_superuser", False))


def public_label(label: str) -> str:
    """'dispatcher:meera' -> 'dispatcher': what an SOS raiser is shown of whoever acted on their alert."""
    return label.split(":", 1)[0]


@dataclass(frozen=True)
class Actor:
    user: Any = None  # accounts.User, signed in
    sos_token_hash: str | None = None  # the hash of the SOS access token presented, if any
    device: Any = None  # incidents.Device, authenticated by its key

    @classmethod
    def for_user(cls, user: Any) -> Actor:
        return cls(user=user if user is not None and getattr(user, "pk", None) else None)

    @classmethod
    def from_credentials(cls, *, user: Any = None, sos_token: str | None = None) -> Actor:
        signed_in = user is not None and getattr(user, "is_authenticated", False) and getattr(user, "pk", None)
        return cls(user=user if signed_in else None, sos_token_hash=hash_secret(sos_token) if sos_token else None)

    @property
    def is_responder(self) -> bool:
        return is_responder(self.user)

    @property
    def is_supervisor(self) -> bool:
        return is_supervisor(self.user)

    @property
    def is_officer(self) -> bool:
        return self.user is not None and self.user.role == "officer"

    @property
    def unit_id(self) -> int | None:
        return self.user.unit_id if self.user is not None else None

    @property
    def unit_number(self) -> str | None:
        """The signed-in officer's unit (the user is expected to be loaded with its unit)."""
        return self.user.unit.unit_number if self.user is not None and self.user.unit_id else None

    @property
    def db_user(self) -> Any:
        return self.user

    @property
    def label(self) -> str:
        """How the audit trail names the actor; kept even if the account is deleted."""
        if self.user is not None:
            return f"{self.user.role}:{self.user.username}"
        if self.device is not None:
            return self.device.label
        return "sos-owner-token" if self.sos_token_hash else "anonymous"

    @property
    def role_label(self) -> str:
        """The actor as someone outside the force may see it: a role, never a staff username."""
        return public_label(self.label)

    def owns_sos(self, *, owner_id: int | None, access_token_hash: str) -> bool:
        """The account that raised the SOS, or whoever holds its access token."""
        if self.user is not None and owner_id is not None and owner_id == self.user.pk:
            return True
        return self.sos_token_hash is not None and self.sos_token_hash == access_token_hash
