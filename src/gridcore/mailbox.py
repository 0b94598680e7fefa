"""A recipient's mailbox: the categories they opted out of and the recent slots of their
messages, which the rate limit counts (``gridcore.notification.rate_slot``)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.errors import ForbiddenTransition
from gridcore.notification import Category, NotifyPolicy, Recipient, may_opt_out, rate_slot


def mailbox_id(recipient: Recipient) -> UUID:
    return stable_id("mailbox", f"{recipient.kind.value}:{recipient.key}")


class Mailbox(Aggregate):
    """A recipient's opt-outs and the recent slots of their messages (the rate limit)."""

    KEEP: ClassVar[int] = 50
    recipient: Recipient
    opted_out: set[Category]
    slots: list[datetime]

    class Opened(Created):
        recipient: Recipient

        def apply(self, b: Mailbox) -> None:
            b.recipient, b.opted_out, b.slots = self.recipient, set(), []

    class OptedOut(Event):
        category: Category

        def apply(self, b: Mailbox) -> None:
            b.opted_out.add(self.category)

    class OptedIn(Event):
        category: Category

        def apply(self, b: Mailbox) -> None:
            b.opted_out.discard(self.category)

    class Slotted(Event):
        message_id: UUID
        send_at: datetime

        def apply(self, b: Mailbox) -> None:
            b.slots = [*b.slots, self.send_at][-Mailbox.KEEP:]

    @classmethod
    def open(cls, recipient: Recipient, at: datetime) -> Mailbox:
        return cls._create(cls.Opened, mailbox_id(recipient), at, recipient=recipient)

    def opt(self, category: Category, out: bool, at: datetime) -> None:
        if out and not may_opt_out(category):
            raise ForbiddenTransition(
                f"{category.label} may not be refused: the person must be told.",
                "Only service reminders and education (宣传) may be opted out of.")
        if (category in self.opted_out) != out:
            self._trigger(self.OptedOut if out else self.OptedIn, at, category=category)

    def accepts(self, category: Category) -> bool:
        return category not in self.opted_out

    def slot(self, mid: UUID, earliest: datetime, urgent: bool, policy: NotifyPolicy,
             at: datetime) -> datetime:
        """The time the message may go: urgent ones at once (outside the rate limit), the
        others at the recipient's next free slot from ``earliest``, recorded."""
        if urgent:
            return earliest
        send_at = rate_slot(earliest, self.slots, policy)
        self._trigger(self.Slotted, at, message_id=mid, send_at=send_at)
        return send_at
