"""Reads of SOS alerts: the trail a realtime join sends."""

from datetime import timedelta

from django.utils import timezone

from common.actors import Actor
from realtime.models import OutboxEvent
from sos import selectors, services


def test_an_sos_trail_is_its_points_in_time_order_with_the_newest_event_id(db):
    sos, token = services.sos_create(name="Asha", sos_type=0, latitude=12.0, longitude=77.0)
    owner = Actor.from_credentials(sos_token=token)
    services.sos_location_add(sos_id=sos.pk, latitude=12.2, longitude=77.0, actor=owner,
                              recorded_at=timezone.now() + timedelta(seconds=5))
    services.sos_location_add(sos_id=sos.pk, latitude=12.1, longitude=77.0, actor=owner,
                              recorded_at=timezone.now() + timedelta(seconds=1))

    trail = selectors.sos_trail(sos_id=sos.pk)

    assert [p["latitude"] for p in trail.points] == [12.0, 12.1, 12.2]
    assert trail.as_of_event_id == OutboxEvent.objects.order_by("-id").first().pk
    assert trail.room_id == str(sos.room_id)
