"""Throttles for endpoints anyone may call. They damp abuse; they are not a security boundary.

Counts live in the shared cache (common.ratelimit), per client address from the trusted proxies, so
neither more workers nor a made-up X-Forwarded-For buys a client more requests.
"""

from django.conf import settings
from rest_framework.exceptions import Throttled
from rest_framework.throttling import BaseThrottle

from common.ratelimit import client_address, count, parse_rate


def rate_for(scope: str) -> tuple[int, int] | None:
    """(limit, window seconds) for a scope of `settings.THROTTLE_RATES`, read on every call."""
    rate = settings.THROTTLE_RATES.get(scope)
    return parse_rate(rate) if rate else None


def hit(scope: str, ident: str) -> float | None:
    """Count one request of `ident` in `scope`; the seconds to wait when it is over the limit, else None."""
    rate = rate_for(scope)
    if rate is None:
        return None
    limit, window = rate
    current = count(f"{scope}:{ident}", window)
    return current.reset_in if current.count > limit else None


class SettingsScopedThrottle(BaseThrottle):
    """The view's `throttle_scope`, at the rate `settings.THROTTLE_RATES` gives it now.

    Signed-in callers are counted per account, everyone else per client address.
    """

    scope_attr = "throttle_scope"

    def allow_request(self, request, view):
        scope = getattr(view, self.scope_attr, None)
        if not scope:
            return True
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else client_address(request)
        self._wait = hit(scope, ident)
        return self._wait is None

    def wait(self):
        return self._wait


def check_password_attempt(request) -> None:
    """Count one password check from this client; raise Throttled beyond the `auth` rate.

    Called by the authentication backend, so every route that checks a password (the API's sign-in
    under any alias, the admin's, the dashboard's) shares one budget per client address.
    """
    wait = hit("auth", client_address(request))
    if wait is not None:
        raise Throttled(wait=wait)
