"""How drf-spectacular describes our API: a component per operation, the error shape, the X-SOS-Token.

- A view's nested `InputSerializer`/`OutputSerializer` is named after its view (`SOSCreateInput`,
  `AssignOfficerInput`), so that no two operations share, or overwrite, one `Input` component.
- Every operation declares the error responses of `common.api.exceptions` with their one JSON shape.
- Views that accept an SOS's access token declare the `sosToken` scheme (the `X-SOS-Token` header).
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

SOS_TOKEN_SCHEME = "sosToken"

ERRORS = {
    "400": "Invalid input: missing or malformed fields (`fields` names them).",
    "401": "Credentials are needed and none, or invalid ones, were given.",
    "403": "The caller may not do this.",
    "404": "No such object (or none the caller may see).",
    "429": "Too many requests from this client; retry after `Retry-After` seconds.",
}
WRITE_ERRORS = {
    "409": "The object's state does not allow this change.",
    "503": "The server is busy; nothing was changed. Retry after `Retry-After` seconds.",
}


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField(help_text="What went wrong, in a sentence.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. `invalid`, `throttled`.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), required=False,
        help_text="For `invalid`: the messages for each field.",
    )


class AutoSchema(SpectacularAutoSchema):
    def get_serializer_name(self, serializer, direction):
        parts = serializer.__class__.__qualname__.split(".")
        if len(parts) < 2:
            return super().get_serializer_name(serializer, direction)
        outer = parts[-2].lstrip("_").removesuffix("Api").removesuffix("View")
        return outer + parts[-1].removesuffix("Serializer")

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = dict(ERRORS)
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            errors.update(WRITE_ERRORS)
        for code, description in errors.items():
            if code not in responses:
                response = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                response["description"] = description
                responses[code] = response
        return responses

    def get_auth(self):
        auths = super().get_auth()
        if any(getattr(permission, "accepts_sos_token", False) for permission in self.view.get_permissions()):
            self.registry.register_on_missing(ResolvedComponent(
                name=SOS_TOKEN_SCHEME,
                type=ResolvedComponent.SECURITY_SCHEMA,
                object=SOS_TOKEN_SCHEME,
                schema={"type": "apiKey", "in": "header", "name": "X-SOS-Token",
                        "description": "The `access_token` returned when the SOS was raised; opens that SOS only."},
            ))
            auths.insert(0, {SOS_TOKEN_SCHEME: []})
        return auths
