"""Routes for the seeds' clients, in one place.

`ai_aliases`: the ResQ clients post to /api/violence-detected/ and /api/scream-detected/ (no /ai/).
`naarikavach_urlpatterns`: mounted at /naarikavach/; a NaariKavach client opts in by setting its base URL
to https://<our host>/naarikavach. It gets their SOS list and detail shapes, and every other call
of theirs is our own view unchanged. See docs/compatibility.md.
"""

from django.urls import include, path

from accounts.apis import ThrottledTokenCreateView, ThrottledUserViewSet
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
    path("auth/token/login/", ThrottledTokenCreateView.as_view(), name="naarikavach-auth-login"),
    path("auth/users/", ThrottledUserViewSet.as_view({"get": "list", "post": "create"}), name="naarikavach-auth-user-list"),
    path("auth/", include(("djoser.urls", "djoser"), namespace="naarikavach-djoser")),
    path("auth/", include(("djoser.urls.authtoken", "djoser-token"), namespace="naarikavach-djoser-token")),
]
