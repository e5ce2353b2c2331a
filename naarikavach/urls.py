"""Top-level routes: admin, auth (Djoser), the API, its schema and docs, and the web pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.apis import ThrottledTokenCreateView, ThrottledUserViewSet
from common.api.exceptions import json_not_found, json_server_error
from compat import urls as compat_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in and registration are open to anyone, so they are throttled; the rest is Djoser's own.
    path("auth/token/login/", ThrottledTokenCreateView.as_view(), name="auth-login"),
    path("auth/users/", ThrottledUserViewSet.as_view({"get": "list", "post": "create"}), name="auth-user-list"),
    path("auth/", include("djoser.urls")),
    path("auth/", include("djoser.urls.authtoken")),
    path("api/", include("sos.urls")),
    path("api/", include("incidents.urls")),
    path("api/", include("console.urls")),
    # The seeds' clients (docs/compatibility.md): ResQ's AI routes, and the NaariKavach apps' base URL.
    path("api/", include(compat_urls.ai_aliases)),
    path("naarikavach/", include(compat_urls.naarikavach_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("dashboard.urls")),
]

handler404 = json_not_found
handler500 = json_server_error
