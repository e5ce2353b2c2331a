"""One exception handler for the whole API: every error is `{"error", "code"[, "fields"]}` JSON."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from common.errors import DomainError

logger = logging.getLogger(__name__)


def _first_message(detail) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
        return "Invalid input."
    if isinstance(detail, list):
        return _first_message(detail[0]) if detail else "Invalid input."
    return str(detail)


def _field_messages(detail) -> dict:
    if isinstance(detail, dict):
        return {key: [str(m) for m in (value if isinstance(value, list) else [value])] for key, value in detail.items()}
    return {"non_field_errors": [str(m) for m in (detail if isinstance(detail, list) else [detail])]}


def error_body(message: str, code: str, fields: dict | None = None) -> dict:
    body = {"error": message, "code": code}
    if fields:
        body["fields"] = fields
    return body


def exception_handler(exc, context):
    if isinstance(exc, DomainError):
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after is not None else None
        return Response(error_body(exc.message, exc.code, exc.fields), status=exc.status, headers=headers)
    if isinstance(exc, OperationalError):
        # A busy SQLite writer lock, a full PostgreSQL connection table, a database restarting: the
        # request changed nothing (its transaction rolled back), so the client can safely retry.
        logger.warning("Database unavailable on %s: %s", context["request"].path, exc)
        return Response(error_body("The server is busy; nothing was changed. Retry shortly.", "busy"),
                        status=status.HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": "2"})
    if isinstance(exc, OverflowError):
        # SQLite's answer to an integer beyond 64 bits (an id in a URL, say); PostgreSQL raises DataError for
        # the same input. The client's input, so 400; nothing was written.
        logger.warning("Number out of range on %s: %s", context["request"].path, exc)
        return Response(error_body("Invalid input: a number is out of range.", "invalid"),
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DataError):
        # A value the database cannot hold (text with NUL, a number out of range) that no validator
        # caught: the client's input, so 400; the transaction rolled back, nothing changed.
        logger.warning("Value refused by the database on %s: %s", context["request"].path, exc)
        return Response(error_body("Invalid input: a value cannot be stored.", "invalid"),
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # An unexpected error: Django logs it and answers 500.

    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        message = "Invalid input: " + "; ".join(
            f"{name}: {msgs[0]}" if name != "non_field_errors" else msgs[0] for name, msgs in fields.items()
        )
        response.data = error_body(message, "invalid", fields)
    else:
        code = getattr(exc, "default_code", "error")
        if isinstance(exc.detail, dict) and "code" in exc.detail:
            code = str(exc.detail["code"])
        response.data = error_body(_first_message(exc.detail), code)
    return response


def json_not_found(request, exception=None):
    return JsonResponse(error_body("Not found.", "not_found"), status=status.HTTP_404_NOT_FOUND)


def json_server_error(request):
    logger.error("Unhandled error on %s", request.path)
    return JsonResponse(error_body("Internal server error.", "server_error"), status=500)


def json_bad_request(request, exception=None):
    """Django's own 400s (a Host header not in ALLOWED_HOSTS, a malformed body) in the API's shape."""
    return JsonResponse(error_body("Bad request.", "bad_request"), status=status.HTTP_400_BAD_REQUEST)


def json_permission_denied(request, exception=None):
    return JsonResponse(error_body("You do not have permission to perform this action.", "permission_denied"),
                        status=status.HTTP_403_FORBIDDEN)
