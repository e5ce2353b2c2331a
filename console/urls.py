from django.urls import path

from console import apis

app_name = "console"

urlpatterns = [
    path("console/queue/", apis.QueueApi.as_view(), name="queue"),
]
