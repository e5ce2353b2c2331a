"""A Content-Security-Policy on every response: scripts and style sheets from this site only; images
also from the map's tile server; connections to this site and its realtime server; no framing.

The one inline script (the dashboard's import map) carries a per-request nonce (`request.csp_nonce`).
"""

import secrets
from urllib.parse import urlsplit

from django.conf import settings


def _origin(url: str) -> str:
    parts = urlsplit(url.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _realtime_sources(request) -> list[str]:
    if settings.REALTIME_PUBLIC_URL:
        origin = _origin(settings.REALTIME_PUBLIC_URL)
        websocket = origin.replace("https://", "wss://").replace("http://", "ws://")
        return [origin, websocket]
    host = request.get_host().rsplit(":", 1)[0] if not request.get_host().endswith("]") else request.get_host()
    secure = request.is_secure()
    return [f"{'https' if secure else 'http'}://{host}:{settings.REALTIME_PORT}",
            f"{'wss' if secure else 'ws'}://{host}:{settings.REALTIME_PORT}"]


def content_security_policy(request, nonce: str) -> str:
    tiles = _origin(settings.MAP_TILE_URL) if settings.MAP_TILE_URL else ""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", f"'nonce-{nonce}'"],
        "style-src": ["'self'"],
        # Style attributes the pages' scripts set on elements they build; no <style> element is allowed.
        "style-src-attr": ["'unsafe-inline'"],
        # blob: evidence images, fetched with the responder's token and shown from memory.
        "img-src": ["'self'", "data:", "blob:", *([tiles] if tiles else [])],
        # blob: evidence sound clips (scream detection), fetched the same way and played from memory.
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'", *_realtime_sources(request)],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            try:
                response["Content-Security-Policy"] = content_security_policy(request, request.csp_nonce)
            except Exception:  # A bad Host header (DisallowedHost) is answered already; add no policy.
                pass
        return response
