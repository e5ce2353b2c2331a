"""Chain of custody: a signed evidence bundle per incident or SOS that anyone can verify with the public key."""

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from common.actors import Actor
from common.audit import AuditChainHead
from incidents import services as incident_services
from incidents.models import IncidentSignal
from incidents.tests.factories import image_bytes
from naarikavach.testing import client_for
from privacy import signing
from privacy.models import ViewAuditEntry
from privacy.tests.helpers import incident_with_image, raise_sos


@pytest.fixture
def incident_evidence(device, beacon):
    incident, first = incident_with_image(device, beacon, image_bytes(color=(1, 2, 3)))
    _, second = incident_with_image(device, beacon, image_bytes("PNG", color=(4, 5, 6)))
    return incident, [first, second]


@pytest.fixture
def public_key_file(tmp_path):
    path = tmp_path / "platform.pem"
    path.write_bytes(signing.public_key_pem())
    return path


def export(user, incident, reason="Chargesheet 42/2026"):
    return client_for(user).post(reverse("privacy-incident-bundle", args=[incident.pk]), {"reason": reason})


def save(response, tmp_path, name="bundle.zip") -> Path:
    path = tmp_path / name
    path.write_bytes(b"".join(response.streaming_content))
    return path


def rewrite(bundle: Path, target: Path, change) -> Path:
    """Copy the bundle, passing each member's bytes through change(name, data)."""
    with zipfile.ZipFile(bundle) as source, zipfile.ZipFile(target, "w") as copy:
        for name in source.namelist():
            copy.writestr(name, change(name, source.read(name)))
    return target


def verify(bundle: Path, key: Path) -> str:
    out = io.StringIO()
    call_command("verify_evidence_bundle", str(bundle), "--public-key", str(key), stdout=out)
    return out.getvalue()


def test_a_bundle_holds_the_originals_and_a_manifest_of_them(incident_evidence, dispatcher, device, tmp_path):
    incident, images = incident_evidence

    bundle = save(export(dispatcher, incident), tmp_path)

    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        files = {entry["image_id"]: entry for entry in manifest["files"]}
        for image in images:
            entry = files[image.pk]
            original = image.image.storage.open(image.image.name).read()
            assert archive.read(entry["path"]) == original
            assert (entry["size"], entry["sha256"], entry["sha256_at_upload"]) == (
                len(original), image.sha256, image.sha256)
            assert entry["device"]["device_id"] == device.device_id
            assert entry["camera"]["beacon_id"] == incident.beacon.beacon_id
            assert entry["uploaded_at"] and entry["reported_at"]
    assert manifest["subject"] == {"kind": "incident", "id": str(incident.pk)}
    assert [row["action"] for row in manifest["incident"]["audit_trail"]] == ["created", "signal_added"]
    assert [(v["action"], v["by"], v["reason"]) for v in manifest["incident"]["view_audit"]] == [
        ("bundle_export", "dispatcher:dispatch", "Chargesheet 42/2026")]
    assert manifest["key_id"] == signing.key_id(signing.public_key())


def test_the_manifest_records_the_chain_heads_at_export_time_for_a_court_to_compare(incident_evidence, dispatcher,
                                                                                      tmp_path):
    incident, _ = incident_evidence

    with zipfile.ZipFile(save(export(dispatcher, incident), tmp_path)) as archive:
        recorded = json.loads(archive.read("manifest.json"))["chain_heads"]

    heads_now = {head.chain: {"length": head.length, "last_hash": head.last_hash}
                 for head in AuditChainHead.objects.filter(chain__in=recorded)}
    # Every chain the bundle quotes (the incident's trail, the views of it) as it stood when exported...
    assert recorded == heads_now and len(recorded) >= 2
    assert all(head["length"] >= 1 and len(head["last_hash"]) == 64 for head in recorded.values())
    # ...so a later entry, or a rewritten chain, no longer matches what the court holds.
    incident_services.incident_acknowledge(incident_id=incident.pk, actor=Actor.for_user(dispatcher))
    moved = {head.chain: {"length": head.length, "last_hash": head.last_hash}
             for head in AuditChainHead.objects.filter(chain__in=recorded)}
    assert moved != recorded


def test_a_bundle_verifies_and_fails_after_one_byte_of_one_file_changes(incident_evidence, dispatcher, tmp_path,
                                                                         public_key_file):
    incident, images = incident_evidence
    bundle = save(export(dispatcher, incident), tmp_path)
    assert "OK" in verify(bundle, public_key_file)
    target = f"files/image-{images[1].pk}.png"

    def flip_one_byte(name, data):
        return data[:100] + bytes([data[100] ^ 0x01]) + data[101:] if name == target else data

    tampered = rewrite(bundle, tmp_path / "tampered.zip", flip_one_byte)

    with pytest.raises(CommandError) as error:
        verify(tampered, public_key_file)
    assert f"{target}: its SHA-256 differs" in str(error.value)


