"""Djoser's sign-in and registration views, throttled: both are open to anyone."""

from djoser.views import TokenCreateView, UserViewSet

from common.api.throttling import SettingsScopedThrottle


class ThrottledTokenCreateView(TokenCreateView):
    throttle_classes = [SettingsScopedThrottle]
    throttle_scope = "auth"


class ThrottledUserViewSet(UserViewSet):
    """Registration is throttled; the other user endpoints need an account already."""

    throttle_classes = [SettingsScopedThrottle]

    @property
    def throttle_scope(self):
        return "auth" if self.action == "create" else None
