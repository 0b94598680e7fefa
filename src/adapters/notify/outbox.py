"""The outbox's two processes: the notifier, which turns stored events into queued messages,
and the sender, which drains queued and retry-due messages through the channels.

The event store is the transactional outbox: the events that call for a message are stored
by the commands that decide them, in their own transaction, so no message is lost with a
crash and none is queued for a change that was not saved. The notifier follows the log of
those events (``gridcore.notification_commands.CAUSES``) from its position in the tracking
table (``notify:queue``, as ``adapters.event_feed`` keeps ``feed:kafka``), gives each to
``GridcoreApp.notify_of`` and records the position after the batch; reading a batch again
after a crash queues nothing twice (a message's id is derived from its cause).

The sender follows the messages' own events to know which are open, and for each due one
records ``Attempted`` before the network call, resolves the address at that moment (a
phone from the resident's or staff member's sealed record, an e-mail address from the
configured list, a group's webhook from the configured URLs: no message event holds one),
sends it with its id as the idempotency key and records the outcome: sent or delivered,
retried after the backoff, or failed with the reason. A sender killed between the attempt
and its outcome leaves the message attempted; the next sender sends it again with the same
id. Exactly once therefore holds where the receiver dedupes by the id (the SMS gateway by
its contract, a mail store by Message-ID); a WeCom group robot cannot, so a crash in that
window may post one duplicate into the group. One sender per store: two would both send an
attempted message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Tracking
from eventsourcing.utils import get_topic

from adapters.notify.channels import (
    ChannelAdapter,
    Outgoing,
    SmsGateway,
    SmtpMail,
    WeComGroupRobot,
    failed,
)
from adapters.notify.settings import NotifySettings
from adapters.tracking import tracking_recorder
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import GridcoreError
from gridcore.notification import Channel, Message, MessageStatus, Recipient, RecipientKind
from gridcore.notification_commands import CAUSES

log = logging.getLogger(__name__)
NOTIFIER_NAME = "notify:queue"
AUTO = System.AUTOMATION
MESSAGE_TOPICS = [get_topic(c) for c in (Message.Queued, Message.Sent, Message.Delivered,
                                         Message.Failed)]
OPEN_AFTER = {get_topic(Message.Queued)}


class Notifier:
    """Queues the messages of the stored events after its tracked position."""

    def __init__(self, app: GridcoreApp, batch: int = 500, tracking: Any = None) -> None:
        self.app, self.batch = app, batch
        self.tracking = tracking if tracking is not None else tracking_recorder(app)
        self.topics = [get_topic(c) for c in CAUSES]

    def position(self) -> int:
        return self.tracking.max_tracking_id(NOTIFIER_NAME) or 0

    def step(self) -> int:
        """Read one batch of causes, queue their messages, record the position; returns how
        many messages were queued."""
        notes = self.app.recorder.select_notifications(start=self.position() + 1,
                                                       limit=self.batch, topics=self.topics)
        queued = 0
        for note in notes:
            event = self.app.mapper.to_domain_event(note)
            try:
                queued += self.app.notify_of(event, by=AUTO)
            except GridcoreError as e:  # a cause that can no longer be told (erased...)
                log.warning("notifier: %s v%s skipped: %s", note.originator_id,
                            note.originator_version, e.problem)
        if notes:
            self.tracking.insert_tracking(Tracking(NOTIFIER_NAME, notes[-1].id))
        return queued

    def catch_up(self) -> int:
        total = 0
        while True:
            before = self.position()
            total += self.step()
            if self.position() == before:
                return total


class Directory:
    """Where a message goes, looked up when it is sent (no message stores an address)."""

    def __init__(self, app: GridcoreApp, settings: NotifySettings) -> None:
        self.app, self.settings = app, settings

    def address(self, recipient: Recipient, channel: Channel) -> str | None:
        if recipient.kind is RecipientKind.GROUP:
            return self._webhook(recipient.group or "")
        assert recipient.id is not None
        if recipient.kind is RecipientKind.STAFF:
            member = self.app.staff(recipient.id)
            if channel is Channel.EMAIL:
                return self.settings.emails.get(member.staff_no)
            return member.phone.reveal() if member.phone is not None else None
        assert recipient.household_id is not None
        person = self.app.household(recipient.household_id).residents.get(recipient.id)
        phone = person.identity.phone if person is not None else None
        return phone.reveal() if phone is not None else None

    def _webhook(self, code: str) -> str | None:
        urls = self.settings.wecom_urls
        for node in self.app.ancestry(code):
            if node in urls:
                return urls[node]
        return self.settings.wecom_url or None


def channels_from(settings: NotifySettings) -> dict[Channel, ChannelAdapter]:
    """The channels the settings configure."""
    out: dict[Channel, ChannelAdapter] = {}
    if settings.wecom_url or settings.wecom_urls:
        out[Channel.WECOM_GROUP] = WeComGroupRobot(settings.timeout)
    if settings.sms_url:
        out[Channel.SMS] = SmsGateway(settings.sms_url, settings.sms_key, settings.timeout)
    if settings.smtp_host:
        out[Channel.EMAIL] = SmtpMail(settings.smtp_host, settings.smtp_port,
                                      settings.smtp_from, settings.smtp_user,
                                      settings.smtp_password, settings.smtp_starttls,
                                      settings.timeout)
    return out


class Sender:
    """Sends the due messages, recording each attempt before it and its outcome after."""

    def __init__(self, app: GridcoreApp, channels: dict[Channel, ChannelAdapter],
                 directory: Directory, batch: int = 1000) -> None:
        self.app, self.channels, self.directory, self.batch = app, channels, directory, batch
        self.open: set[UUID] = set()
        self._position = 0
        self._unconfigured: set[Channel] = set()

    def follow(self) -> None:
        """Bring the set of open messages up to the log (from the start, the first time)."""
        while True:
            notes = self.app.recorder.select_notifications(
                start=self._position + 1, limit=self.batch, topics=MESSAGE_TOPICS)
            for note in notes:
                mid = UUID(str(note.originator_id))
                if note.topic in OPEN_AFTER:
                    self.open.add(mid)
                else:
                    self.open.discard(mid)
            if len(notes) < self.batch:
                if notes:
                    self._position = notes[-1].id
                return
            self._position = notes[-1].id

    def due(self, now: datetime) -> list[Message]:
        found = self.app.messages(sorted(self.open))
        due = [m for m in found if m.due(now) and self._configured(m.channel)]
        return sorted(due, key=lambda m: (m.not_before, str(m.id)))

    def next_due(self) -> datetime | None:
        """When the earliest open message waiting for its slot or its retry comes due."""
        times = [m.next_try if m.status is MessageStatus.RETRYING else m.not_before
                 for m in self.app.messages(sorted(self.open))
                 if m.channel in self.channels]
        return min((t for t in times if t is not None), default=None)

    def drain(self) -> int:
        """Send every message due now; returns how many were tried."""
        self.follow()
        tried = 0
        for m in self.due(self.app.clock()):
            self.send(m)
            tried += 1
        return tried

    def send(self, m: Message) -> None:
        self.app.attempt_message(m.id, by=AUTO)  # before the network call: see the module
        try:
            address = self.directory.address(m.recipient, m.channel)
        except GridcoreError as e:  # the recipient's record is gone
            address, missing = None, e.problem
        else:
            missing = "none given, or erased"
        if address is None:
            outcome = failed(f"no address on record ({missing})", permanent=True)
        else:
            try:
                outcome = self.channels[m.channel].send(Outgoing(m.id, address, m.text))
            except Exception as e:  # a channel's own fault: retried, not a crash loop
                log.exception("sender: the %s channel failed", m.channel.value)
                outcome = failed(f"channel error: {type(e).__name__}", permanent=False)
        if outcome.ok:
            self.app.record_sent(m.id, outcome.receipt, outcome.delivered, by=AUTO)
        else:
            self.app.record_send_failure(m.id, outcome.reason, outcome.permanent, by=AUTO)

    def _configured(self, channel: Channel) -> bool:
        if channel in self.channels:
            return True
        if channel not in self._unconfigured:
            self._unconfigured.add(channel)
            log.warning("sender: no %s channel is configured; its messages stay queued",
                        channel.value)
        return False


def statuses(app: GridcoreApp, ids: Iterable[UUID]) -> dict[UUID, MessageStatus]:
    return {m.id: m.status for m in app.messages(list(ids))}


def run(app: GridcoreApp, settings: NotifySettings, *, once: bool = False, idle: float = 1.0,
        stop: Any = None) -> tuple[int, int]:
    """The notifier and the sender in one loop over ``app`` (its ``notify_policy`` set from
    ``settings``): queue what the new events call for, send what is due, wait ``idle``
    seconds (or until the next message comes due, if sooner) while nothing is; with ``once``,
    return when nothing more is due now. ``stop``: a ``threading.Event`` that ends the loop.
    Returns (messages queued, attempts made)."""
    import threading

    stop = stop or threading.Event()
    app.notify_policy = settings.policy
    notifier = Notifier(app)
    sender = Sender(app, channels_from(settings), Directory(app, settings))
    queued = tried = 0
    while not stop.is_set():
        queued += notifier.catch_up()
        n = sender.drain()
        tried += n
        if n:
            continue
        if once:
            break
        nxt = sender.next_due()
        wait = idle if nxt is None else min(idle, max(0.0, (nxt - app.clock()).total_seconds()))
        stop.wait(max(wait, 0.05))
    return queued, tried
