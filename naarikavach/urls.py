"""Top-level routes: admin, auth, the API, its schema and docs, and the web pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common.metrics import metrics
from naarikavach.health import healthz
from common.api.exceptions import json_bad_request, json_not_found, json_permission_denied, json_server_error

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    # Sign-in, sign-out, registration and `me`; no other account flow is exposed.
    path("auth/", include("accounts.urls")),
    path("api/", include("sos.urls")),
    path("api/", include("incidents.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's settings as a script of its own: no inline script, so the CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("dashboard.urls")),
]

handler400 = json_bad_request
handler403 = json_permission_denied
handler404 = json_not_found
handler500 = json_server_error
