"""Camera routes: heartbeats from workers, the registry for responders, manual SOS links, evidence and snapshots."""

from django.urls import path

from cameras import apis

urlpatterns = [
    path("devices/heartbeat/", apis.HeartbeatApi.as_view(), name="device-heartbeat"),
    path("devices/sos-evidence/", apis.SOSEvidenceUploadApi.as_view(), name="device-sos-evidence"),
    path("devices/camera-snapshot/", apis.CameraSnapshotUploadApi.as_view(), name="device-camera-snapshot"),
    path("cameras/", apis.CameraListApi.as_view(), name="camera-list"),
    path("cameras/snapshots/<int:snapshot_id>/", apis.CameraSnapshotDetailApi.as_view(), name="camera-snapshot"),
    path("cameras/snapshots/<int:snapshot_id>/image/", apis.CameraSnapshotImageApi.as_view(),
         name="camera-snapshot-image"),
    path("cameras/snapshots/<int:snapshot_id>/unredacted/", apis.CameraSnapshotUnredactedApi.as_view(),
         name="camera-snapshot-unredacted"),
    path("cameras/<str:camera_id>/snapshot/", apis.CameraSnapshotRequestApi.as_view(), name="camera-snapshot-request"),
    path("cameras/<str:camera_id>/", apis.CameraDetailApi.as_view(), name="camera-detail"),
    path("sos/<int:sos_id>/cameras/link/", apis.SOSCameraLinkApi.as_view(), name="sos-camera-link"),
    path("sos/<int:sos_id>/cameras/unlink/", apis.SOSCameraUnlinkApi.as_view(), name="sos-camera-unlink"),
    path("sos/<int:sos_id>/camera-evidence/", apis.SOSEvidenceListApi.as_view(), name="sos-camera-evidence"),
    path("sos/<int:sos_id>/camera-clips/", apis.SOSClipListApi.as_view(), name="sos-camera-clips"),
    path("sos/camera-clips/<int:clip_id>/download/", apis.SOSClipDownloadApi.as_view(), name="sos-camera-clip-download"),
    path("sos/camera-clips/<int:clip_id>/unredacted/", apis.SOSClipUnredactedApi.as_view(),
         name="sos-camera-clip-unredacted"),
    path("sos/camera-evidence/<int:evidence_id>/unredacted/", apis.SOSEvidenceUnredactedApi.as_view(),
         name="sos-camera-evidence-unredacted"),
    path("sos/camera-evidence/<int:evidence_id>/download/", apis.SOSEvidenceDownloadApi.as_view(),
         name="sos-camera-evidence-download"),
]
