"""Trusted contacts, live links and check-in routes (under /api/)."""

from django.urls import path

from contacts import apis

urlpatterns = [
    path("contacts/", apis.ContactsApi.as_view(), name="contacts"),
    path("contacts/<int:contact_id>/", apis.ContactDeleteApi.as_view(), name="contact-delete"),
    path("sos/<int:sos_id>/live-links/revoke/", apis.LiveLinksRevokeApi.as_view(), name="sos-live-links-revoke"),
    path("live/<str:token>/", apis.LiveViewApi.as_view(), name="live-view"),
    path("checkins/", apis.CheckInStartApi.as_view(), name="checkin-start"),
    path("checkins/<int:checkin_id>/points/", apis.CheckInPointApi.as_view(), name="checkin-point"),
    path("checkins/<int:checkin_id>/complete/", apis.CheckInCompleteApi.as_view(), name="checkin-complete"),
]
