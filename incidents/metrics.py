"""Prometheus counters of alert delivery, served by the API's GET /metrics (common/metrics.py).

The sender usually runs in `manage.py run_worker`, another process: give it and the API the same
PROMETHEUS_MULTIPROC_DIR (run_platform.sh does) so that the API's /metrics adds its counts in.
"""

from prometheus_client import Counter

ALERT_ATTEMPTS = Counter("naarikavach_alert_attempts_total", "Alert delivery attempts by outcome (sent or failed)",
                         ["channel", "outcome"])
ALERTS_DEAD = Counter("naarikavach_alerts_dead_total", "Alerts given up after ALERT_MAX_ATTEMPTS failed attempts",
                      ["channel"])


def count_attempt(*, channel: str, succeeded: bool, dead: bool) -> None:
    ALERT_ATTEMPTS.labels(channel, "sent" if succeeded else "failed").inc()
    if dead:
        ALERTS_DEAD.labels(channel).inc()
