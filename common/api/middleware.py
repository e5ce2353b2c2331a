"""Middleware that turns a refusal raised outside DRF (a throttled password check) into the API's JSON."""

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
