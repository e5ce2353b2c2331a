"""The pages: sign-in for responders, the dashboard (which hands its script a DRF token), the supervisors'
response-time report, the citizen SOS page."""

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.i18n import JavaScriptCatalog
from rest_framework.exceptions import Throttled

from accounts import services as account_services
from accounts.models import AuthToken
from common.actors import is_responder, is_supervisor
from common.languages import CITIZEN_LANGUAGES, citizen_language
from common.tokens import hash_secret
from incidents.models import Incident
from response.models import EscalationStep
from sos.models import SOS

# The dashboard page's API token is a token of its own, kept by id in the session (never its key):
# a new one each time the page loads (its key is not stored to hand out again), the previous one revoked.
SESSION_TOKEN_ID = "dashboard_token_id"
# The reports page and the camera list hold their own, so that opening one does not revoke the token
# of a dashboard open in another tab (and the other way round).
REPORTS_SESSION_TOKEN_ID = "reports_token_id"
CAMERAS_SESSION_TOKEN_ID = "cameras_token_id"
PAGE_TOKEN_SESSION_KEYS = (SESSION_TOKEN_ID, REPORTS_SESSION_TOKEN_ID, CAMERAS_SESSION_TOKEN_ID)


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


def _wait_steps() -> dict:
    """The colour steps of time in status, in seconds: the SOS emergency ladder's steps (response/), so the colours
    of a waiting alert match the levels it will reach; sensible defaults where no ladder is set."""
    steps = {"unacknowledged": [30, 120, 300], "acknowledged": [900, 1800, 3600]}
    ladder = EscalationStep.objects.filter(policy__source="sos", policy__kind="emergency", policy__is_active=True)
    waiting = sorted({step.after_seconds for step in ladder if step.in_status == SOS.Status.ACTIVE})[:3]
    working = sorted({step.after_seconds for step in ladder if step.in_status != SOS.Status.ACTIVE})[:3]
    if waiting:
        steps["unacknowledged"] = waiting
    if working:
        steps["acknowledged"] = working
    return steps


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
        for session_key in PAGE_TOKEN_SESSION_KEYS:
            _revoke_page_token(request, session_key)
        return super().post(request, *args, **kwargs)


def _revoke_page_token(request, session_key: str = SESSION_TOKEN_ID) -> None:
    token = AuthToken.objects.filter(pk=request.session.get(session_key), user=request.user).first()
    if token is not None:
        account_services.token_revoke(token=token)


def _page_token(request, session_key: str = SESSION_TOKEN_ID) -> str:
    _revoke_page_token(request, session_key)
    key = account_services.token_issue(user=request.user)
    request.session[session_key] = AuthToken.objects.get(digest=hash_secret(key)).pk
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
        "waitSteps": _wait_steps(),
        "alarmRepeatMs": settings.DASHBOARD_ALARM_REPEAT_SECONDS * 1000,
    }
    return _render_in_language(request, "dashboard/dashboard.html",
                               {"config": config, "may_read_reports": is_supervisor(request.user)})


# The console ships in English and Hindi (chosen like the citizen page's language: ?lang=, the cookie, the browser).
DASHBOARD_LANGUAGES = ("en", "hi")


def dashboard_language(request) -> str:
    language = citizen_language(request)
    return language if language in DASHBOARD_LANGUAGES else "en"


def _render_in_language(request, template: str, context: dict):
    """A dashboard page (console, cameras, report) in the dispatcher's language; its scripts' messages come
    from the catalogue in the same language (`LANGUAGE_CODE` names it)."""
    language = dashboard_language(request)
    return _in_language(language, lambda: render(request, template, {**context, "LANGUAGE_CODE": language}))


def _in_language(language: str, respond):
    """`respond()`'s response, rendered in `language` and saying so (Content-Language)."""
    with translation.override(language):
        response = respond()
    response["Content-Language"] = language
    return response


def dashboard_javascript_catalog(request):
    """The console's messages for its scripts, in its language."""
    return _in_language(dashboard_language(request), lambda: JavaScriptCatalog.as_view(packages=["dashboard"])(request))


