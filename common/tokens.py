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
