"""Throttles for endpoints anyone may call. They damp abuse; they are not a security boundary."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle


class SettingsScopedThrottle(SimpleRateThrottle):
    """Like DRF's ScopedRateThrottle, but reads `settings.THROTTLE_RATES` on each request.

    DRF binds its rates when the class is imported, so a deployment (or a test) could not
    change them without a restart.
    """

    scope_attr = "throttle_scope"

    def allow_request(self, request, view):
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        if self.rate is None:
            return True
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_rate(self):
        return settings.THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        ident = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
