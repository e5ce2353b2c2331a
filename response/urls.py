"""Response routes: the escalation board, nearest units, response-time reports, CAP and the responders' feed."""

from django.urls import path

from response import apis

urlpatterns = [
    path("escalations/", apis.EscalationBoardApi.as_view(), name="escalation-board"),
    path("units/<str:unit_number>/status/", apis.UnitStatusApi.as_view(), name="unit-status"),
    path("sos/<int:sos_id>/nearest-units/", apis.SOSNearestUnitsApi.as_view(), name="sos-nearest-units"),
    path("incidents/<uuid:incident_id>/nearest-units/", apis.IncidentNearestUnitsApi.as_view(),
         name="incident-nearest-units"),
    path("sos/<int:sos_id>/cap.xml", apis.SOSCapApi.as_view(), name="sos-cap"),
    path("incidents/<uuid:incident_id>/cap.xml", apis.IncidentCapApi.as_view(), name="incident-cap"),
    path("feeds/open-alerts.atom", apis.OpenAlertsFeedApi.as_view(), name="open-alerts-feed"),
    path("reports/alert-deliveries/", apis.AlertDeliveriesReportApi.as_view(), name="report-alert-deliveries"),
    path("reports/response-times/", apis.ResponseTimesApi.as_view(), name="report-response-times"),
]
