"""Realtime: the event outbox and the Socket.IO server that delivers it."""

from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "realtime"
    verbose_name = "Realtime events"
