"""Machine-local state (.local/: secret key, SQLite database, evidence) is readable by its owner only."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_a_fresh_install_creates_the_local_directory_and_database_for_the_owner_only(tmp_path):
    local = tmp_path / "local"
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "SQLITE_PATH"}}
    env.update(NAARIKAVACH_LOCAL_DIR=str(local), DJANGO_SETTINGS_MODULE="naarikavach.settings")
    old_umask = os.umask(0o022)  # The usual umask, under which files would be world-readable.
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=REPO, env=env,
                       check=True, timeout=300)
    finally:
        os.umask(old_umask)
    assert _mode(local) == 0o700
    assert _mode(local / "db.sqlite3") == 0o600
    assert _mode(local / "secret_key") == 0o600
    for journal in local.glob("db.sqlite3-*"):
        assert _mode(journal) & 0o077 == 0, journal


@pytest.mark.slow
def test_an_existing_world_readable_database_is_made_private(tmp_path):
    local = tmp_path / "local"
    local.mkdir(mode=0o755)
    local.chmod(0o755)
    database = local / "db.sqlite3"
    database.touch()
    database.chmod(0o644)
    env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "SQLITE_PATH"}}
    env.update(NAARIKAVACH_LOCAL_DIR=str(local), DJANGO_SETTINGS_MODULE="naarikavach.settings")
    code = "from django.db import connection; connection.ensure_connection()"
    subprocess.run([sys.executable, "manage.py", "shell", "-c", code], cwd=REPO, env=env, check=True, timeout=120)
    assert (_mode(local), _mode(database)) == (0o700, 0o600)
