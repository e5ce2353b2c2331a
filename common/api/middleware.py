"""Middleware for refusals outside DRF: a throttled password check, a NUL character in the URL."""

from urllib.parse import unquote_to_bytes

from django.http import JsonResponse
from rest_framework.exceptions import Throttled

from common.api.exceptions import error_body


class ThrottledAsJsonMiddleware:
    """A password check throttled inside a plain Django view (admin sign-in) answers 429, not 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, Throttled):
            return None
        response = JsonResponse(error_body(str(exception.detail), "throttled"), status=429)
        if exception.wait is not None:
            response["Retry-After"] = str(max(1, round(exception.wait)))
        return response


class RejectNulMiddleware:
    """A NUL character in the path or query string cannot name anything (PostgreSQL cannot even compare
    it), so such a request is answered 400 before any view or query runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        raw_query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path or b"\x00" in unquote_to_bytes(raw_query.replace("+", " ")):
            return JsonResponse(error_body("The URL may not contain NUL (%00) characters.", "invalid"), status=400)
        return self.get_response(request)
