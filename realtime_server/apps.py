from django.apps import AppConfig


class RealtimeServerConfig(AppConfig):
    name = "realtime_server"
    verbose_name = "Realtime server (Socket.IO)"
