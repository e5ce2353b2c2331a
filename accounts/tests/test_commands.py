"""Admins create staff from the command line; demo data loads once and keeps its passwords."""

import json

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_create_officer_puts_the_officer_in_the_unit_and_prints_the_password_once(capsys):
    call_command("create_officer", "--username", "meera", "--unit", "PCR-7")
    out = capsys.readouterr().out
    password = out.split("Password (shown once): ")[1].strip()
    meera = authenticate(username="meera", password=password)
    assert (meera.role, meera.unit.unit_number, meera.is_responder) == ("officer", "PCR-7", True)


def test_create_officer_refuses_an_existing_username(citizen):
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_officer", "--username", citizen.username, "--unit", "PCR-7")
    assert User.objects.get(username=citizen.username).role == "citizen"


def test_create_dispatcher_needs_no_unit(capsys):
    call_command("create_dispatcher", "--username", "control", "--password", "a-long-unusual-passphrase")
    assert User.objects.get(username="control").role == "dispatcher"
    assert "Password" not in capsys.readouterr().out


def test_demo_data_loads_once_with_stable_credentials(settings, tmp_path, capsys):
    settings.LOCAL_DIR = tmp_path
    call_command("load_demo")
    call_command("load_demo")
    credentials = json.loads((tmp_path / "demo_credentials.txt").read_text())
    assert set(credentials) == {"admin", "dispatcher", "officer1", "officer2"}
    assert authenticate(username="officer2", password=credentials["officer2"]).unit.unit_number == "PCR-2"
    assert User.objects.filter(role="officer").count() == 2
    from incidents.models import Beacon

    assert Beacon.objects.count() == 3
