"""Djoser's sign-in and registration views, throttled: both are open to anyone."""

from djoser.views import TokenCreateView, UserViewSet

from common.api.throttling import SettingsScopedThrottle


class ThrottledTokenCreateView(TokenCreateView):
    throttle_classes = [SettingsScopedThrottle]
    throttle_scope = "auth"

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # Djoser clients (the NaariKavach site) show `non_field_errors` from the top level of a failed login.
        fields = response.data.get("fields") if isinstance(response.data, dict) else None
        if isinstance(fields, dict) and "non_field_errors" in fields:
            response.data["non_field_errors"] = fields["non_field_errors"]
        return response


class ThrottledUserViewSet(UserViewSet):
    """Registration is throttled; the other user endpoints need an account already."""

    throttle_classes = [SettingsScopedThrottle]

    @property
    def throttle_scope(self):
        return "auth" if self.action == "create" else None
