"""Evidence on Google Cloud Storage, for real against gcp-storage-emulator: private objects, signed URLs that expire."""

import datetime
import hashlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.urls import reverse
from google.cloud import storage as gcs
from google.oauth2 import service_account

from incidents.models import IncidentImage
from incidents.tests.factories import image_bytes, report, upload
from naarikavach.testing import client_for

pytestmark = pytest.mark.slow  # starts the GCS emulator

BUCKET = "naarikavach-evidence-test"
SERVICE_ACCOUNT = "evidence-signer@naarikavach-test.iam.gserviceaccount.com"
VIOLENCE = reverse("ai-violence-detected")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def emulator():
    """gcp-storage-emulator on a free port, in memory, with the bucket created; stopped after the module."""
    port = _free_port()
    executable = shutil.which("gcp-storage-emulator", path=str(Path(sys.executable).parent)) or "gcp-storage-emulator"
    process = subprocess.Popen(
        [executable, "start", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "--default-bucket", BUCKET,
         "--quiet"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gcp-storage-emulator did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def signing_key():
    """A throwaway service-account key: what GS_CREDENTIALS_FILE would hold in production."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _credentials(signing_key) -> service_account.Credentials:
    pem = signing_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    credentials = service_account.Credentials.from_service_account_info(
        {"type": "service_account", "project_id": "naarikavach-test", "private_key_id": "test-key",
         "private_key": pem, "client_email": SERVICE_ACCOUNT, "client_id": "1",
         "token_uri": "https://oauth2.googleapis.com/token"},
        scopes=["https://www.googleapis.com/auth/devstorage.read_write"],
    )
    # The emulator ignores access tokens; a valid-looking one keeps the client from fetching a real one.
    credentials.token = "emulator-token"
    credentials.expiry = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(hours=1)
    return credentials


@pytest.fixture
def gcs_settings(settings, emulator, signing_key, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator)
    settings.GS_BUCKET_NAME = BUCKET
    settings.GS_PROJECT_ID = "naarikavach-test"
    settings.GS_CREDENTIALS = _credentials(signing_key)
    settings.EVIDENCE_URL_EXPIRY_SECONDS = 120
    return settings


@pytest.fixture
def bucket(gcs_settings, emulator):
    client = gcs.Client(project="naarikavach-test", credentials=gcs_settings.GS_CREDENTIALS)
    return client.bucket(BUCKET)


@pytest.fixture
def reported(gcs_settings, device_client, beacon):
    frame = image_bytes(color=(9, 99, 199))
    response = device_client.post(VIOLENCE, {**report(beacon.beacon_id), "images": [upload("cam.jpg", frame)]},
                                  format="multipart")
    assert response.status_code == 201, response.json()
    return response.json(), frame


def _verify_v4_signature(url: str, public_key) -> None:
    """Rebuild the V4 string-to-sign from the URL and check the signature against the service account's key."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    signature = bytes.fromhex(query.pop("X-Goog-Signature"))
    canonical_query = "&".join(
        f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}" for key, value in sorted(query.items())
    )
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, f"host:{parts.netloc}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = query["X-Goog-Credential"].split("/", 1)[1]
    string_to_sign = "\n".join(
        ["GOOG4-RSA-SHA256", query["X-Goog-Date"], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    public_key.verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_evidence_is_uploaded_to_the_bucket_under_a_dated_name_with_its_sha256(reported, bucket):
    body, frame = reported
    image = IncidentImage.objects.get()
    today = datetime.datetime.now(datetime.UTC)

    blob = bucket.get_blob(image.image.name)
    assert image.image.name.startswith(f"incidents/{today:%Y/%m/%d}/")
    assert blob.download_as_bytes() == frame
    assert blob.content_type == "image/jpeg"
    assert image.sha256 == hashlib.sha256(frame).hexdigest() == body["images"][0]["sha256"]


def test_the_api_hands_out_a_signed_url_that_expires(reported, signing_key, gcs_settings, emulator, officer_a):
    body, frame = reported
    # The API's URL is the audited download view; it redirects to a signed URL of what responders see
    # (the derivative with faces blurred, privacy.redaction).
    download = client_for(officer_a).get(body["images"][0]["image"])
    url = download["Location"]
    derivative = IncidentImage.objects.get().redacted

    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}" == emulator
    assert parts.path == f"/{BUCKET}/{derivative.file.name}"
    assert query["X-Goog-Algorithm"] == "GOOG4-RSA-SHA256"
    assert query["X-Goog-Expires"] == "120"
    assert query["X-Goog-Credential"].startswith(SERVICE_ACCOUNT + "/")
    _verify_v4_signature(url, signing_key.public_key())
    with pytest.raises(InvalidSignature):  # the expiry is covered by the signature: it cannot be stretched
        _verify_v4_signature(url.replace("X-Goog-Expires=120", "X-Goog-Expires=604800"), signing_key.public_key())
    assert hashlib.sha256(httpx.get(url).content).hexdigest() == derivative.sha256


def test_evidence_objects_are_never_made_public(reported, bucket):
    blob = bucket.blob(IncidentImage.objects.get().image.name)

    blob.acl.reload()

    entities = {entry["entity"] for entry in blob.acl}
    assert not entities & {"allUsers", "allAuthenticatedUsers"}


def test_the_download_view_redirects_responders_to_a_signed_url(reported, officer_a):
    image = IncidentImage.objects.get()

    response = client_for(officer_a).get(reverse("incident-image-download", args=[image.pk]))

    assert response.status_code == 302
    assert "X-Goog-Signature=" in response["Location"]
    assert response["Cache-Control"] == "private, no-store"


def test_anonymous_callers_get_no_signed_url(reported):
    image = IncidentImage.objects.get()

    response = client_for(None).get(reverse("incident-image-download", args=[image.pk]))

    assert response.status_code == 401
    assert "Location" not in response


def test_local_storage_comes_back_when_the_bucket_setting_is_cleared(reported, gcs_settings, device_client, beacon):
    gcs_settings.GS_BUCKET_NAME = ""

    response = device_client.post(VIOLENCE, {**report(beacon.beacon_id), "images": [upload()]}, format="multipart")

    image = IncidentImage.objects.order_by("id").last()
    assert (gcs_settings.MEDIA_ROOT / image.image.name).exists()
    assert "/download/" in response.json()["images"][0]["image"]
