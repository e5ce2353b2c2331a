"""Deployment defaults: no secret in the repository, DEBUG off, SQLite in WAL mode, env-driven database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from naarikavach.env import secret_from_env_or_file

ROOT = Path(__file__).resolve().parent.parent


def settings_in_fresh_process(env: dict, expression: str) -> str:
    """Evaluate `expression` on naarikavach.settings imported with exactly `env` (plus PATH)."""
    code = f"import naarikavach.settings as s; print({expression})"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={"PATH": os.environ["PATH"], **env},
                            capture_output=True, text=True, check=True)
    return result.stdout.strip()


def test_a_secret_key_is_generated_once_into_the_local_directory_and_reused(tmp_path):
    first = settings_in_fresh_process({"NAARIKAVACH_LOCAL_DIR": str(tmp_path)}, "s.SECRET_KEY")
    second = settings_in_fresh_process({"NAARIKAVACH_LOCAL_DIR": str(tmp_path)}, "s.SECRET_KEY")
    assert first == second and len(first) >= 50
    assert (tmp_path / "secret_key").read_text().strip() == first
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"


def test_the_environment_overrides_the_generated_secret(tmp_path):
    assert secret_from_env_or_file("NK_TEST_SECRET_UNSET", tmp_path / "s") != ""
    os.environ["NK_TEST_SECRET"] = "from-the-environment"
    try:
        assert secret_from_env_or_file("NK_TEST_SECRET", tmp_path / "other") == "from-the-environment"
        assert not (tmp_path / "other").exists()
    finally:
        del os.environ["NK_TEST_SECRET"]


def test_debug_is_off_unless_asked_for_and_hosts_come_from_the_environment(tmp_path):
    env = {"NAARIKAVACH_LOCAL_DIR": str(tmp_path)}
    assert settings_in_fresh_process(env, "s.DEBUG") == "False"
    assert settings_in_fresh_process({**env, "DJANGO_DEBUG": "1"}, "s.DEBUG") == "True"
    hosts = settings_in_fresh_process({**env, "DJANGO_ALLOWED_HOSTS": "sos.example.org, 10.1.2.3"}, "s.ALLOWED_HOSTS")
    assert hosts == "['sos.example.org', '10.1.2.3']"


def test_database_url_switches_to_postgresql(tmp_path):
    env = {"NAARIKAVACH_LOCAL_DIR": str(tmp_path), "DATABASE_URL": "postgres://nk@db.internal:5433/naarikavach"}
    engine = settings_in_fresh_process(env, "s.DATABASES['default']['ENGINE'], s.DATABASES['default']['HOST']")
    assert engine == "django.db.backends.postgresql db.internal"


@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
