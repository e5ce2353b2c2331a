"""The seeds' clients' routes stay out of the OpenAPI schema: they are aliases of operations it already
describes, answered the same way (docs/compatibility.md lists them), and would only repeat each one."""

COMPAT_PREFIXES = ("/naarikavach/", "/api/violence-detected/", "/api/scream-detected/")


def exclude_compat_routes(endpoints):
    """drf-spectacular preprocessing hook."""
    return [endpoint for endpoint in endpoints if not endpoint[0].startswith(COMPAT_PREFIXES)]
