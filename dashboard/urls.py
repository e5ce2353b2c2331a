"""Routes of the web pages: the police dashboard with its sign-in, and the citizen SOS page."""

from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("dashboard/", views.dashboard, name="index"),
    path("dashboard/reports/", views.reports, name="reports"),
    path("dashboard/cameras/", views.cameras, name="cameras"),
    path("dashboard/jsi18n/", views.dashboard_javascript_catalog, name="jsi18n"),
    path("dashboard/login/", views.ResponderLoginView.as_view(), name="login"),
    path("dashboard/logout/", views.ResponderLogoutView.as_view(), name="logout"),
    path("sos/", views.citizen_sos, name="citizen-sos"),
    path("sos/live/<str:token>/", views.citizen_live, name="citizen-live"),
    path("sos/sw.js", views.citizen_service_worker, name="citizen-sw"),
    path("sos/manifest.webmanifest", views.citizen_manifest, name="citizen-manifest"),
    path("sos/jsi18n/", views.citizen_javascript_catalog, name="citizen-jsi18n"),
]
