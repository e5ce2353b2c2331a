"""Incident routes: the AI detection contract (/api/ai/...), and incidents for responders (/api/incidents/...).

The evidence downloads under /api/incidents/ are the privacy app's (privacy/urls.py: every look is audited)."""

from django.urls import path

from incidents import apis

urlpatterns = [
    path("ai/violence-detected/", apis.ViolenceDetectedApi.as_view(), name="ai-violence-detected"),
    path("ai/scream-detected/", apis.ScreamDetectedApi.as_view(), name="ai-scream-detected"),
    path("ai/camera-tamper/", apis.CameraTamperApi.as_view(), name="ai-camera-tamper"),
    path("ai/events/", apis.AIEventViewSet.as_view({"get": "list"}), name="ai-event-list"),
    path("incidents/", apis.IncidentViewSet.as_view({"get": "list"}), name="incident-list"),
    path("incidents/<uuid:incident_id>/", apis.IncidentDetailApi.as_view(), name="incident-detail"),
    path("incidents/<uuid:incident_id>/acknowledge/", apis.AcknowledgeIncidentApi.as_view(),
         name="incident-acknowledge"),
    path("incidents/<uuid:incident_id>/assign/", apis.AssignIncidentApi.as_view(), name="incident-assign"),
    path("incidents/<uuid:incident_id>/start/", apis.StartIncidentApi.as_view(), name="incident-start"),
    path("incidents/<uuid:incident_id>/resolve/", apis.ResolveIncidentApi.as_view(), name="incident-resolve"),
]
