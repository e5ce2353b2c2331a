"""Who may act on an SOS: responders (officers, dispatchers, admins), and its owner."""

from rest_framework.permissions import BasePermission

SOS_TOKEN_HEADER = "HTTP_X_SOS_TOKEN"


def sos_token_from(request) -> str | None:
    return request.META.get(SOS_TOKEN_HEADER) or None


def is_responder(user) -> bool:
    return bool(user and user.is_authenticated and user.is_responder)


def is_sos_owner(request, sos) -> bool:
    """The account that raised it, or whoever holds its access token."""
    user = request.user
    if user and user.is_authenticated and sos.owner_id == user.pk:
        return True
    return sos.token_matches(sos_token_from(request))


class IsResponder(BasePermission):
    message = "Only officers and dispatchers may do this."

    def has_permission(self, request, view):
        return is_responder(request.user)


class HasUserOrSOSToken(BasePermission):
    """Lets the request in when it carries any credential; the view checks it against the SOS."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) or bool(sos_token_from(request))
