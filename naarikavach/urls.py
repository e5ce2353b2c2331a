"""Top-level routes: admin, auth (Djoser), the API, its schema and docs, and the web pages."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.apis import ThrottledTokenCreateView, ThrottledUserViewSet
from common.api.exceptions import json_not_found, json_server_error

urlpatterns = [
    path("admin/", admin.site.urls),
    # Sign-in and registration are open to anyone, so they are throttled; the rest is Djoser's own.
    path("auth/token/login/", ThrottledTokenCreateView.as_view(), name="auth-login"),
    path("auth/users/", ThrottledUserViewSet.as_view({"get": "list", "post": "create"}), name="auth-user-list"),
    path("auth/", include("djoser.urls")),
    path("auth/", include("djoser.urls.authtoken")),
    path("api/", include("sos.urls")),
    path("api/", include("incidents.urls")),
    path("api/", include("cameras.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("dashboard.urls")),
]

handler404 = json_not_found
handler500 = json_server_error
