"""What the cameras app adds to an SOS's evidence bundle (privacy.hooks.sos_bundle_files): the originals of the
pre-roll key frames and clips its linked cameras sent, never the blurred copies."""

from cameras.models import SOSCameraClip, SOSCameraEvidence
from privacy.custody import BundleFile


def _time(value):
    return value.isoformat() if value else None


def sos_bundle_files(*, sos) -> list[BundleFile]:
    frames = [
        BundleFile(path=f"files/camera-frame-{row.pk}.{row.extension}", storage=row.image.storage, name=row.image.name,
                   sha256_at_upload=row.sha256,
                   meta={"camera_evidence_id": row.pk, "camera": row.camera.camera_id, "content_type": row.content_type,
                         "width": row.width, "height": row.height, "captured_at": _time(row.captured_at),
                         "uploaded_at": _time(row.received_at), "source": "camera pre-roll"})
        for row in SOSCameraEvidence.objects.filter(sos=sos).select_related("camera").order_by("received_at", "id")
    ]
    clips = [
        BundleFile(path=f"files/camera-clip-{clip.pk}.webm", storage=clip.clip.storage, name=clip.clip.name,
                   sha256_at_upload=clip.sha256,
                   meta={"camera_clip_id": clip.pk, "camera": clip.camera.camera_id, "content_type": clip.content_type,
                         "width": clip.width, "height": clip.height, "frames": clip.frames, "fps": clip.fps,
                         "uploaded_at": _time(clip.received_at), "source": "camera pre-roll clip"})
        for clip in SOSCameraClip.objects.filter(sos=sos).select_related("camera").order_by("received_at", "id")
    ]
    return frames + clips
