"""Reproducible installs: each requirements file has a lock file that pins every package it names, with
hashes, and the Makefile installs from the locks only (`pip install --require-hashes`)."""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
LOCKED = ["requirements", "requirements-detection", "requirements-detection-runtime", "requirements-test"]


def named(path: Path) -> list[Requirement]:
    """The requirements a requirements*.txt names, following its -r includes."""
    found = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("-r "):
            found += named(path.parent / line[3:].strip())
        elif line:
            found.append(Requirement(line))
    return found


def pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    """{package: (version, hashes)} of a pip-compile lock file."""
    locked, current = {}, None
    for line in path.read_text().splitlines():
        pin = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line)
        if pin:
            current = canonicalize_name(pin[1])
            locked[current] = (pin[2], [])
        elif current and (digest := re.search(r"--hash=sha256:([0-9a-f]{64})", line)):
            locked[current][1].append(digest[1])
    return locked


@pytest.mark.parametrize("name", LOCKED)
def test_every_named_package_is_pinned_with_hashes_within_its_range(name):
    locked = pins(REPO / f"{name}.lock")
    assert locked and all(hashes for _, hashes in locked.values())
    for requirement in named(REPO / f"{name}.txt"):
        version, _ = locked[canonicalize_name(requirement.name)]
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)


def test_torch_is_the_local_cpu_build_and_gunicorn_a_pinned_major():
    locked = pins(REPO / "requirements-test.lock")
    assert locked["torch"][0].split("+")[0] == "2.13.0"
    assert locked["gunicorn"][0].startswith("27.")
    assert "gunicorn>=27,<28" in (REPO / "requirements.txt").read_text()


def test_the_makefile_installs_from_the_lock_files_only():
    makefile = (REPO / "Makefile").read_text()
    installs = re.findall(r"pip install [^\n]*-r (\S+)", makefile)
    assert set(installs) == {"requirements.lock", "requirements-test.lock"}
    assert all("--require-hashes" in line for line in makefile.splitlines() if "pip install" in line and " -r " in line)
