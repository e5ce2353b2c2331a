"""Create a dispatcher account and print the password once."""

from accounts.management.commands.create_officer import Command as CreateOfficerCommand


class Command(CreateOfficerCommand):
    help = "Create a dispatcher account (optionally attached to a unit)."
    role = "dispatcher"
