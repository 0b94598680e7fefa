"""Chat messages (群内自报) the intake could not record as a check-in: held for the micro-grid's
worker to review, or set aside as no report at all.

Each message of a micro-grid's chat group has one ``ChatReview`` (its id derived from the
micro-grid and the chat's message id), so a batch delivered twice holds nothing twice. A held
message keeps the sender and the text sealed with its own key (``ChatText``, like a request's
text) with the reason it was not understood; a message set aside (a thank-you, a question, a
picture) keeps only what kind it is, not its words. ``ChatReviewDesk`` lists a micro-grid's held
messages for its worker. Parsing is the adapters' (``adapters.chat_intake``); the plain values
an intake takes and reports (``ChatMessage``, ``Fate``, ``IntakeReport``) are here, so the API
and the command line share them without importing the parser.

The worker clears a held message (``ChatReview.resolve``): 已手工记录 recorded by hand (they
recorded the visit themselves; the resolution names the household) or 已排除 dismissed with a
reason. Its sender and text are no longer needed then: the resolution destroys its key in
the same transaction (crypto-shredding, as a resident's erasure does). A held message whose
sender is erased with a resident is shredded too (``ChatReview.shred``) and stays held,
reading as erased, until the worker dismisses it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Personal, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput


class Disposition(StrEnum):
    HELD = "held"
    """待核实 held for the worker: it looks like a report but was not understood"""
    IGNORED = "ignored"
    """非自报 not a report (thanks, a question, a picture)"""
    MONITORED = "monitored"
    """健康监测 recorded as health-monitoring reports only, no check-in (no open campaign, or
    no member count): kept, like a message set aside, by its kind only"""


class Resolution(StrEnum):
    """How the worker cleared a held message."""

    RECORDED_BY_HAND = "recorded_by_hand"
    """已手工记录 the worker recorded the visit themself (``recordVisit``) for the household
    the resolution names"""
    DISMISSED = "dismissed"
    """已排除 no visit follows from it (``Dismissal`` says why)"""


class Dismissal(StrEnum):
    """Why a held message was dismissed."""

    NOT_A_REPORT = "not_a_report"
    """非自报 no check-in after all"""
    DUPLICATE = "duplicate"
    """重复 the same report was recorded from another message"""
    UNTRACEABLE = "untraceable"
    """无法核实 no household could be traced from it"""


class Fate(StrEnum):
    """What became of one message a chat intake was given."""

    RECORDED = "recorded"
    REVIEW = "review"
    IGNORED = "ignored"
    DUPLICATE = "duplicate"
    MONITORED = "monitored"
    """健康监测 recorded as the monitoring reports of the members under health monitoring it
    names, and no check-in (a message recorded as both is ``RECORDED``; ``monitoring`` counts
    the reports of either)"""
    REJECTED = "rejected"
    """not taken in at all (nothing written): a message the store cannot hold as given (a
    time outside the policy's window, an overlong text); sending it again corrected takes it"""


@dataclass(frozen=True)
class ChatMessage:
    """One message of a group, as a chat bot or an export gives it."""

    message_id: str
    sender: str
    sent_at: datetime
    text: str


@dataclass(frozen=True)
class MessageOutcome:
    message_id: str
    fate: Fate
    reason: str = ""
    household_id: UUID | None = None
    monitoring: int = 0
    """how many monitoring reports (健康监测) the message was recorded as"""


@dataclass
class IntakeReport:
    """What a chat intake did with a batch: one outcome per message, in order."""

    outcomes: list[MessageOutcome] = field(default_factory=list)

    def count(self, fate: Fate) -> int:
        return sum(o.fate is fate for o in self.outcomes)

    @property
    def recorded(self) -> int:
        return self.count(Fate.RECORDED)

    @property
    def review(self) -> int:
        return self.count(Fate.REVIEW)

    @property
    def ignored(self) -> int:
        return self.count(Fate.IGNORED)

    @property
    def duplicates(self) -> int:
        return self.count(Fate.DUPLICATE)

    @property
    def rejected(self) -> int:
        return self.count(Fate.REJECTED)

    @property
    def monitored(self) -> int:
        return self.count(Fate.MONITORED)


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


def chat_monitoring_client_id(micro_grid: str, message_id: str, resident_id: UUID) -> str:
    """The client id of the monitoring report a chat message led to for one resident: the same
    message delivered again records it once."""
    return chat_client_id(micro_grid, message_id) + f":monitoring:{resident_id}"


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
    resolution: Resolution | None
    dismissal: Dismissal | None
    household_id: UUID | None
    """the household a message recorded by hand was recorded for"""
    resolved_by: UUID | None

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
            r.resolution, r.dismissal, r.household_id, r.resolved_by = None, None, None, None

    class Resolved(Event):
        """The worker cleared the held message; its key is destroyed in the same
        transaction (its sender and text read back as erased)."""

        resolution: Resolution
        dismissal: Dismissal | None = None
        household_id: UUID | None = None
        resolved_by: UUID | None = None

        @property
        def erased_subject_ids(self) -> list[UUID]:
            """Whose keys the store destroys in the same transaction as this event."""
            return [self.originator_id]

        def apply(self, r: ChatReview) -> None:
            r.resolution, r.dismissal = self.resolution, self.dismissal
            r.household_id, r.resolved_by = self.household_id, self.resolved_by
            r.content = _shredded(r.content)

    class Shredded(Event):
        """The held message's key was destroyed with the erasure of the resident who sent
        it: its sender and text read back as erased; it stays held."""

        reason: str

        @property
        def erased_subject_ids(self) -> list[UUID]:
            return [self.originator_id]

        def apply(self, r: ChatReview) -> None:
            r.content = _shredded(r.content)

    @classmethod
    def take(cls, micro_grid: str, message_id: str, sent_at: datetime,
             disposition: Disposition, kind: str, reason: str, sender: str, text: str,
             at: datetime) -> ChatReview:
        """A held message keeps its sender, text and reason (sealed); an ignored or monitored
        one only its kind."""
        rid = chat_review_id(micro_grid, message_id)
        content = ChatText(subject_id=rid, sender=sender, text=text, reason=reason) \
            if disposition is Disposition.HELD else None
        return cls._create(cls.Taken, rid, at, micro_grid=micro_grid, message_id=message_id,
                           sent_at=sent_at, disposition=disposition, kind=kind,
                           content=content)

    @property
    def held(self) -> bool:
        """Held for the worker and not resolved yet."""
        return self.disposition is Disposition.HELD and self.resolution is None

    def resolve(self, resolution: Resolution, household_id: UUID | None,
                dismissal: Dismissal | None, by: UUID | None, at: datetime) -> bool:
        """Clear the held message: recorded by hand for ``household_id``, or dismissed for
        ``dismissal``. The same resolution again changes nothing (False); another one for a
        resolved message, or any for a message set aside, is refused."""
        name = f"Chat message {self.message_id!r} of {self.micro_grid}"
        if self.disposition is not Disposition.HELD:
            was = ("recorded as monitoring reports" if self.disposition is Disposition.MONITORED
                   else "set aside as no report")
            raise ForbiddenTransition(
                f"{name} was {was} ({self.kind}); it was never held for review.",
                "Resolve only a message chatReview lists.")
        if resolution is Resolution.RECORDED_BY_HAND:
            if household_id is None or dismissal is not None:
                raise InvalidInput(
                    "A message recorded by hand names the household it was recorded for, "
                    "and no dismissal.", "Give the household whose visit you recorded.")
        elif dismissal is None or household_id is not None:
            raise InvalidInput(
                "A dismissed message names why it was dismissed, and no household.",
                "Give the dismissal: " + ", ".join(d.value for d in Dismissal) + ".")
        if self.resolution is not None:
            if (self.resolution, self.dismissal, self.household_id) == (
                    resolution, dismissal, household_id):
                return False
            raise ForbiddenTransition(
                f"{name} was already resolved ({self.resolution.value}"
                f"{f': {self.dismissal.value}' if self.dismissal else ''}).",
                "A resolution is final; nothing more to do.")
        self._trigger(self.Resolved, at, resolution=resolution, dismissal=dismissal,
                      household_id=household_id, resolved_by=by)
        return True

    def shred(self, reason: str, at: datetime) -> bool:
        """Destroy the held message's key (its sender and text read as erased); False when
        there is nothing left to shred."""
        if self.content is None or self.content.erased:
            return False
        self._trigger(self.Shredded, at, reason=reason)
        return True


def _shredded(content: ChatText | None) -> ChatText | None:
    return None if content is None else ChatText(subject_id=content.subject_id, erased=True)


class ChatReviewDesk(Aggregate):
    """A micro-grid's held chat messages, oldest first, and those its worker resolved."""

    micro_grid: str
    held: list[UUID]
    resolved: dict[UUID, Resolution]

    class Opened(Created):
        micro_grid: str

        def apply(self, d: ChatReviewDesk) -> None:
            d.micro_grid, d.held, d.resolved = self.micro_grid, [], {}

    class Held(Event):
        review_id: UUID

        def apply(self, d: ChatReviewDesk) -> None:
            d.held.append(self.review_id)

    class Cleared(Event):
        """A held message was resolved: off the held list."""

        review_id: UUID
        resolution: Resolution

        def apply(self, d: ChatReviewDesk) -> None:
            d.held.remove(self.review_id)
            d.resolved[self.review_id] = self.resolution

    @classmethod
    def open(cls, micro_grid: str, at: datetime) -> ChatReviewDesk:
        return cls._create(cls.Opened, chat_desk_id(micro_grid), at, micro_grid=micro_grid)

    def hold(self, review_id: UUID, at: datetime) -> None:
        if review_id not in self.held:
            self._trigger(self.Held, at, review_id=review_id)

    def clear(self, review_id: UUID, resolution: Resolution, at: datetime) -> None:
        if review_id in self.held:
            self._trigger(self.Cleared, at, review_id=review_id, resolution=resolution)

    def count(self, resolution: Resolution) -> int:
        return sum(r is resolution for r in self.resolved.values())