def test_an_edited_manifest_or_another_key_does_not_verify(incident_evidence, dispatcher, tmp_path, public_key_file):
    incident, _ = incident_evidence
    bundle = save(export(dispatcher, incident), tmp_path)

    def edit_manifest(name, data):
        return data.replace(b"Chargesheet 42", b"Chargesheet 43") if name == "manifest.json" else data

    with pytest.raises(CommandError, match="signature does not verify"):
        verify(rewrite(bundle, tmp_path / "edited.zip", edit_manifest), public_key_file)
    other_key = tmp_path / "other.pem"
    django_settings.EVIDENCE_SIGNING_KEY_FILE = tmp_path / "other" / "key.pem"
    other_key.write_bytes(signing.public_key_pem())
    with pytest.raises(CommandError, match="signature does not verify"):
        verify(bundle, other_key)


def test_anyone_can_verify_without_the_platform(incident_evidence, dispatcher, tmp_path, public_key_file):
    incident, _ = incident_evidence
    bundle = save(export(dispatcher, incident), tmp_path)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO", "DATABASE"))}

    result = subprocess.run(
        [sys.executable, "-m", "privacy.verify_bundle", str(bundle), "--public-key", str(public_key_file)],
        capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[2], timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("OK")


def test_an_sos_bundle_holds_its_trail_and_the_evidence_of_incidents_it_fed(incident_evidence, dispatcher, tmp_path,
                                                                           public_key_file):
    incident, images = incident_evidence
    sos, _ = raise_sos(phone="+919800000000")
    IncidentSignal.objects.create(incident=incident, signal_type="SOS", sos=sos)

    response = client_for(dispatcher).post(reverse("privacy-sos-bundle", args=[sos.pk]), {"reason": "Court"})
    bundle = save(response, tmp_path)

    assert "OK" in verify(bundle, public_key_file)
    manifest = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))
    assert len(manifest["sos"]["trail"]) == 1
    assert sorted(f["image_id"] for f in manifest["files"]) == sorted(i.pk for i in images)


def test_only_supervisors_with_a_reason_export_and_each_export_is_audited(incident_evidence, officer_a, dispatcher):
    incident, _ = incident_evidence

    assert export(officer_a, incident).status_code == 403
    assert export(dispatcher, incident, reason="").status_code == 400
    assert client_for(dispatcher).post(reverse("privacy-sos-bundle", args=[999]), {"reason": "x"}).status_code == 404
    assert not ViewAuditEntry.objects.exists()
    assert export(dispatcher, incident).status_code == 200

    [entry] = ViewAuditEntry.objects.all()
    assert (entry.action, entry.delivery, entry.reason, entry.subject_id) == (
        "bundle_export", "zip", "Chargesheet 42/2026", str(incident.pk))


def test_the_signing_key_is_made_once_privately_and_kept(settings):
    first = signing.public_key_pem()

    assert signing.public_key_pem() == first
    assert settings.EVIDENCE_SIGNING_KEY_FILE.stat().st_mode & 0o777 == 0o600
    out = io.StringIO()
    call_command("evidence_public_key", stdout=out)
    assert out.getvalue().encode() == first


def test_a_file_lost_from_storage_is_listed_as_missing_and_the_bundle_still_verifies(
        incident_evidence, dispatcher, tmp_path, public_key_file):
    incident, (first, second) = incident_evidence
    first.image.storage.delete(first.image.name)

    bundle = save(export(dispatcher, incident), tmp_path)

    manifest = json.loads(zipfile.ZipFile(bundle).read("manifest.json"))
    assert [f["image_id"] for f in manifest["files"]] == [second.pk]
    assert [(m["image_id"], m["sha256_at_upload"]) for m in manifest["missing_files"]] == [(first.pk, first.sha256)]
    assert "OK" in verify(bundle, public_key_file)


def test_an_sos_bundle_carries_the_citizens_own_photos_as_sent(dispatcher, citizen, tmp_path, public_key_file):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sos.images import sos_images_add

    sos, _ = raise_sos(owner=citizen)
    sent = image_bytes()
    [photo] = sos_images_add(sos_id=sos.pk, images=[SimpleUploadedFile("street.jpg", sent, "image/jpeg")],
                             descriptions=["The street"], actor=Actor.for_user(citizen))

    response = client_for(dispatcher).post(reverse("privacy-sos-bundle", args=[sos.pk]), {"reason": "Court"})
    bundle = save(response, tmp_path)

    assert "OK" in verify(bundle, public_key_file)
    archive = zipfile.ZipFile(bundle)
    [entry] = [f for f in json.loads(archive.read("manifest.json"))["files"] if f.get("source") == "citizen"]
    assert (entry["sos_photo_id"], entry["description"], entry["sha256"]) == (photo.pk, "The street", photo.sha256)
    assert archive.read(entry["path"]) == sent
