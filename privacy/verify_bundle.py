"""Verify an evidence bundle with the platform's public key: `python -m privacy.verify_bundle BUNDLE.zip --public-key KEY.pem`.

Needs only Python and the `cryptography` package (no Django, no database, no access to the platform), so
a court, a defence lawyer or an auditor can run it on their own machine. It checks that the manifest
was signed by the key, and that every file in the bundle has exactly the size and SHA-256 the manifest
states; it names what does not match.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import zipfile

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"


def verify_bundle(bundle_path: str, public_key_pem: bytes) -> list[str]:
    """What is wrong with the bundle; an empty list means it verifies."""
    key = serialization.load_pem_public_key(public_key_pem)
    try:
        archive = zipfile.ZipFile(bundle_path)
    except (OSError, zipfile.BadZipFile) as error:
        return [f"not a readable zip file: {error}"]
    with archive:
        names = set(archive.namelist())
        if MANIFEST not in names or SIGNATURE not in names:
            return [f"{MANIFEST} or {SIGNATURE} is missing"]
        manifest_bytes = archive.read(MANIFEST)
        try:
            key.verify(base64.b64decode(archive.read(SIGNATURE).strip(), validate=True), manifest_bytes)
        except (InvalidSignature, ValueError):
            return ["the manifest's signature does not verify: the manifest was altered, or signed by another key"]
        manifest = json.loads(manifest_bytes)
        problems = []
        listed = set()
        for entry in manifest.get("files", []):
            path = entry["path"]
            listed.add(path)
            if path not in names:
                problems.append(f"{path}: missing from the bundle")
                continue
            data = archive.read(path)
            if len(data) != entry["size"]:
                problems.append(f"{path}: {len(data)} bytes, the manifest says {entry['size']}")
            if hashlib.sha256(data).hexdigest() != entry["sha256"]:
                problems.append(f"{path}: its SHA-256 differs from the manifest's (the file was altered)")
        for extra in sorted(names - listed - {MANIFEST, SIGNATURE}):
            problems.append(f"{extra}: in the bundle but not in the signed manifest")
        return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a NaariKavach evidence bundle.")
    parser.add_argument("bundle")
    parser.add_argument("--public-key", required=True, help="The platform's public key (PEM), obtained independently.")
    args = parser.parse_args(argv)
    with open(args.public_key, "rb") as handle:
        problems = verify_bundle(args.bundle, handle.read())
    if problems:
        for problem in problems:
            print(f"FAILED: {problem}")
        return 1
    print("OK: the manifest is signed by this key and every file matches it.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
