"""Chat messages (群内自报) the intake could not record as a check-in: held for the micro-grid's
worker to review, or set aside as no report at all.

Each message of a micro-grid's chat group has one ``ChatReview`` (its id derived from the
micro-grid and the chat's message id), so a batch delivered twice holds nothing twice. A held
message keeps the sender and the text sealed with its own key (``ChatText``, like a request's
text) with the reason it was not understood; a message set aside (a thank-you, a question, a
picture) keeps only what kind it is, not its words. ``ChatReviewDesk`` lists a micro-grid's held
messages for its worker. Parsing is the adapters' (``adapters.chat_intake``).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Personal, stable_id


class Disposition(StrEnum):
    HELD = "held"
    """待核实 held for the worker: it looks like a report but was not understood"""
    IGNORED = "ignored"
    """非自报 not a report (thanks, a question, a picture)"""


class ChatText(Personal):
    """Who sent a held message (the chat's display name), what it said, and why it was not
    understood (the reason quotes its words, so it is sealed with them)."""

    sender: str | None = None
    text: str | None = None
    reason: str | None = None


def chat_client_id(micro_grid: str, message_id: str) -> str:
    """The client id of what a chat message led to (its check-in visit): the same message
    delivered again is applied once."""
    return "chat:" + hashlib.sha256(f"{micro_grid}/{message_id}".encode()).hexdigest()


def chat_review_id(micro_grid: str, message_id: str) -> UUID:
    return stable_id("chat-review", f"{micro_grid}/{message_id}")


def chat_desk_id(micro_grid: str) -> UUID:
    return stable_id("chat-review-desk", micro_grid)


class ChatReview(Aggregate):
    micro_grid: str
    message_id: str
    sent_at: datetime
    disposition: Disposition
    kind: str
    content: ChatText | None

    class Taken(Created):
        micro_grid: str
        message_id: str
        sent_at: datetime
        disposition: Disposition
        kind: str
        """what was wrong (the parser's part: address, members, ...) or what it was
        (thanks, question, picture)"""
        content: ChatText | None = None

        def apply(self, r: ChatReview) -> None:
            r.micro_grid, r.message_id, r.sent_at = self.micro_grid, self.message_id, \
                self.sent_at
            r.disposition, r.kind, r.content = self.disposition, self.kind, self.content

    @classmethod
    def take(cls, micro_grid: str, message_id: str, sent_at: datetime,
             disposition: Disposition, kind: str, reason: str, sender: str, text: str,
             at: datetime) -> ChatReview:
        """A held message keeps its sender, text and reason (sealed); an ignored one only its
        kind."""
        rid = chat_review_id(micro_grid, message_id)
        content = ChatText(subject_id=rid, sender=sender, text=text, reason=reason) \
            if disposition is Disposition.HELD else None
        return cls._create(cls.Taken, rid, at, micro_grid=micro_grid, message_id=message_id,
                           sent_at=sent_at, disposition=disposition, kind=kind,
                           content=content)


class ChatReviewDesk(Aggregate):
    """A micro-grid's held chat messages, oldest first."""

    micro_grid: str
    held: list[UUID]

    class Opened(Created):
        micro_grid: str

        def apply(self, d: ChatReviewDesk) -> None:
            d.micro_grid, d.held = self.micro_grid, []

    class Held(Event):
        review_id: UUID

        def apply(self, d: ChatReviewDesk) -> None:
            d.held.append(self.review_id)

    @classmethod
    def open(cls, micro_grid: str, at: datetime) -> ChatReviewDesk:
        return cls._create(cls.Opened, chat_desk_id(micro_grid), at, micro_grid=micro_grid)

    def hold(self, review_id: UUID, at: datetime) -> None:
        if review_id not in self.held:
            self._trigger(self.Held, at, review_id=review_id)
