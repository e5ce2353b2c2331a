"""Print the platform's public key (PEM), for whoever needs to verify its evidence bundles."""

from django.core.management.base import BaseCommand

from privacy import signing


class Command(BaseCommand):
    help = "Print the public key that verifies this platform's evidence bundles."

    def handle(self, *args, **options):
        self.stdout.write(signing.public_key_pem().decode(), ending="")
