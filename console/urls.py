from django.urls import path

from console import apis

app_name = "console"

urlpatterns = [
    path("console/queue/", apis.QueueApi.as_view(), name="queue"),
    path("console/sos/<int:sos_id>/trail/", apis.TrailPageApi.as_view(), name="trail-page"),
    path("console/history/", apis.HistoryApi.as_view(), name="history"),
]
