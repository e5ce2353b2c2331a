"""Privacy routes under /api/privacy/: unredacted evidence, bundles, legal holds, a citizen's own data; and the
evidence downloads, which keep their place under /api/incidents/ (`evidence_urlpatterns`, mounted at /api/)."""

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

# Every look at evidence is audited here, so the views live in this app; their addresses stay where the
# incident's detail points (naarikavach/urls.py mounts these at /api/).
evidence_urlpatterns = [
    path("incidents/images/<int:image_id>/download/", apis.ImageDownloadApi.as_view(),
         name="incident-image-download"),
    path("incidents/audio/<int:audio_id>/download/", apis.AudioDownloadApi.as_view(),
         name="incident-audio-download"),
]
