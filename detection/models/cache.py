"""The conversion cache: one directory per model, runtime, runtime version and precision, written atomically."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from detection.models.loading import weights_file

logger = logging.getLogger(__name__)

META = "meta.json"
# Bumped when the way models are converted changes, so entries written by older code are rebuilt.
FORMAT = 1
CONFIG_FILES = ("config.json", "preprocessor_config.json")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def model_fingerprint(directory: Path) -> str:
    """SHA-256 of the weights file and the configuration beside it (the head count and image size live there)."""
    digest = hashlib.sha256(sha256_file(weights_file(directory)).encode())
    for name in CONFIG_FILES:
        path = directory / name
        digest.update(name.encode() + b"\0" + (sha256_file(path).encode() if path.is_file() else b"-"))
    return digest.hexdigest()


@dataclass(frozen=True)
class EntryKey:
    role: str  # "violence" or "gender"
    weights_sha256: str  # model_fingerprint of the model directory
    runtime: str  # "openvino" or "onnxruntime"
    version: str  # the runtime's version (and NNCF's for int8)
    precision: str  # "fp32", or "int8-<calibration fingerprint>"

    @property
    def name(self) -> str:
        version = re.sub(r"[^A-Za-z0-9.]+", "_", self.version)
        return f"{self.role}-{self.weights_sha256[:16]}-{self.runtime}-{version}-{self.precision}"

    @property
    def family(self) -> tuple[str, str, str]:
        """Entries of one family replace each other: the same model role, runtime and kind of precision."""
        return self.role, self.runtime, self.precision.split("-")[0]


class ModelCache:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def get(self, key: EntryKey) -> tuple[Path, dict] | None:
        """The entry's directory and metadata, when it exists and was written for exactly this key."""
        directory = self.root / key.name
        try:
            meta = json.loads((directory / META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("format") != FORMAT or meta.get("key") != asdict(key):
            return None
        return directory, meta

    def put(self, key: EntryKey, build: Callable[[Path], dict]) -> tuple[Path, dict]:
        """Build an entry in a scratch directory, then move it into place, replacing stale entries of its family.

        A crash while building leaves only a scratch directory, never a half-written entry that a later start would use.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=self.root))
        try:
            meta = {**build(scratch), "format": FORMAT, "key": asdict(key)}
            (scratch / META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
            final = self.root / key.name
            if final.exists():
                shutil.rmtree(final)
            os.replace(scratch, final)
        except BaseException:
            shutil.rmtree(scratch, ignore_errors=True)
            raise
        self._prune(key)
        return final, meta

    def _prune(self, key: EntryKey) -> None:
        for directory in self.root.iterdir():
            if directory.name == key.name or not directory.is_dir():
                continue
            if directory.name.startswith(".building-"):
                continue  # another process may be building right now
            try:
                other = EntryKey(**json.loads((directory / META).read_text(encoding="utf-8"))["key"])
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if other.family == key.family:
                logger.info("model cache: removing %s, replaced by %s", directory.name, key.name)
                shutil.rmtree(directory, ignore_errors=True)

    def entries(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if (p / META).is_file())