@never_cache
@login_required
def reports(request):
    """The response-time report for dispatch supervisors (dispatchers and admins: the report API's rule)."""
    if not is_responder(request.user):
        return _refuse(request, request.user)
    if not is_supervisor(request.user):
        return render(request, "dashboard/reports_refused.html", status=403)
    config = {
        "token": _page_token(request, REPORTS_SESSION_TOKEN_ID),
        "api": reverse("report-response-times"),
        "today": timezone.localdate().isoformat(),
        "timeZone": settings.TIME_ZONE,
    }
    return _render_in_language(request, "dashboard/reports.html", {"config": config})


@never_cache
@login_required
def cameras(request):
    """Every camera with its health, figures and watched SOS; a snapshot on request (through the platform:
    the dispatcher's browser cannot reach a worker)."""
    if not is_responder(request.user):
        return _refuse(request, request.user)
    config = {
        "token": _page_token(request, CAMERAS_SESSION_TOKEN_ID),
        "realtime": _realtime_config(),
        "refreshSeconds": 10,
    }
    return _render_in_language(request, "dashboard/cameras.html",
                               {"config": config, "may_read_reports": is_supervisor(request.user)})


@never_cache
def citizen_sos(request):
    """Anyone may raise an SOS; the page keeps the alert's access token in the browser, not in a session."""
    language = citizen_language(request)
    config = {
        "realtime": _realtime_config(),
        "statuses": _open_statuses(),
        "language": language,
        "emergencyNumber": settings.SOS_EMERGENCY_NUMBER,
        "serviceWorker": reverse("dashboard:citizen-sw"),
    }
    context = {"config": config, "language": language, "languages": CITIZEN_LANGUAGES,
               "emergency_number": settings.SOS_EMERGENCY_NUMBER}
    return _in_language(language, lambda: render(request, "dashboard/citizen_sos.html", context))


def citizen_javascript_catalog(request):
    """The citizen page's messages for its script (Django's JavaScript catalogue) in the language asked for."""
    return _in_language(citizen_language(request), lambda: JavaScriptCatalog.as_view(packages=["dashboard"])(request))


def citizen_manifest(request):
    """The web app manifest that makes the citizen page installable."""
    manifest = {
        "name": "NaariKavach SOS",
        "short_name": "SOS",
        "start_url": reverse("dashboard:citizen-sos"),
        "scope": reverse("dashboard:citizen-sos"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#b3122e",
        "icons": [
            {"src": static("dashboard/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("dashboard/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("dashboard/icon.svg"), "sizes": "any", "type": "image/svg+xml", "purpose": "any"},
        ],
    }
    return JsonResponse(manifest, content_type="application/manifest+json")


# What the service worker keeps for the page to load offline (the messages per language are kept as fetched).
_OFFLINE_STATIC = [
    "dashboard/citizen.js", "dashboard/api.js", "dashboard/realtime.js", "dashboard/sos-queue.js",
    "dashboard/pages.css", "dashboard/citizen.css", "dashboard/icon.svg", "dashboard/icon-192.png",
    "vendor/socket.io/socket.io.esm.min.js",
]


@lru_cache(maxsize=1)
def _offline_version() -> str:
    """Changes whenever a file kept offline changes, so phones drop an old copy of the page."""
    digest = hashlib.sha256()
    for path in [*_OFFLINE_STATIC, "dashboard/sw.js"]:
        found = finders.find(path)
        if found:
            digest.update(Path(found).read_bytes())
    # The messages too: a new translation must reach phones that keep the page offline.
    for catalogue in sorted((Path(__file__).resolve().parent / "locale").glob("*/LC_MESSAGES/*.mo")):
        digest.update(catalogue.read_bytes())
    return digest.hexdigest()[:12]


def citizen_service_worker(request):
    """The service worker, served under /sos/ so that it may control the page (its scope is its folder)."""
    source = Path(finders.find("dashboard/sw.js")).read_text()
    offline = json.dumps({
        "version": _offline_version(),
        "page": reverse("dashboard:citizen-sos"),
        "assets": [static(path) for path in _OFFLINE_STATIC]
        + [f"{reverse('dashboard:citizen-jsi18n')}?lang={code}" for code, _ in CITIZEN_LANGUAGES],
        "createUrl": "/api/create-sos/",
    })
    response = HttpResponse(f"const OFFLINE = {offline};\n" + source, content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
def citizen_live(request, token: str):
    """A trusted contact's read-only live page; its script reads /api/live/<token>/ (the token is the only key)."""
    return render(request, "dashboard/citizen_live.html", {"config": {"api": reverse("live-view", args=[token])}})
