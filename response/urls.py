"""Response routes: the escalation board, nearest units, response-time reports, CAP and the responders' feed."""

from django.urls import path

from response import apis

urlpatterns = [
    path("escalations/", apis.EscalationBoardApi.as_view(), name="escalation-board"),
]
