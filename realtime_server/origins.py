"""Which browser pages may open a socket: the allow-list the API uses, and pages of the server's own host."""

from urllib.parse import urlsplit

from django.conf import settings


def origin_allowed(origin: str, environ: dict) -> bool:
    """Called by Engine.IO for requests that carry an Origin (browsers); other clients send none.

    Our own dashboard is served by the API, on another port of the same host, so a page whose host is
    the one the client reached us at is ours. Any other origin must be in CORS_ALLOWED_ORIGINS, the list
    the API's CORS headers come from.
    """
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    try:
        page = urlsplit(origin)
        reached = urlsplit(f"//{environ.get('HTTP_HOST', '')}")
        return page.scheme in ("http", "https") and bool(page.hostname) and page.hostname == reached.hostname
    except ValueError:
        return False
