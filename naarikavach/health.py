"""GET /healthz for operators: 200 when the API can serve, alerts are going out and the realtime server is
delivering; 503 otherwise. GET /healthz/serving for load balancers: 200 while this instance can take an SOS.

Anyone may read the statuses ("ok", "backlog", "lagging" ...), never a figure: how many alerts or events
the platform carries is nobody's business on the network. GET /healthz/detail adds the figures (pending
and dead alerts, outbox lag, the realtime server's cursor) for this machine and for dispatchers and admins.
"""

import json
import urllib.error
import urllib.request
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.exceptions import APIException

from accounts.authentication import HashedTokenAuthentication
from common.metrics import is_local_operator
from incidents.selectors import alert_backlog
from realtime.selectors import outbox_lag

OPERATOR_ROLES = {"dispatcher", "admin"}


def _age_seconds(since, now) -> float | None:
    return None if since is None else round(max((now - since).total_seconds(), 0.0), 1)


def _database() -> tuple[str, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok", {}
    except DatabaseError:
        return "unreachable", {}


def _alerts(now) -> tuple[str, dict]:
    """Undelivered alerts older than HEALTH_ALERT_BACKLOG_SECONDS (the sender is down or cannot keep up),
    or alerts given up recently (a target refuses them)."""
    backlog = alert_backlog(dead_since=now - timedelta(seconds=settings.HEALTH_ALERT_DEAD_WINDOW_SECONDS))
    figures = {"pending": backlog["pending"], "dead_recently": backlog["dead"],
               "oldest_pending_seconds": _age_seconds(backlog["oldest_pending_at"], now)}
    if backlog["dead"] > settings.HEALTH_ALERT_DEAD_MAX:
        return "dead", figures
    oldest = figures["oldest_pending_seconds"]
    return ("backlog" if oldest is not None and oldest > settings.HEALTH_ALERT_BACKLOG_SECONDS else "ok"), figures


def _realtime() -> tuple[str, dict]:
    """The realtime server's own view, read over loopback from its /healthz/detail."""
    try:
        with urllib.request.urlopen(settings.HEALTH_REALTIME_URL.rstrip("/") + "/healthz/detail",
                                    timeout=settings.HEALTH_REALTIME_TIMEOUT_SECONDS) as response:
            detail = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return ("unhealthy" if exc.code == 503 else "unreachable"), {"http_status": exc.code}
    except (OSError, ValueError):
        return "unreachable", {}
    if detail.get("status") != "ok" or not isinstance(detail.get("cursor"), int):
        return "unhealthy", {}
    return "ok", {"cursor": detail["cursor"], "clients": detail.get("clients")}


def _outbox(cursor: int, now) -> tuple[str, dict]:
    """Events the realtime server has not delivered yet: lagging when the oldest waits too long."""
    lag = outbox_lag(after_id=cursor)
    figures = {"pending": lag["pending"], "oldest_pending_seconds": _age_seconds(lag["oldest_pending_at"], now)}
    oldest = figures["oldest_pending_seconds"]
    return ("lagging" if oldest is not None and oldest > settings.HEALTH_OUTBOX_LAG_SECONDS else "ok"), figures


def health_report() -> tuple[bool, dict, dict]:
    """(healthy, statuses, figures) of every check."""
    now = timezone.now()
    checks, figures = {}, {}
    checks["database"], figures["database"] = _database()
    database_ok = checks["database"] == "ok"
    try:
        checks["alerts"], figures["alerts"] = _alerts(now) if database_ok else ("unknown", {})
    except DatabaseError:
        checks["alerts"], figures["alerts"] = "unknown", {}
    if settings.HEALTH_REALTIME_URL:
        checks["realtime"], figures["realtime"] = _realtime()
        checks["outbox"], figures["outbox"] = "unknown", {}
        if database_ok and checks["realtime"] == "ok":
            try:
                checks["outbox"], figures["outbox"] = _outbox(figures["realtime"]["cursor"], now)
            except DatabaseError:
                pass
    healthy = all(value == "ok" for value in checks.values())
    return healthy, checks, figures


def _may_see_figures(request) -> bool:
    if is_local_operator(request):
        return True
    user = getattr(request, "user", None)
    if not (user is not None and user.is_authenticated):
        try:
            found = HashedTokenAuthentication().authenticate(request)
        except APIException:
            found = None
        user = found[0] if found else None
    return bool(user is not None and user.is_active and (user.role in OPERATOR_ROLES or user.is_superuser))


@never_cache
@require_GET
def healthz(request):
    healthy, checks, _ = health_report()
    return JsonResponse({"status": "ok" if healthy else "unhealthy", "checks": checks}, status=200 if healthy else 503)


@never_cache
@require_GET
def healthz_serving(request):
    """For a load balancer: 200 while this instance can take an SOS (it answers and its database does).

    /healthz also fails on trouble elsewhere (an email target refusing alerts, a realtime server behind); an
    instance taken out of rotation for that would refuse the SOS it could still have taken."""
    status, _ = _database()
    return JsonResponse({"status": "ok" if status == "ok" else "unhealthy", "checks": {"database": status}},
                        status=200 if status == "ok" else 503)


@never_cache
@require_GET
def healthz_detail(request):
    if not _may_see_figures(request):
        return JsonResponse({"error": "Only for this machine, dispatchers and admins.", "code": "permission_denied"},
                            status=403)
    healthy, checks, figures = health_report()
    return JsonResponse({"status": "ok" if healthy else "unhealthy", "checks": checks, "figures": figures},
                        status=200 if healthy else 503)
