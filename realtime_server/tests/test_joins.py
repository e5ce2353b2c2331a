"""Who may connect, and which rooms each connection may join."""

import pytest

from naarikavach.testing import api_token
from realtime_server.auth import AuthenticationFailed, authenticate, parse_last_event_id
from realtime_server.joins import JoinRefused, channel_target, sos_room_target, unit_room_target
from sos import services


@pytest.fixture
def owned_sos(citizen):
    sos, token = services.sos_create(name="Asha", sos_type=0, latitude=12.9, longitude=77.6, owner=citizen)
    return sos, token


def actor_of(user):
    return authenticate({"token": api_token(user)})


def test_a_connect_without_credentials_is_refused_with_what_to_send(db):
    for auth in (None, {}, {"token": ""}, "token"):
        with pytest.raises(AuthenticationFailed, match="auth"):
            authenticate(auth)


def test_an_unknown_or_deactivated_token_is_refused(citizen):
    key = api_token(citizen)
    citizen.is_active = False
    citizen.save()

    for auth in ({"token": "nope"}, {"token": key}, {"sos_token": "nope"}, {"token": "ab\x00cd"},
                 {"sos_token": "ab\x00cd"}, {"token": "x" * 100_000}):
        with pytest.raises(AuthenticationFailed, match="Invalid"):
            authenticate(auth)


def test_an_officer_is_known_with_their_role_and_unit(officer_a):
    officer = actor_of(officer_a)

    assert (officer.user.role, officer.unit_number, officer.is_responder) == ("officer", "UNIT-A", True)


def test_an_sos_token_names_its_sos_only(owned_sos):
    sos, token = owned_sos

    owner = authenticate({"sos_token": token})

    assert owner.owns_sos(owner_id=None, access_token_hash=sos.access_token_hash)
    assert (owner.user, owner.is_responder) == (None, False)


@pytest.mark.parametrize("channel", ["sos_channel", "location_tracking_channel", "incidents_channel"])
def test_channels_are_for_responders_only(channel, citizen, officer_a, dispatcher, admin_user, owned_sos):
    if channel == "location_tracking_channel":  # Every position of the force: dispatchers only.
        with pytest.raises(JoinRefused, match="unit's room"):
            channel_target(actor_of(officer_a), channel)
    else:
        assert channel_target(actor_of(officer_a), channel).room == channel
    assert channel_target(actor_of(dispatcher), channel).reply == {"type": channel, "channel": channel}
    assert channel_target(actor_of(admin_user), channel).room == channel
    for outsider in (actor_of(citizen), authenticate({"sos_token": owned_sos[1]})):
        with pytest.raises(JoinRefused):
            channel_target(outsider, channel)


def test_officers_join_their_own_unit_room_and_dispatchers_any(officer_a, officer_b, dispatcher, citizen):
    assert unit_room_target(actor_of(officer_a), {"unit_number": "UNIT-A"}).room == "unit:UNIT-A"
    assert unit_room_target(actor_of(dispatcher), {"unit_number": "UNIT-B"}).room == "unit:UNIT-B"
    with pytest.raises(JoinRefused, match="own unit"):
        unit_room_target(actor_of(officer_b), {"unit_number": "UNIT-A"})
    with pytest.raises(JoinRefused):
        unit_room_target(actor_of(citizen), {"unit_number": "UNIT-A"})
    with pytest.raises(JoinRefused, match="Unknown unit"):
        unit_room_target(actor_of(dispatcher), {"unit_number": "UNIT-Z"})
    with pytest.raises(JoinRefused, match="required"):
        unit_room_target(actor_of(dispatcher), {})


def test_an_sos_room_is_for_its_owner_and_responders(owned_sos, citizen, other_citizen, officer_b, dispatcher):
    sos, token = owned_sos
    other_sos, other_token = services.sos_create(name="Bela", sos_type=0, latitude=1, longitude=1)
    join = {"room_id": str(sos.room_id)}

    allowed_ones = (actor_of(citizen), authenticate({"sos_token": token}), actor_of(officer_b), actor_of(dispatcher))
    for allowed in allowed_ones:
        target = sos_room_target(allowed, join)
        assert (target.room, target.sos_id) == (f"sos:{sos.room_id}", sos.pk)
    for refused in (actor_of(other_citizen), authenticate({"sos_token": other_token})):
        with pytest.raises(JoinRefused, match="your own SOS"):
            sos_room_target(refused, join)


def test_a_citizen_cannot_tell_a_missing_sos_room_from_someone_elses(citizen, dispatcher):
    missing = {"room_id": "00000000-0000-4000-8000-000000000000"}

    with pytest.raises(JoinRefused, match="your own SOS"):
        sos_room_target(actor_of(citizen), missing)
    with pytest.raises(JoinRefused, match="Unknown SOS room"):
        sos_room_target(actor_of(dispatcher), missing)
    with pytest.raises(JoinRefused, match="UUID"):
        sos_room_target(actor_of(dispatcher), {"room_id": "not-a-uuid"})


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), (0, 0), (42, 42), ("42", 42)])
def test_a_resume_point_is_a_non_negative_integer(value, expected):
    assert parse_last_event_id(value) == expected


@pytest.mark.parametrize("value", [-1, "abc", 1.5, True, [1]])
def test_a_malformed_resume_point_is_rejected(value):
    with pytest.raises(ValueError):
        parse_last_event_id(value)
