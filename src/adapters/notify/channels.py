"""The channels a message leaves through, behind one interface (``ChannelAdapter``).

Each adapter sends one ``Outgoing`` (the message id, the resolved address, the text) and
answers an ``Outcome``: sent (and whether that already means delivered), or failed, and then
whether the failure is permanent (the receiver refused it: a 4xx, an SMTP 5xx, an error code
that another try cannot change) or transient (a 5xx, a 429, a timeout, a refused connection,
an SMTP 4xx: retried with backoff). Every request carries the message id as an idempotency
key — the ``X-Gridcore-Message-Id`` header over HTTP, the ``Message-ID`` over SMTP — so a
receiver that dedupes by it shows a message resent after a crash once.

- ``WeComGroupRobot``: a 企业微信 group robot's webhook (``POST {"msgtype": "text", "text":
  {"content": ...}}``, answered ``{"errcode": 0, "errmsg": "ok"}``). WeCom itself takes no
  idempotency key: a sender killed after WeCom accepted a message but before recording it
  posts it again, so the group may see one duplicate per crash (at most one per message).
- ``SmsGateway``: a generic HTTP SMS gateway (JSON in, JSON out) defined here, with a bearer key.
- ``SmtpMail``: e-mail through an SMTP server (``smtplib``).
"""

from __future__ import annotations

import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol
from uuid import UUID

MESSAGE_ID_HEADER = "X-Gridcore-Message-Id"
WECOM_TRANSIENT = frozenset({-1, 45009, 45033})
"""WeCom error codes another try may cure: system busy, the robot's rate limit (20 a minute),
too many concurrent calls."""
WECOM_LIMIT = 2048
"""The longest text content a WeCom robot takes, in UTF-8 bytes."""


@dataclass(frozen=True)
class Outgoing:
    message_id: UUID
    address: str
    text: str
    subject: str = "gridcore 通知"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    delivered: bool = False
    permanent: bool = False
    receipt: str = ""
    reason: str = ""


def sent(receipt: str = "", delivered: bool = False) -> Outcome:
    return Outcome(True, delivered=delivered, receipt=receipt)


def failed(reason: str, permanent: bool) -> Outcome:
    return Outcome(False, permanent=permanent, reason=reason)


class ChannelAdapter(Protocol):
    def send(self, message: Outgoing) -> Outcome: ...


def post_json(url: str, body: dict[str, Any], headers: dict[str, str],
              timeout: float) -> tuple[int, Any]:
    """POST ``body`` as JSON; (status, decoded JSON answer or None). A 4xx or 5xx answer is
    returned, not raised; a network failure raises ``OSError``."""
    request = urllib.request.Request(
        url, data=json.dumps(body, ensure_ascii=False).encode(), method="POST",
        headers={"Content-Type": "application/json; charset=utf-8", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def http_outcome(status: int) -> Outcome | None:
    """The outcome an HTTP status decides on its own (None: a 2xx, read the answer)."""
    if 200 <= status < 300:
        return None
    permanent = 400 <= status < 500 and status not in (408, 425, 429)
    return failed(f"HTTP {status}", permanent)


class WeComGroupRobot:
    """A WeCom group robot; the message's address is the group's webhook URL."""

    def __init__(self, timeout: float = 10.0) -> None:
        self.timeout = timeout

    def send(self, message: Outgoing) -> Outcome:
        text = message.text.encode()[:WECOM_LIMIT].decode(errors="ignore")
        try:
            status, answer = post_json(message.address, {"msgtype": "text",
                                                          "text": {"content": text}},
                                       {MESSAGE_ID_HEADER: str(message.message_id)},
                                       self.timeout)
        except (OSError, ValueError) as e:
            return failed(f"network: {type(e).__name__}", permanent=False)
        decided = http_outcome(status)
        if decided is not None:
            return decided
        code = answer.get("errcode") if isinstance(answer, dict) else None
        if code == 0:
            return sent(delivered=True)  # posted into the group
        if code is None:
            return failed("WeCom answered without an errcode", permanent=False)
        msg = str(answer.get("errmsg", ""))[:120]
        return failed(f"WeCom errcode {code}: {msg}", permanent=code not in WECOM_TRANSIENT)


class SmsGateway:
    """A generic HTTP SMS gateway: ``POST {url}`` with ``Authorization: Bearer KEY``,
    ``X-Gridcore-Message-Id`` and ``{"to": "13812341234", "text": "...", "message_id":
    "uuid"}``; a 2xx answer ``{"id": "gateway's id"}`` means accepted (sent; a delivery
    receipt is the gateway's business), a 4xx a refusal, a 5xx or 429 a retry. The gateway
    must treat a ``message_id`` it has seen as the same message (dedupe)."""

    def __init__(self, url: str, key: str, timeout: float = 10.0) -> None:
        self.url, self.key, self.timeout = url, key, timeout

    def send(self, message: Outgoing) -> Outcome:
        try:
            status, answer = post_json(
                self.url, {"to": message.address, "text": message.text,
                           "message_id": str(message.message_id)},
                {MESSAGE_ID_HEADER: str(message.message_id),
                 "Authorization": f"Bearer {self.key}"}, self.timeout)
        except (OSError, ValueError) as e:
            return failed(f"network: {type(e).__name__}", permanent=False)
        decided = http_outcome(status)
        if decided is not None:
            return decided
        receipt = str(answer.get("id", "")) if isinstance(answer, dict) else ""
        return sent(receipt[:200])


class SmtpMail:
    """E-mail through an SMTP server; the message id is the mail's ``Message-ID``
    (``<uuid@gridcore>``), by which a mailbox or relay can drop a resent copy."""

    def __init__(self, host: str, port: int, sender: str, user: str = "", password: str = "",
                 starttls: bool = False, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, message: Outgoing) -> Outcome:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.address, message.subject
        mail["Message-ID"] = f"<{message.message_id}@gridcore>"
        mail[MESSAGE_ID_HEADER] = str(message.message_id)
        mail.set_content(message.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as e:
            codes = [code for code, _ in e.recipients.values()]
            return failed(f"SMTP refused the recipient ({codes})",
                          permanent=all(c >= 500 for c in codes))
        except smtplib.SMTPResponseException as e:
            return failed(f"SMTP {e.smtp_code}", permanent=e.smtp_code >= 500)
        except (TimeoutError, smtplib.SMTPException, OSError) as e:
            return failed(f"SMTP: {type(e).__name__}", permanent=False)
        if refused:
            return failed("SMTP refused the recipient", permanent=True)
        return sent(mail["Message-ID"])
