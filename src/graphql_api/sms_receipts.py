"""The SMS gateway's delivery receipts (短信回执): ``POST /notify/sms/receipt``.

A text is recorded sent when the gateway accepts it (``adapters.notify.channels.SmsGateway``);
the gateway later calls this route with its final status. The message is found by the
``message_id`` the gateway was given with the text (the ``message_id`` of its request body and
the ``X-Gridcore-Message-Id`` header), not by the gateway's own id: that id, when the gateway
sends it as ``receipt``, is recorded with the outcome.

The gateway authenticates with the shared key ``GRIDCORE_SMS_RECEIPT_KEY``
(``graphql_api.settings``) in the ``X-Gridcore-Receipt-Key`` header; without a key configured
the route answers 404 (closed), with a wrong or missing one 403. The body is one receipt or a
list of up to ``MAX_RECEIPTS``::

    {"message_id": "<uuid>", "status": "delivered" | "failed",
     "receipt": "<the gateway's id, optional>", "reason": "<why it failed, optional>"}

Each is recorded as the message's ``Message.Delivered`` or ``Message.Failed``
(``record_receipt``, by ``System.FEED``); the same receipt again writes nothing
(``unchanged``). A body with anything wrong (not JSON, a field missing or unknown, a message
that is unknown, not a text, or not sent yet, a contradiction of a receipt recorded before) is
answered 400 with what was wrong and what is right, and writes nothing: every receipt is
checked before any is recorded.
"""

from __future__ import annotations

import asyncio
import hmac
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graphql_api.limits import error_body
from graphql_api.settings import ApiSettings
from gridcore.authority import System
from gridcore.errors import GridcoreError
from gridcore.notification import Channel, MessageStatus
from gridcore.text import free_text

PATH = "/notify/sms/receipt"
KEY_HEADER = "X-Gridcore-Receipt-Key"
MAX_RECEIPTS = 200
FIELDS = frozenset({"message_id", "status", "receipt", "reason"})
STATUSES = {"delivered": True, "failed": False}
SHAPE = ('{"message_id": "<uuid>", "status": "delivered" | "failed", "receipt": "...", '
         '"reason": "..."}')


class BadReceipt(ValueError):
    """What is wrong with a receipt body (the message says what is right too)."""


@dataclass(frozen=True)
class Receipt:
    message_id: UUID
    delivered: bool
    receipt: str
    reason: str


def _answer(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="application/json")


def _refuse(status: int, message: str, code: str) -> Response:
    return _answer(status, error_body(message, code))


def parse_receipts(value: Any) -> list[Receipt]:
    """The receipts of a decoded body (one object or a list of them); ``BadReceipt`` says
    which is wrong and how."""
    items = value if isinstance(value, list) else [value]
    if not items or len(items) > MAX_RECEIPTS:
        raise BadReceipt(f"The body holds {len(items)} receipts; send 1 to {MAX_RECEIPTS}, "
                         f"each {SHAPE}.")
    return [_parse_one(item, i) for i, item in enumerate(items)]


def _parse_one(item: Any, i: int) -> Receipt:
    where = f"Receipt {i}" if i else "The receipt"
    if not isinstance(item, dict):
        raise BadReceipt(f"{where} is not a JSON object; send {SHAPE}.")
    unknown = sorted(str(k)[:40] for k in set(item) - FIELDS)
    if unknown:
        raise BadReceipt(f"{where} has unknown fields {unknown}; the fields are "
                         f"{sorted(FIELDS)}.")
    raw_id = item.get("message_id")
    try:
        mid = UUID(raw_id) if isinstance(raw_id, str) else None
    except ValueError:
        mid = None
    if mid is None:
        raise BadReceipt(f"{where} has no valid message_id; give the message id sent to the "
                         "gateway with the text (a UUID, as in X-Gridcore-Message-Id).")
    status = item.get("status")
    if status not in STATUSES:
        raise BadReceipt(f"{where} has status {str(status)[:40]!r}; give 'delivered' or "
                         "'failed'.")
    try:
        receipt = free_text(_text(item.get("receipt"), "receipt", where), "receipt",
                            longest=200)
        reason = free_text(_text(item.get("reason"), "reason", where), "reason", longest=200)
    except GridcoreError as e:
        raise BadReceipt(f"{where}: {e.problem} {e.remedy}".strip()) from None
    return Receipt(mid, STATUSES[status], receipt, reason)


def _text(value: Any, field: str, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise BadReceipt(f"{where} has a {field} that is not text; give it as a string or leave it "
                     "out.")


def check_receipts(gridcore: Any, receipts: list[Receipt]) -> None:
    """Each receipt's message exists, is a text, and is sent or already in the receipt's
    status (``BadReceipt`` otherwise): checked before any is recorded."""
    found = {m.id: m for m in gridcore.messages([r.message_id for r in receipts])}
    for r in receipts:
        m = found.get(r.message_id)
        if m is None:
            raise BadReceipt(f"No message {r.message_id}; give the message_id the gateway was "
                             "sent with the text.")
        if m.channel is not Channel.SMS:
            raise BadReceipt(f"Message {r.message_id} went by {m.channel.value}, not SMS; "
                             "send receipts only for texts.")
        final = MessageStatus.DELIVERED if r.delivered else MessageStatus.FAILED
        if m.status not in (MessageStatus.SENT, final):
            raise BadReceipt(f"Message {r.message_id} is {m.status.value}; a receipt is for a "
                             f"text recorded sent, or repeats its final status "
                             f"({m.status.value}).")


def record_receipts(gridcore: Any, receipts: list[Receipt]) -> tuple[int, int]:
    """Check, then record each receipt; returns (recorded, unchanged)."""
    check_receipts(gridcore, receipts)
    recorded = 0
    for r in receipts:
        if gridcore.record_receipt(r.message_id, r.delivered, r.receipt, r.reason,
                                   by=System.FEED) is not None:
            recorded += 1
    return recorded, len(receipts) - recorded


def receipt_route(gridcore: Any, settings: ApiSettings) -> Route:
    """``POST /notify/sms/receipt`` over ``gridcore`` (see the module's docstring)."""

    async def receive(request: Request) -> Response:
        key = settings.sms_receipt_key
        if not key:
            return _refuse(404, "SMS delivery receipts are not taken here: the server has no "
                                "GRIDCORE_SMS_RECEIPT_KEY.", "NOT_FOUND")
        given = request.headers.get(KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), key.encode()):
            return _refuse(403, f"The {KEY_HEADER} header is missing or wrong; send the key "
                                "the gateway was given.", "FORBIDDEN")
        try:
            value = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return _refuse(400, f"The request body is not valid JSON in UTF-8; send {SHAPE} "
                                "or a list of them.", "BAD_JSON")
        try:
            receipts = parse_receipts(value)
            recorded, unchanged = await asyncio.to_thread(record_receipts, gridcore,
                                                          receipts)
        except BadReceipt as e:
            return _refuse(400, str(e), "BAD_REQUEST")
        except GridcoreError as e:  # raced another writer after the check
            return _refuse(409, f"{e.problem} {e.remedy} The receipts before it were "
                                "recorded: send the body again (they write nothing twice).",
                           "CONFLICT")
        return _answer(200, orjson.dumps({"recorded": recorded, "unchanged": unchanged}))

    return Route(PATH, receive, methods=["POST"])
