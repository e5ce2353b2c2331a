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
    def __init__(self, hub, limits: dict, outbox_newest: int | None):
        self.hub, self.limits, self.outbox_newest = hub, limits, outbox_newest

    def collect(self):
        stats = self.hub.stats()
        yield GaugeMetricFamily("naarikavach_realtime_clients", "Connected Socket.IO clients", value=stats["clients"])
        yield CounterMetricFamily("naarikavach_realtime_deliveries", "Events delivered to clients",
                                  value=stats["delivered"])
        joins = CounterMetricFamily("naarikavach_realtime_joins", "Rooms joined or refused", labels=["outcome"])
        for outcome, value in sorted(self.hub.joins.items()):
            joins.add_metric([outcome], value)
        yield joins
        yield CounterMetricFamily("naarikavach_realtime_replayed_events",
                                  "Events replayed to clients resuming from a last_event_id", value=self.hub.replayed)
        yield CounterMetricFamily("naarikavach_realtime_resyncs",
                                  "resync_required answers (a resume point too old to replay)", value=self.hub.resyncs)
        yield GaugeMetricFamily("naarikavach_realtime_outbox_cursor", "Newest outbox event dispatched",
                                value=stats["cursor"])
        if self.outbox_newest is not None:
            yield GaugeMetricFamily("naarikavach_realtime_outbox_lag_events",
                                    "Committed outbox events not yet dispatched by this process",
                                    value=max(0, self.outbox_newest - stats["cursor"]))
        closed = CounterMetricFamily("naarikavach_realtime_sessions_closed", "Sessions closed or refused by a limit",
                                     labels=["reason"])
        for reason, value in sorted(self.limits.items()):
            closed.add_metric([reason], value)
        yield closed


def realtime_metrics(hub, limits: dict, outbox_newest: int | None = None) -> bytes:
    registry = CollectorRegistry()
    registry.register(_HubCollector(hub, limits, outbox_newest))
    return generate_latest(registry)
