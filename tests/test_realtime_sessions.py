"""A socket lives no longer than its sign-in: sign-out, deactivation or expiry closes it within seconds."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts import services
from accounts.models import AuthToken
from realtime_server.testing import api, connect, realtime, realtime_server, tokens  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

# The server re-checks tokens every REALTIME_SESSION_CHECK_SECONDS (2 by default).
WITHIN_SECONDS = 8


async def _closed(client) -> None:
    closed = asyncio.Event()
    client.sio.on("disconnect", lambda *args: closed.set())
    if client.sio.connected:
        await asyncio.wait_for(closed.wait(), WITHIN_SECONDS)


@pytest.mark.django_db(transaction=True)
async def test_signing_out_closes_that_sign_ins_sockets_and_no_others(connect, api, tokens, dispatcher):
    phone = await connect({"token": tokens["dispatcher"]})
    laptop = await connect({"token": await sync_to_async(services.token_issue)(user=dispatcher)})
    await phone.join("join_incidents_channel")
    response = await api.http.post("/auth/token/logout/", headers={"Authorization": f"Token {tokens['dispatcher']}"})
    assert response.status_code == 204
    await _closed(phone)
    assert not phone.sio.connected
    assert laptop.sio.connected


@pytest.mark.django_db(transaction=True)
async def test_deactivating_a_user_closes_their_sockets(connect, tokens, officer_a):
    client = await connect({"token": tokens["officer_a"]})
    await sync_to_async(services.user_deactivate)(user=officer_a)
    await _closed(client)
    assert not client.sio.connected


@pytest.mark.django_db(transaction=True)
async def test_an_expiring_token_closes_its_socket(connect, tokens, citizen):
    client = await connect({"token": tokens["citizen"]})
    await sync_to_async(AuthToken.objects.filter(user=citizen).update)(expires_at=timezone.now() - timedelta(seconds=1))
    await _closed(client)
    assert not client.sio.connected
