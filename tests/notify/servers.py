"""Real local servers the channels are tested against: an HTTP receiver (a WeCom group robot
or an SMS gateway, on a free loopback port) and an SMTP server (aiosmtpd).

The HTTP receiver records every request and dedupes by ``X-Gridcore-Message-Id``, as the
receiving side of the outbox's contract does. Its answers can be scripted (a status per
request, in order) and it can hold the k-th request unanswered until released, so a test can
kill a sender while a request is in flight (an observable condition, not a sleep).
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from adapters.notify.channels import MESSAGE_ID_HEADER


@dataclass
class Received:
    path: str
    message_id: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass
class Receiver:
    """What the HTTP receiver saw and how it answers."""

    kind: str = "wecom"
    """``wecom``: answers ``{"errcode": 0}``; ``sms``: ``{"id": ...}``; ``any``: both"""
    script: list[int | tuple[int, dict[str, Any]]] = field(default_factory=list)
    """answers for the next requests, in order (a status, or a status and a JSON body);
    then 200"""
    requests: list[Received] = field(default_factory=list)
    hold_at: int | None = None
    """hold the request of this number (1-based) until ``release`` is set"""
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    changed: threading.Condition = field(default_factory=threading.Condition)
    url: str = ""

    @property
    def accepted(self) -> list[str]:
        """The message ids answered with success, each once (the receiver's dedupe)."""
        with self.lock:
            return list(dict.fromkeys(r.message_id for r in self.requests
                                      if r.path != "refused"))

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(r.message_id for r in self.requests)

    def wait_for(self, n: int, timeout: float = 60.0) -> bool:
        """Until ``n`` requests have arrived."""
        with self.changed:
            return self.changed.wait_for(lambda: len(self.requests) >= n, timeout)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            body = json.loads(raw or b"{}")
            with receiver.lock:
                answer = receiver.script.pop(0) if receiver.script else 200
                number = len(receiver.requests) + 1
            status, payload = answer if isinstance(answer, tuple) else (answer, None)
            seen = Received(self.path if status < 300 else "refused",
                            self.headers.get(MESSAGE_ID_HEADER, ""), body, dict(self.headers))
            with receiver.lock:
                receiver.requests.append(seen)
            with receiver.changed:
                receiver.changed.notify_all()
            if receiver.hold_at == number:
                receiver.holding.set()
                receiver.release.wait(120)
            if payload is None:
                payload = ({"errcode": 0, "errmsg": "ok"} if receiver.kind == "wecom"
                           else {"id": f"gw-{number}"} if receiver.kind == "sms"
                           else {"errcode": 0, "errmsg": "ok", "id": f"gw-{number}"}
                           ) if status < 300 else {"error": "no"}
            out = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
            except OSError:
                pass  # the sender died while held

    return Handler


@contextmanager
def http_receiver(kind: str = "wecom") -> Iterator[Receiver]:
    receiver = Receiver(kind=kind)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/cgi-bin/webhook/send?key=test"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release.set()
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    mails: list[Any] = field(default_factory=list)
    rcpt_answer: str | None = None
    """an SMTP answer to RCPT TO instead of accepting (e.g. ``550 5.1.1 no such user``)"""


@contextmanager
def smtp_server() -> Iterator[tuple[str, int, Mailbox]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()

    class Handler:
        async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                              rcpt_options: Any) -> str:
            if box.rcpt_answer is not None:
                return box.rcpt_answer
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            from email import message_from_bytes
            from email.policy import default

            box.mails.append(message_from_bytes(envelope.content, policy=default))
            return "250 Message accepted for delivery"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield "127.0.0.1", port, box
    finally:
        controller.stop()
