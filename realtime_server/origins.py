"""Which browser pages may open a socket: the API's CORS allow-list, and the pages the API itself serves."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http.request import validate_host


def origin_allowed(origin: str, environ: dict) -> bool:
    """Called by Engine.IO for requests that carry an Origin (browsers); other clients send none.

    Our own pages (the dashboard, the citizen page) are served by the API, which answers only the hosts
    in ALLOWED_HOSTS, so a page from one of those hosts is ours, whatever its port. Any other origin must
    be in CORS_ALLOWED_ORIGINS, the list the API's CORS headers come from.
    """
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    try:
        page = urlsplit(origin)
    except ValueError:
        return False
    return page.scheme in ("http", "https") and bool(page.hostname) and validate_host(
        page.hostname, settings.ALLOWED_HOSTS)
