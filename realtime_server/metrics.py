"""Prometheus metrics of the realtime server, at GET /metrics (from the server's own machine only)."""

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily


def limits_of(hub) -> dict:
    counters = dict(getattr(hub, "sio_counters", {}) or {})
    guard = getattr(hub, "guard", None)
    if guard is not None:
        counters["closed_signed_out"] = guard.closed
    return counters


class _HubCollector:
    def __init__(self, hub, limits: dict):
        self.hub, self.limits = hub, limits

    def collect(self):
        stats = self.hub.stats()
        yield GaugeMetricFamily("naarikavach_realtime_clients", "Connected Socket.IO clients", value=stats["clients"])
        yield CounterMetricFamily("naarikavach_realtime_deliveries", "Events delivered to clients",
                                  value=stats["delivered"])
        closed = CounterMetricFamily("naarikavach_realtime_sessions_closed", "Sessions closed or refused by a limit",
                                     labels=["reason"])
        for reason, value in sorted(self.limits.items()):
            closed.add_metric([reason], value)
        yield closed


def realtime_metrics(hub, limits: dict) -> bytes:
    registry = CollectorRegistry()
    registry.register(_HubCollector(hub, limits))
    return generate_latest(registry)
