"""Socket events of the seeds' clients that are writes: SOS creation, SOS points and unit positions.

The NaariKavach app's offline mode sends `create_sos` / `update_location` over the socket and waits for
`create_sos_response` / `update_location_response`; its police app and dashboard send
`officer_location_update {unit_id, latitude, longitude, timestamp}` every few seconds. Each is answered by
running the REST view of the same operation in-process, with the socket's own credentials and address,
so it goes through the same serializer, throttle, permission checks and service as the REST call, and
its answer is the REST answer. docs/compatibility.md lists the contract.
"""

import io
import json
import logging
from dataclasses import dataclass, field

import socketio
from django.core.handlers.wsgi import WSGIRequest

from realtime_server.db import run_db
from realtime_server.hub import Hub

logger = logging.getLogger(__name__)


@dataclass
class SocketCredentials:
    """What a socket connected with, to sign the REST calls it makes through us."""

    token: str | None
    sos_token: str | None
    remote_addr: str
    created: dict[int, str] = field(default_factory=dict)  # SOS raised over this socket -> its access token


def credentials_from(auth, environ: dict) -> SocketCredentials:
    auth = auth if isinstance(auth, dict) else {}
    return SocketCredentials(
        token=str(auth["token"]) if auth.get("token") else None,
        sos_token=str(auth["sos_token"]) if auth.get("sos_token") else None,
        remote_addr=environ.get("REMOTE_ADDR") or (environ.get("asgi.scope", {}).get("client") or ["127.0.0.1"])[0],
    )


def call_api(view, path: str, body: dict, credentials: SocketCredentials, *, sos_token: str | None = None,
             **kwargs) -> tuple[int, dict]:
    """POST `body` to a DRF view as this socket's client would over HTTP; returns (status, JSON answer)."""
    raw = json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "realtime", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": credentials.remote_addr, "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw), "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
    }
    if credentials.token:
        environ["HTTP_AUTHORIZATION"] = f"Token {credentials.token}"
    if sos_token or credentials.sos_token:
        environ["HTTP_X_SOS_TOKEN"] = sos_token or credentials.sos_token
    request = WSGIRequest(environ)
    # The realtime process's own CSRF and middleware do not apply: DRF's token authentication is CSRF-exempt.
    response = view(request, **kwargs)
    if hasattr(response, "render"):
        response.render()
    try:
        answer = json.loads(response.content or b"{}")
    except ValueError:
        answer = {}
    return response.status_code, answer


def register(sio: socketio.AsyncServer, hub: Hub) -> None:
    # Imported here: the views import the apps' models, which need Django set up first.
    from sos import apis

    create_view = apis.SOSCreateApi.as_view()
    location_view = apis.LocationUpdateApi.as_view()
    unit_location_view = apis.UnitLocationApi.as_view()

    def _body(data):
        """The payload as a dict (their app may send a JSON string), or the error answer for it."""
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                return None, {"success": False, "error": "Invalid JSON format", "status_code": 400}
        if not isinstance(data, dict):
            return None, {"success": False, "error": "Data must be a JSON object", "status_code": 400}
        return data, None

    def _failure(status: int, answer: dict) -> dict:
        return {"success": False, "error": answer.get("error") or f"Request failed with status {status}",
                "status_code": status, **({"fields": answer["fields"]} if "fields" in answer else {})}

    async def _refuse(sid, answer_event: str | None, error: dict) -> None:
        if answer_event is not None:
            await sio.emit(answer_event, error, to=sid)
        else:
            # Their server answered nothing; an error tells the sender its write was not recorded.
            await hub.send_control(sid, "error", {"message": error["error"],
                                                  **({"status_code": error["status"]} if "status" in error else {})})

    async def _write(sid, data, *, view, prepare, answer_event: str | None = None, done=None) -> None:
        """One write from a socket: parse its payload, `prepare` the REST call ((path, body, call_api keywords),
        or an error answer), run the view with the socket's credentials, then answer `answer_event` with
        {success, data} or the failure, or, for an event their server never answered, an `error` on failure."""
        client = hub.clients.get(sid)
        if client is None:
            return
        body, error = _body(data)
        call = prepare(body, client) if error is None else None
        if isinstance(call, dict):
            error = call
        if error is not None:
            return await _refuse(sid, answer_event, error)
        path, body, keywords = call
        status, answer = await run_db(call_api, view, path, body, client.credentials, **keywords)
        if status != 201:
            failure = (_failure(status, answer) if answer_event is not None else
                       {"error": answer.get("error") or f"Status {status}", "status": status})
            return await _refuse(sid, answer_event, failure)
        if done is not None:
            done(client, answer)
        if answer_event is not None:
            await sio.emit(answer_event, {"success": True, "data": answer}, to=sid)

    def _remember_token(client, answer: dict) -> None:
        # The access token goes to this socket only (it is the answer to it), and lets it send points.
        client.credentials.created[answer["sos_id"]] = answer["access_token"]

    def _sos_point(body: dict, client):
        try:
            own_token = client.credentials.created.get(int(body.get("sos_request")))
        except (TypeError, ValueError):
            own_token = None
        return "/api/update-location/", body, {"sos_token": own_token}

    def _unit_point(body: dict, client):
        unit = str(body.get("unit_id") or body.get("unit_number") or "").strip()
        if not unit:
            return {"error": "unit_id is required."}
        point = {key: body[key] for key in ("latitude", "longitude", "accuracy_m") if key in body}
        if body.get("timestamp"):
            point["recorded_at"] = body["timestamp"]
        return f"/api/units/{unit}/location/", point, {"unit_number": unit}

    @sio.event
    async def create_sos(sid, data=None):
        await _write(sid, data, view=create_view, prepare=lambda body, client: ("/api/create-sos/", body, {}),
                     answer_event="create_sos_response", done=_remember_token)

    @sio.event
    async def update_location(sid, data=None):
        await _write(sid, data, view=location_view, prepare=_sos_point, answer_event="update_location_response")

    @sio.event
    async def officer_location_update(sid, data=None):
        """`{unit_id, latitude, longitude, timestamp}`: recorded like POST /api/units/<unit>/location/."""
        await _write(sid, data, view=unit_location_view, prepare=_unit_point)
