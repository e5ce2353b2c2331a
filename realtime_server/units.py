"""The police app sets its unit's status over the socket: `unit_status_update {unit_number, status}`.

Answered with `unit_status_update_response {ok, unit_number, status}` or `{ok: false, error, status_code}`
(and the same as the Socket.IO acknowledgement, for clients that ask for one). Like the other writes over
the socket (realtime_server/compat.py) it runs the REST view of the same operation in-process,
POST /api/units/<unit_number>/status/, with the socket's credentials: the same validation, permission
(an officer of that unit, or a dispatcher), audit entry and `unit_status_changed` event as the REST call.
"""

import json

import socketio

from realtime_server.compat import call_api
from realtime_server.db import run_db
from realtime_server.hub import Hub

ANSWER = "unit_status_update_response"


def _refusal(error: str, status_code: int, fields: dict | None = None) -> dict:
    return {"ok": False, "error": error, "status_code": status_code, **({"fields": fields} if fields else {})}


def _request(data) -> tuple[str, dict] | dict:
    """(unit_number, REST body), or the refusal for a payload that is not one."""
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            return _refusal("Invalid JSON format", 400)
    if not isinstance(data, dict):
        return _refusal("Data must be a JSON object", 400)
    unit = data.get("unit_number", data.get("unit_id"))
    unit = unit.strip() if isinstance(unit, str) else ""
    if not unit or "/" in unit:
        return _refusal("unit_number is required.", 400, {"unit_number": ["Give the unit's number."]})
    return unit, {"status": data.get("status")}


def register(sio: socketio.AsyncServer, hub: Hub) -> None:
    # Imported here: the views import the apps' models, which need Django set up first.
    from response.apis import UnitStatusApi

    status_view = UnitStatusApi.as_view()

    @sio.event
    async def unit_status_update(sid, data=None):
        client = hub.clients.get(sid)
        if client is None:
            return None
        request = _request(data)
        if isinstance(request, dict):
            answer = request
        else:
            unit, body = request
            status, reply = await run_db(call_api, status_view, f"/api/units/{unit}/status/", body,
                                         client.credentials, unit_number=unit)
            if status == 200:
                answer = {"ok": True, **reply}
            else:
                answer = _refusal(reply.get("error") or f"Request failed with status {status}", status,
                                  reply.get("fields"))
        await sio.emit(ANSWER, answer, to=sid)
        return answer
