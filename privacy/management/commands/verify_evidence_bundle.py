"""Verify an evidence bundle with a public key (the same check as `python -m privacy.verify_bundle`)."""

from django.core.management.base import BaseCommand, CommandError

from privacy.verify_bundle import verify_bundle


class Command(BaseCommand):
    help = "Verify an evidence bundle's signature and every file in it against its manifest."

    def add_arguments(self, parser):
        parser.add_argument("bundle")
        parser.add_argument("--public-key", required=True, help="The platform's public key (PEM).")

    def handle(self, *args, bundle, public_key, **options):
        with open(public_key, "rb") as handle:
            problems = verify_bundle(bundle, handle.read())
        if problems:
            raise CommandError("Bundle does NOT verify:\n" + "\n".join(problems))
        self.stdout.write(self.style.SUCCESS("OK: the manifest is signed by this key and every file matches it."))
