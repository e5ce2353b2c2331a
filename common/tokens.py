"""Secrets handed to clients (SOS access tokens, device keys) are stored only as this hash."""

import hashlib
import secrets


def new_secret() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    # The secrets have 256 random bits, so a plain SHA-256 (no salt, no stretching) cannot be reversed,
    # and looking a row up by it needs no constant-time comparison.
    return hashlib.sha256(secret.encode()).hexdigest()


def derived_secret(seed: str, *, purpose: str) -> str:
    """A secret that only this server can derive again from `seed` (HMAC with SECRET_KEY), URL-safe like new_secret().

    For answers that must repeat (an SOS retried with its idempotency key gets the same access token)
    without storing the secret itself. `seed` must itself be unguessable.
    """
    import base64
    import hmac

    from django.conf import settings

    digest = hmac.new(settings.SECRET_KEY.encode(), f"{purpose}:{seed}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
