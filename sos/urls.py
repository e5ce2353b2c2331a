"""SOS API routes: the NaariKavach mobile-app contract plus reads and unit positions."""

from django.urls import path

from sos import apis, image_apis

urlpatterns = [
    path("create-sos/", apis.SOSCreateApi.as_view(), name="sos-create"),
    path("update-location/", apis.LocationUpdateApi.as_view(), name="sos-update-location"),
    path("assign-officer/", apis.AssignOfficerApi.as_view(), name="sos-assign-officer"),
    path("resolve-sos/<int:sos_id>/", apis.ResolveSOSApi.as_view(), name="sos-resolve"),
    path("cancel-sos/<int:sos_id>/", apis.CancelSOSApi.as_view(), name="sos-cancel"),
    path("sos/", apis.SOSViewSet.as_view({"get": "list"}), name="sos-list"),
    path("sos/<int:sos_id>/", apis.SOSDetailApi.as_view(), name="sos-detail"),
    path("sos/<int:sos_id>/pin/", apis.SetPinApi.as_view(), name="sos-pin"),
    path("sos/<int:sos_id>/cancel-on-behalf/", apis.CancelOnBehalfApi.as_view(), name="sos-cancel-on-behalf"),
    path("sos/<int:sos_id>/assignments/<int:assignment_id>/unassign/", apis.UnassignApi.as_view(),
         name="sos-unassign"),
    path("sos/<int:sos_id>/acknowledge/", apis.AcknowledgeSOSApi.as_view(), name="sos-acknowledge"),
    path("upload-sos-images/", image_apis.UploadSOSImagesApi.as_view(), name="sos-images-upload"),
    path("get-sos-images/<int:sos_id>/", image_apis.GetSOSImagesApi.as_view(), name="sos-images"),
    path("sos-images/<int:image_id>/download/", image_apis.SOSImageDownloadApi.as_view(), name="sos-image-download"),
    path("units/", apis.UnitViewSet.as_view({"get": "list"}), name="unit-list"),
    path("units/<str:unit_number>/location/", apis.UnitLocationApi.as_view(), name="unit-location"),
]
