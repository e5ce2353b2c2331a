"""Prometheus metrics of the API (requests, latency, status by route), at GET /metrics.

Served only to requests from the machine itself that no proxy relayed (a scraper on the host, or a
sidecar). With several gunicorn workers, set PROMETHEUS_MULTIPROC_DIR to an empty directory so that the
workers' counts are added up (prometheus-client's multiprocess mode).
"""

import os
import time

from django.http import HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest

REQUESTS = Counter("naarikavach_api_requests_total", "API requests answered", ["method", "route", "status"])
LATENCY = Histogram("naarikavach_api_request_seconds", "Time to answer an API request", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
LOOPBACK = {"127.0.0.1", "::1"}


def is_local_operator(request) -> bool:
    return request.META.get("REMOTE_ADDR") in LOOPBACK and "HTTP_X_FORWARDED_FOR" not in request.META


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        # The route pattern, not the path: ids in paths would make a series per object.
        route = (match.route or match.view_name) if match is not None else "unmatched"
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response


def metrics(request):
    if not is_local_operator(request):
        return JsonResponse({"error": "Metrics are served to this machine only.", "code": "permission_denied"},
                            status=403)
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
