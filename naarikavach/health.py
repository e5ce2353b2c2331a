"""GET /healthz for load balancers and operators: 200 when the API can serve and alerts are going out,
503 otherwise. Only statuses: how many alerts the platform carries is nobody's business on the network."""

from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from incidents.selectors import alerts_overdue


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError:
        return "unreachable"


def _alerts() -> str:
    """Undelivered alerts older than HEALTH_ALERT_BACKLOG_SECONDS: the sender is down or cannot keep up."""
    try:
        since = timezone.now() - timedelta(seconds=settings.HEALTH_ALERT_BACKLOG_SECONDS)
        return "backlog" if alerts_overdue(created_before=since) else "ok"
    except DatabaseError:
        return "unknown"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database()}
    checks["alerts"] = _alerts() if checks["database"] == "ok" else "unknown"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ok" if healthy else "unhealthy", "checks": checks}, status=200 if healthy else 503)
