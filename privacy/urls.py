"""Privacy routes under /api/privacy/: unredacted evidence, bundles, legal holds, a citizen's own data."""

from django.urls import path

from privacy import apis

urlpatterns = [
    path("evidence/images/<int:image_id>/unredacted/", apis.UnredactedImageApi.as_view(),
         name="privacy-image-unredacted"),
    path("incidents/<uuid:subject_id>/bundle/", apis.IncidentBundleApi.as_view(), name="privacy-incident-bundle"),
    path("me/export/", apis.CitizenExportApi.as_view(), name="privacy-my-export"),
    path("me/delete/", apis.CitizenDeleteApi.as_view(), name="privacy-my-delete"),
    path("holds/", apis.LegalHoldViewSet.as_view({"get": "list", "post": "create"}), name="privacy-hold-list"),
    path("holds/<int:hold_id>/release/", apis.LegalHoldReleaseApi.as_view(), name="privacy-hold-release"),
    path("sos/<int:subject_id>/bundle/", apis.SOSBundleApi.as_view(), name="privacy-sos-bundle"),
]
