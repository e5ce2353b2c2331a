"""The operator's HTTP endpoint on the worker: /healthz, /stats, /metrics (Prometheus) and camera snapshots.

Bound to localhost unless configured otherwise (`operator.host`): it shows live camera pictures and has
no authentication of its own, so expose it only behind something that has.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import cv2
import numpy as np

from detection.config import DetectorConfig
from detection.events import encode_jpeg
from detection.health import HealthMonitor

logger = logging.getLogger(__name__)

UNHEALTHY = {"down"}


class OperatorEndpoint:
    """Serves what the monitor knows; `extra_stats()` adds the app's own figures (publisher, runtime)."""

    def __init__(self, config: DetectorConfig, monitor: HealthMonitor, extra_stats: Callable[[], dict] = dict):
        self.config, self.monitor, self.extra_stats = config, monitor, extra_stats
        self.started = time.monotonic()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                endpoint.handle(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((config.operator.host, config.operator.port or 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="operator", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()
        logger.info("operator endpoint on %s (/healthz, /stats, /metrics, /cameras/<id>/snapshot.jpg)", self.url)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # Routes -----------------------------------------------------------------------------------------

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        parts = [p for p in url.path.split("/") if p]
        try:
            if parts == ["healthz"]:
                self._healthz(request)
            elif parts == ["stats"]:
                self._send_json(request, 200, self.stats())
            elif parts == ["metrics"]:
                self._send(request, 200, self.metrics().encode(), "text/plain; version=0.0.4; charset=utf-8")
            elif len(parts) == 3 and parts[0] == "cameras" and parts[2] == "snapshot.jpg":
                self._snapshot(request, parts[1], parse_qs(url.query))
            else:
                self._send_json(request, 404, {"error": "not_found", "detail": f"No route {url.path}."})
        except Exception:  # pragma: no cover - the endpoint must never take the worker down
            logger.exception("operator endpoint failed on %s", url.path)
            self._send_json(request, 500, {"error": "server_error"})

    def _healthz(self, request) -> None:
        states = {cid: self.monitor.snapshot(cid, reader="healthz")["state"] for cid in self.monitor.cameras}
        healthy = any(state not in UNHEALTHY for state in states.values())
        self._send_json(request, 200 if healthy else 503,
                        {"status": "ok" if healthy else "down", "cameras": states})

    def stats(self) -> dict:
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "cameras": {cid: self.monitor.snapshot(cid, reader="stats") for cid in self.monitor.cameras},
            **self.extra_stats(),
        }

    def metrics(self) -> str:
        """The Prometheus text exposition format, one family per figure, labelled by camera."""
        snapshots = [self.monitor.snapshot(cid, reader="metrics") for cid in self.monitor.cameras]
        families = [
            ("naarikavach_camera_up", "gauge", "1 while the camera delivers frames", lambda s: int(s["state"] == "ok")),
            ("naarikavach_camera_frames_total", "counter", "Sampled frames seen", lambda s: s["frames"]),
            ("naarikavach_camera_fps", "gauge", "Frames per second scored or skipped since the previous scrape",
             lambda s: s["fps"]),
            ("naarikavach_camera_analysed_total", "counter", "Frames the violence model scored", lambda s: s["analysed"]),
            ("naarikavach_camera_skipped_static_total", "counter", "Frames the motion gate skipped",
             lambda s: s["skipped_static"]),
            ("naarikavach_camera_dropped_total", "counter", "Frames dropped while the analyser was busy",
             lambda s: s["dropped_frames"]),
            ("naarikavach_camera_events_total", "counter", "Violence events raised", lambda s: s["events"]),
            ("naarikavach_camera_reconnects_total", "counter", "Failed (re)open attempts", lambda s: s["reconnects"]),
        ]
        lines = []
        for name, kind, help_text, value in families:
            lines += [f"# HELP {name} {help_text}.", f"# TYPE {name} {kind}"]
            lines += [f'{name}{{camera="{_label(s["camera_id"])}"}} {value(s)}' for s in snapshots]
        latency = self.monitor.model.ms_per_image if self.monitor.model is not None else None
        lines += ["# HELP naarikavach_model_latency_ms Violence model milliseconds per image (moving average).",
                  "# TYPE naarikavach_model_latency_ms gauge",
                  f"naarikavach_model_latency_ms {'NaN' if latency is None else round(latency, 3)}"]
        for name, value in sorted(self.extra_stats().get("counters", {}).items()):
            lines += [f"# TYPE naarikavach_{name} gauge", f"naarikavach_{name} {value}"]
        return "\n".join(lines) + "\n"

    def _snapshot(self, request, camera_id: str, query: dict) -> None:
        if camera_id not in self.monitor.cameras:
            self._send_json(request, 404, {"error": "not_found", "detail": f"No camera {camera_id!r}."})
            return
        image = self.monitor.latest_image(camera_id)
        if image is None:
            self._send_json(request, 503, {"error": "no_frame", "detail": "No frame from this camera yet."})
            return
        if query.get("regions", ["0"])[0] in ("1", "true", "yes"):
            image = draw_regions(image, self.monitor.cameras[camera_id].region_mask or [])
        self._send(request, 200, encode_jpeg(image, 85), "image/jpeg", cache=False)

    # Plumbing ---------------------------------------------------------------------------------------

    def _send_json(self, request, status: int, body: dict) -> None:
        self._send(request, status, json.dumps(body, default=str).encode(), "application/json")

    @staticmethod
    def _send(request, status: int, body: bytes, content_type: str, cache: bool = True) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        if not cache:
            request.send_header("Cache-Control", "no-store")
        request.end_headers()
        request.wfile.write(body)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def draw_regions(image: np.ndarray, polygons: list) -> np.ndarray:
    """The analysed regions outlined in green on a copy of the frame."""
    drawn = image.copy()
    height, width = drawn.shape[:2]
    for polygon in polygons:
        points = np.array([[round(x * (width - 1)), round(y * (height - 1))] for x, y in polygon], np.int32)
        cv2.polylines(drawn, [points], isClosed=True, color=(0, 255, 0), thickness=2)
    return drawn
