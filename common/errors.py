"""Domain errors raised by services; the API's exception handler turns each into one JSON shape."""


class DomainError(Exception):
    """A request the domain refuses. `status` is the HTTP status the API answers with."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, fields: dict | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code:
            self.code = code


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "permission_denied"


class Conflict(DomainError):
    """The object exists but is in a state that does not allow this change."""

    status = 409
    code = "conflict"


class TooManyRequests(DomainError):
    """Over a rate a client can back off from: the API answers 429 with Retry-After."""

    status = 429
    code = "throttled"

    def __init__(self, message: str, *, retry_after: float, code: str | None = None):
        super().__init__(message, code=code)
        self.retry_after = retry_after
