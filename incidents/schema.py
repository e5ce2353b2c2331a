"""How the API schema (drf-spectacular) describes device authentication."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DeviceAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "incidents.authentication.DeviceAuthentication"
    name = "deviceKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Device <key>`, the key printed once by `manage.py create_device`.",
        }
