"""Who may act on an SOS: responders (officers, dispatchers, admins), and its owner.

The rules are checked by the services on the SOS row they have locked (`require_*`); the DRF classes
only turn away requests that carry no credential at all.
"""

from rest_framework.permissions import BasePermission

from common.actors import Actor
from common.errors import Forbidden, NotFound
from sos.models import SOS

SOS_TOKEN_HEADER = "HTTP_X_SOS_TOKEN"


def sos_token_from(request) -> str | None:
    return request.META.get(SOS_TOKEN_HEADER) or None


def actor_from_request(request) -> Actor:
    return Actor.from_credentials(user=request.user, sos_token=sos_token_from(request))


def is_sos_owner(actor: Actor, sos: SOS) -> bool:
    return actor.owns_sos(owner_id=sos.owner_id, access_token_hash=sos.access_token_hash)


def _not_found() -> NotFound:
    # The answer for an SOS that does not exist, word for word: a made-up X-SOS-Token (or someone
    # else's account) must not tell an existing SOS from a missing one.
    return NotFound("SOS not found")


def require_owner_or_responder(actor: Actor, sos: SOS) -> None:
    if not (actor.is_responder or is_sos_owner(actor, sos)):
        raise _not_found()


def require_owner(actor: Actor, sos: SOS) -> None:
    if is_sos_owner(actor, sos):
        return
    if actor.is_responder:
        raise Forbidden("Only the person who raised this SOS may cancel it.")
    raise _not_found()


def require_responder(actor: Actor) -> None:
    if not actor.is_responder:
        raise Forbidden("Only officers and dispatchers may do this.")


class HasUserOrSOSToken(BasePermission):
    """Lets the request in when it carries any credential; the service checks it against the SOS."""

    accepts_sos_token = True  # The API schema declares the X-SOS-Token scheme for these views.

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) or bool(sos_token_from(request))
