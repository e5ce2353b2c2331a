"""Routes for the seeds' clients, in one place.

`ai_aliases`: the ResQ clients post to /api/violence-detected/ and /api/scream-detected/ (no /ai/).
`naarikavach_urlpatterns`: mounted at /naarikavach/; a NaariKavach client opts in by setting its base URL
to https://<our host>/naarikavach. It gets their SOS list and detail shapes, and every other call
of theirs is our own view unchanged. See docs/compatibility.md.
"""

from django.urls import include, path

from compat import apis
from incidents import apis as incident_apis

ai_aliases = [
    path("violence-detected/", incident_apis.ViolenceDetectedApi.as_view(), name="compat-violence-detected"),
    path("scream-detected/", incident_apis.ScreamDetectedApi.as_view(), name="compat-scream-detected"),
]

naarikavach_urlpatterns = [
    path("api/sos/", apis.NaariKavachSOSListApi.as_view(), name="naarikavach-sos-list"),
    path("api/sos/<int:sos_id>/", apis.NaariKavachSOSDetailApi.as_view(), name="naarikavach-sos-detail"),
    path("api/get-all-sos/", apis.NaariKavachGetAllSOSApi.as_view(), name="naarikavach-get-all-sos"),
    path("api/", include(("sos.urls", "sos"), namespace="naarikavach-sos")),
    path("api/", include(ai_aliases)),
    # Sign-in, sign-out, registration and `me`: our account routes, which keep Djoser's paths and shapes.
    path("auth/", include(("accounts.urls", "accounts"), namespace="naarikavach-auth")),
]
