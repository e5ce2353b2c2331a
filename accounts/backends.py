"""Django's username/password backend, with every password check counted against the client's budget."""

from django.contrib.auth.backends import ModelBackend

from common.api.throttling import check_password_attempt


class RateLimitedModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        # Management commands and tests authenticate without a request: there is no client to count.
        if request is not None:
            check_password_attempt(request)
        return super().authenticate(request, username=username, password=password, **kwargs)
