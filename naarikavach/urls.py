"""Top-level routes: admin, auth, the API, its schema and docs, and the web pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from common.api.exceptions import json_bad_request, json_not_found, json_permission_denied, json_server_error
from common.metrics import metrics
from compat import urls as compat_urls
from naarikavach.health import healthz, healthz_detail, healthz_serving
from privacy import urls as privacy_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("healthz/detail", healthz_detail, name="healthz-detail"),
    path("healthz/serving", healthz_serving, name="healthz-serving"),
    path("metrics", metrics, name="metrics"),
    # Sign-in, sign-out, registration and `me`; no other account flow is exposed.
    path("auth/", include("accounts.urls")),
    path("api/", include("sos.urls")),
    path("api/", include("incidents.urls")),
    # Incident evidence downloads: privacy's views (each look audited) at the incidents' addresses.
    path("api/", include(privacy_urls.evidence_urlpatterns)),
    path("api/", include("console.urls")),
    # The seeds' clients (docs/compatibility.md): ResQ's AI routes, and the NaariKavach apps' base URL.
    path("api/", include(compat_urls.ai_aliases)),
    path("naarikavach/", include(compat_urls.naarikavach_urlpatterns)),
    path("api/", include("response.urls")),
    path("api/privacy/", include("privacy.urls")),
    path("api/", include("contacts.urls")),
    path("api/", include("cameras.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's settings as a script of its own: no inline script, so the CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("dashboard.urls")),
]

handler400 = json_bad_request
handler403 = json_permission_denied
handler404 = json_not_found
handler500 = json_server_error
