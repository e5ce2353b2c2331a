"""Create an officer in a unit (the unit is created if new) and print the password once."""

from django.core.management.base import BaseCommand, CommandError

from accounts.services import staff_create
from common.errors import DomainError


class Command(BaseCommand):
    help = "Create an officer account in a unit."
    role = "officer"

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--unit", required=self.role == "officer", help="Unit number, e.g. PCR-12")
        parser.add_argument("--password", help="Generated and printed if omitted.")
        parser.add_argument("--email", default="")

    def handle(self, *args, **options):
        try:
            user, password = staff_create(
                username=options["username"],
                role=self.role,
                unit_number=options.get("unit"),
                password=options.get("password"),
                email=options["email"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        unit = f" in unit {user.unit.unit_number}" if user.unit else ""
        self.stdout.write(f"Created {self.role} {user.username}{unit}.")
        if not options.get("password"):
            self.stdout.write(f"Password (shown once): {password}")
