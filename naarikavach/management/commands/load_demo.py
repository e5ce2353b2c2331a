"""Load demo data once: an admin, a dispatcher, two officers in two units, units' positions and a few beacons.

Passwords are generated on the first run and kept in `.local/demo_credentials.txt` (ignored by git),
so a demo installation never ships with a password anyone could read in the repository.
"""

import json
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Unit, User
from accounts.services import staff_create, unit_get_or_create

DEMO_STAFF = [
    ("admin", User.Role.ADMIN, None),
    ("dispatcher", User.Role.DISPATCHER, None),
    ("officer1", User.Role.OFFICER, "PCR-1"),
    ("officer2", User.Role.OFFICER, "PCR-2"),
]
DEMO_UNIT_POSITIONS = {"PCR-1": (12.9763, 77.5929), "PCR-2": (12.9352, 77.6245)}
DEMO_BEACONS = [
    ("BLR-MG-ROAD-01", "MG Road metro exit", "MG Road station", "G", 12.9756, 77.6067),
    ("BLR-CUBBON-02", "Cubbon Park east gate", "Cubbon Park", "", 12.9763, 77.5929),
    ("BLR-KORA-03", "Koramangala bus stop", "Koramangala 5th block", "", 12.9352, 77.6245),
]


class Command(BaseCommand):
    help = "Create demo accounts, units and beacons (idempotent) and print the demo credentials."

    def handle(self, *args, **options):
        path = settings.LOCAL_DIR / "demo_credentials.txt"
        credentials = json.loads(path.read_text()) if path.exists() else {}
        with transaction.atomic():
            for username, role, unit_number in DEMO_STAFF:
                if not User.objects.filter(username=username).exists():
                    password = credentials.get(username) or secrets.token_urlsafe(9)
                    staff_create(username=username, role=role, unit_number=unit_number, password=password)
                    credentials[username] = password
            for unit_number, (lat, lng) in DEMO_UNIT_POSITIONS.items():
                unit = unit_get_or_create(unit_number=unit_number)
                if not unit.has_position:
                    Unit.objects.filter(pk=unit.pk).update(last_latitude=lat, last_longitude=lng)
            self._load_beacons()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(credentials, indent=2))
        path.chmod(0o600)
        self.stdout.write("Demo accounts (username: password), also in .local/demo_credentials.txt:")
        for username, role, unit_number in DEMO_STAFF:
            unit = f", unit {unit_number}" if unit_number else ""
            self.stdout.write(f"  {username}: {credentials.get(username, '(set before demo data)')}  [{role}{unit}]")

    def _load_beacons(self):
        from incidents.models import Beacon
        from incidents.services import beacon_create

        for beacon_id, name, building, floor, lat, lng in DEMO_BEACONS:
            if not Beacon.objects.filter(beacon_id=beacon_id).exists():
                beacon_create(beacon_id=beacon_id, name=name, building=building, floor=floor, latitude=lat, longitude=lng)
