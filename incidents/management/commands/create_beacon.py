"""Create a beacon: a fixed place that detection devices report for."""

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from incidents.services import beacon_create


class Command(BaseCommand):
    help = "Create a beacon (a fixed, named location)."

    def add_arguments(self, parser):
        parser.add_argument("--beacon-id", required=True, help="Hardware beacon id, e.g. safe:uuid:402:402")
        parser.add_argument("--name", required=True, help="Shown to responders, e.g. 'Library Entrance'.")
        parser.add_argument("--building", default="")
        parser.add_argument("--floor", default="")
        parser.add_argument("--latitude", type=float)
        parser.add_argument("--longitude", type=float)
        parser.add_argument("--inactive", action="store_true", help="Create it switched off.")

    def handle(self, *args, **options):
        try:
            beacon = beacon_create(
                beacon_id=options["beacon_id"], name=options["name"], building=options["building"],
                floor=options["floor"], latitude=options["latitude"], longitude=options["longitude"],
                is_active=not options["inactive"],
            )
        except DomainError as exc:
            details = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.fields.items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        self.stdout.write(f"Created beacon {beacon.beacon_id} ({beacon.name}).")
