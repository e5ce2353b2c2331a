"""The pages: sign-in for responders, the dashboard (which hands its script a DRF token), the citizen SOS page."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse_lazy
from django.views.decorators.cache import never_cache

from rest_framework.exceptions import Throttled
from accounts import services as account_services
from accounts.models import AuthToken
from common.actors import is_responder
from incidents.models import Incident
from sos.models import SOS
from common.tokens import hash_secret

# The dashboard page's API token is a token of its own, kept by id in the session (never its key):
# a new one each time the page loads (its key is not stored to hand out again), the previous one revoked.
SESSION_TOKEN_ID = "dashboard_token_id"


def _refuse(request, user):
    return render(request, "dashboard/refused.html", {"refused_user": user}, status=403)


def _map_config() -> dict:
    return {
        "tileUrl": settings.MAP_TILE_URL,
        "tileAttribution": settings.MAP_TILE_ATTRIBUTION,
        "center": settings.MAP_DEFAULT_CENTER,
        "zoom": settings.MAP_DEFAULT_ZOOM,
    }


def _open_statuses() -> dict:
    """The statuses in which an alert still needs the police, in order of urgency (the models' one rule)."""
    return {"sos_open": [str(s) for s in SOS.OPEN_STATUSES], "incident_open": [str(s) for s in Incident.OPEN_STATUSES]}


def _realtime_config() -> dict:
    # An empty URL lets the script use the page's own host, so one setting is not needed per hostname.
    return {"url": settings.REALTIME_PUBLIC_URL, "port": settings.REALTIME_PORT}


class ResponderLoginView(auth_views.LoginView):
    """The usual username/password form, but only officers, dispatchers and admins get a session."""

    template_name = "dashboard/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("dashboard:index")
    def post(self, request, *args, **kwargs):
        # The password check counts against the client's sign-in budget (accounts/backends.py), the
        # same budget as the API's sign-in: this form is another door for guessing passwords.
        try:
            return super().post(request, *args, **kwargs)
        except Throttled:
            return self.render_to_response(self.get_context_data(throttled=True), status=429)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_responder(request.user):
            return _refuse(request, request.user)
        return super().dispatch(request, *args, **kwargs)

    def form_valid(self, form):
        user = form.get_user()
        if not is_responder(user):
            # Checked before login(), so a citizen never holds a dashboard session at all.
            return _refuse(self.request, user)
        return super().form_valid(form)


class ResponderLogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("dashboard:login")

    def post(self, request, *args, **kwargs):
        _revoke_page_token(request)
        return super().post(request, *args, **kwargs)


def _revoke_page_token(request) -> None:
    token = AuthToken.objects.filter(pk=request.session.get(SESSION_TOKEN_ID), user=request.user).first()
    if token is not None:
        account_services.token_revoke(token=token)


def _page_token(request) -> str:
    _revoke_page_token(request)
    key = account_services.token_issue(user=request.user)
    request.session[SESSION_TOKEN_ID] = AuthToken.objects.get(digest=hash_secret(key)).pk
    return key


@never_cache
@login_required
def dashboard(request):
    if not is_responder(request.user):
        return _refuse(request, request.user)
    # The same token the API and the realtime server accept: the page's script speaks the public API.
    config = {
        "token": _page_token(request),
        "user": {
            "username": request.user.username,
            "role": request.user.role,
            "unit_number": request.user.unit.unit_number if request.user.unit_id else None,
        },
        "realtime": _realtime_config(),
        "map": _map_config(),
        "statuses": _open_statuses(),
    }
    return render(request, "dashboard/dashboard.html", {"config": config})


@never_cache
def citizen_sos(request):
    """Anyone may raise an SOS; the page keeps the alert's access token in the browser, not in a session."""
    config = {"realtime": _realtime_config(), "statuses": _open_statuses()}
    return render(request, "dashboard/citizen_sos.html", {"config": config})
