"""Who may act on an SOS: responders (officers, dispatchers, admins), and its owner.

The rules are checked by the services on the SOS row they have locked (`require_*`); the DRF classes
only turn away requests that carry no credential at all.
"""

from django.utils.translation import gettext
from rest_framework.permissions import BasePermission

from common.actors import Actor, sees_everything
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
        raise Forbidden(gettext("Only the person who raised this SOS may cancel it."))
    raise _not_found()


def require_responder(actor: Actor) -> None:
    if not actor.is_responder:
        raise Forbidden("Only officers and dispatchers may do this.")


# Officers' scope (docs/security.md). Dispatchers and admins see and act on everything. An officer sees
# every open alert (any of them may be the nearest) and every alert assigned to their unit, closed or
# not; acts only on alerts assigned to their unit or to no unit yet; and sees a victim's phone number only
# once the alert is assigned to their unit.


def officer_covers(actor: Actor, assigned_unit_ids: set[int]) -> bool:
    """The officer's unit is assigned to this SOS."""
    return actor.unit_id is not None and actor.unit_id in assigned_unit_ids


def may_see(actor: Actor, *, is_open: bool, assigned_unit_ids: set[int]) -> bool:
    """Of a responder: may they see this SOS at all."""
    return sees_everything(actor) or (actor.is_responder and (is_open or officer_covers(actor, assigned_unit_ids)))


def require_may_act(actor: Actor, sos: SOS) -> None:
    """A responder's change: officers only on SOS of their unit or of no unit yet."""
    require_responder(actor)
    if sees_everything(actor):
        return
    units = assigned_unit_ids(sos)
    if units and not officer_covers(actor, units):
        raise Forbidden("This SOS is assigned to another unit; only that unit or a dispatcher may act on it.",
                        code="other_unit")


def require_may_see(actor: Actor, sos: SOS) -> None:
    """The owner, or a responder within their scope; anyone else gets the answer for a missing SOS."""
    if is_sos_owner(actor, sos):
        return
    if not may_see(actor, is_open=sos.is_open, assigned_unit_ids=assigned_unit_ids(sos)):
        raise _not_found()


def may_see_phone(actor: Actor, sos: SOS) -> bool:
    return sees_everything(actor) or is_sos_owner(actor, sos) or officer_covers(actor, assigned_unit_ids(sos))


def assigned_unit_ids(sos: SOS) -> set[int]:
    # Uses prefetched assignments when the caller loaded them (lists), else one small query.
    return {assignment.unit_id for assignment in sos.assignments.all()}


class HasUserOrSOSToken(BasePermission):
    """Lets the request in when it carries any credential; the service checks it against the SOS."""

    accepts_sos_token = True  # The API schema declares the X-SOS-Token scheme for these views.

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated) or bool(sos_token_from(request))
