"""Real servers that receive alerts in tests: an SMTP server (aiosmtpd) and a webhook receiver (http.server)."""

import email
import socket
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPInbox:
    """An aiosmtpd SMTP server on a free port that keeps every message it accepts."""

    def __init__(self):
        self.messages: list[Message] = []
        self.recipients: list[list[str]] = []
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):
        self.recipients.append(list(envelope.rcpt_tos))
        self.messages.append(email.message_from_bytes(envelope.original_content or envelope.content))
        return "250 Message accepted for delivery"

    def start(self) -> "SMTPInbox":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()


class WebhookReceiver:
    """An HTTP server that answers 500 to the first `failures` requests, then 204; it records them all.

    With a `gate` (a threading.Event), each request is held until the gate opens: a target that hangs.
    `arrived` counts requests as they come in, before they are answered.
    """

    def __init__(self, *, failures: int = 0, delay: float = 0.0, gate: threading.Event | None = None):
        self.failures = failures
        self.delay = delay
        self.gate = gate
        self.arrived = 0
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.arrived += 1
                if receiver.gate is not None:
                    receiver.gate.wait(60)
                time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                    failing = len(receiver.requests) <= receiver.failures
                self.send_response(500 if failing else 204)
                self.end_headers()
                if failing:
                    self.wfile.write(b"receiver is down")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "WebhookReceiver":
        self._thread.start()
        return self

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self._server.shutdown()
        self._server.server_close()
