"""Register a detection device and print its API key once (only its hash is stored)."""

from django.core.management.base import BaseCommand, CommandError

from common.errors import DomainError
from incidents.models import Device
from incidents.services import device_create, device_key_rotate


class Command(BaseCommand):
    help = "Register a detection device (camera) and print its API key, once."

    def add_arguments(self, parser):
        parser.add_argument("--device-id", required=True, help="e.g. CAM-01")
        parser.add_argument("--beacon", help="The beacon id it stands at; it may report only for that beacon. "
                                             "Omit for a device that may report for any beacon.")
        parser.add_argument("--name", default="")
        parser.add_argument("--kind", default=Device.Kind.CAMERA, choices=Device.Kind.values)
        parser.add_argument("--rotate-key", action="store_true",
                            help="The device exists: give it a new key (the old one stops working).")

    def handle(self, *args, **options):
        try:
            if options["rotate_key"]:
                device, key = device_key_rotate(device_id=options["device_id"])
            else:
                device, key = device_create(
                    device_id=options["device_id"], beacon=options["beacon"], name=options["name"],
                    kind=options["kind"],
                )
        except DomainError as exc:
            details = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in exc.fields.items())
            raise CommandError(f"{exc.message} {details}".strip()) from exc
        where = f"at beacon {device.beacon.beacon_id}" if device.beacon else "for any beacon"
        verb = "New key for" if options["rotate_key"] else "Created"
        self.stdout.write(f"{verb} device {device.device_id} ({device.kind}) {where}.")
        self.stdout.write(f"API key (shown once): {key}")
        self.stdout.write(f"Send it as:  Authorization: Device {key}")
