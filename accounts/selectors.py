"""Reads about accounts: which live token a key is."""

from datetime import datetime

from accounts.models import AuthToken
from common.tokens import hash_secret


def token_user(*, key: str, now: datetime) -> AuthToken | None:
    """The unexpired token of an active user that `key` is, with its user (and unit) loaded; else None."""
    if not key or "\x00" in key or len(key) > 256:
        return None
    return (
        AuthToken.objects.select_related("user__unit")
        .filter(digest=hash_secret(key), expires_at__gt=now, user__is_active=True)
        .first()
    )


def live_token_digests(digests: list[str], *, now: datetime) -> set[str]:
    """Of these token digests, the ones still valid (unexpired, not signed out, user active)."""
    return set(
        AuthToken.objects.filter(digest__in=digests, expires_at__gt=now, user__is_active=True)
        .values_list("digest", flat=True)
    )
