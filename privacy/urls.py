"""Privacy routes under /api/privacy/: unredacted evidence, bundles, legal holds, a citizen's own data."""

from django.urls import path

from privacy import apis

urlpatterns = [
    path("evidence/images/<int:image_id>/unredacted/", apis.UnredactedImageApi.as_view(),
         name="privacy-image-unredacted"),
    path("incidents/<uuid:subject_id>/bundle/", apis.IncidentBundleApi.as_view(), name="privacy-incident-bundle"),
    path("sos/<int:subject_id>/bundle/", apis.SOSBundleApi.as_view(), name="privacy-sos-bundle"),
]
