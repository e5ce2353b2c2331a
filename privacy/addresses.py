"""The address a request came from, as the view audit records it."""

from django.conf import settings


def client_address(request) -> str | None:
    """REMOTE_ADDR; behind a proxy listed in PRIVACY_TRUSTED_PROXIES, the last address it forwarded for.

    Only a trusted proxy's X-Forwarded-For is believed: anyone else could write any address into it.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    trusted = set(getattr(settings, "PRIVACY_TRUSTED_PROXIES", []))
    if remote in trusted:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        for address in reversed(forwarded):
            if address not in trusted:
                return address
    return remote
