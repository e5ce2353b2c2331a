"""Accounts: people, their roles, and the police units officers belong to."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and units"
