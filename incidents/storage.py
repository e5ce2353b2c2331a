"""Where evidence lives: private local files by default, Google Cloud Storage when GS_BUCKET_NAME is set."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.core.signals import setting_changed
from django.utils import timezone
from django.utils.functional import LazyObject, empty

EXTENSION_BY_CONTENT_TYPE = {
    "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
    "audio/ogg": "ogg", "audio/wav": "wav", "audio/flac": "flac",
}
_SETTINGS = {"GS_BUCKET_NAME", "GS_PROJECT_ID", "GS_CREDENTIALS", "GS_CREDENTIALS_FILE", "GS_IAM_SIGN_BLOB",
             "MEDIA_ROOT", "EVIDENCE_URL_EXPIRY_SECONDS"}
_GCS_SCOPES = ["https://www.googleapis.com/auth/devstorage.read_write"]


# Signed URLs live 15 minutes unless configured, and never more than an hour: long enough to look, too
# short to be worth forwarding.
DEFAULT_URL_EXPIRY_SECONDS = 15 * 60
MAX_URL_EXPIRY_SECONDS = 60 * 60


def evidence_url_expiry_seconds() -> int:
    configured = getattr(settings, "EVIDENCE_URL_EXPIRY_SECONDS", DEFAULT_URL_EXPIRY_SECONDS)
    return max(1, min(int(configured), MAX_URL_EXPIRY_SECONDS))


def evidence_uses_signed_urls() -> bool:
    return bool(settings.GS_BUCKET_NAME)


def _gcs_credentials():
    """GS_CREDENTIALS (an object) or GS_CREDENTIALS_FILE (a key file); None means the machine's default."""
    credentials = getattr(settings, "GS_CREDENTIALS", None)
    if credentials is None and settings.GS_CREDENTIALS_FILE:
        from google.oauth2 import service_account

        credentials = service_account.Credentials.from_service_account_file(
            settings.GS_CREDENTIALS_FILE, scopes=_GCS_SCOPES
        )
    return credentials


def build_evidence_backend() -> Storage:
    if settings.GS_BUCKET_NAME:
        from storages.backends.gcloud import GoogleCloudStorage

        return GoogleCloudStorage(
            bucket_name=settings.GS_BUCKET_NAME,
            project_id=settings.GS_PROJECT_ID,
            credentials=_gcs_credentials(),
            iam_sign_blob=settings.GS_IAM_SIGN_BLOB,
            # No ACL of our own: objects get the bucket's (private) defaults and are never made public.
            default_acl=None,
            querystring_auth=True,
            expiration=timedelta(seconds=evidence_url_expiry_seconds()),
            file_overwrite=False,
        )
    # base_url=None: local evidence has no URL of its own, only the authenticated download view;
    # and only the platform's own user may read the files.
    return FileSystemStorage(
        location=settings.MEDIA_ROOT, base_url=None, file_permissions_mode=0o600, directory_permissions_mode=0o700
    )


class EvidenceStorage(LazyObject):
    """The evidence backend, built on first use and rebuilt when its settings change (tests, reloads)."""

    def _setup(self):
        self._wrapped = build_evidence_backend()


_evidence_storage = EvidenceStorage()


def evidence_storage() -> Storage:
    return _evidence_storage


def _reset_on_setting_change(*, setting, **kwargs):
    if setting in _SETTINGS:
        _evidence_storage._wrapped = empty


setting_changed.connect(_reset_on_setting_change)


def evidence_path(content_type: str) -> str:
    """incidents/YYYY/MM/DD/<uuid>.<ext>: unguessable, and nothing of the uploader's file name."""
    return f"incidents/{timezone.now():%Y/%m/%d}/{uuid.uuid4()}.{EXTENSION_BY_CONTENT_TYPE[content_type]}"


def evidence_upload_to(instance, filename: str) -> str:
    return evidence_path(instance.content_type)
