"""Commands and queries of notifications (通知与宣传): notices, the messages the stored events
call for, their sending outcomes, opt-outs and the workers' call lists.

The event store is the outbox. A command that causes a message writes only its own events (a
delivery dispatched, a measure ended, a notice posted); ``notify_of`` is given each such event
by the notifier process (``adapters.notify.notifier``), which follows the log from a tracked
position, and queues the messages the rules ask for, each with an id derived from the event's
id, its recipient and its channel: reading an event again (a crash before the position was
recorded) queues nothing new. The sender (``adapters.notify.sender``) records an attempt
before its network call (``attempt_message``), then its outcome (``record_sent``,
``record_send_failure``); a message left attempted by a sender that died is sent again with
the same id, which the receiving side dedupes by.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

from gridcore.alert_commands import AlertCommands
from gridcore.alerts import Alert
from gridcore.app_base import command
from gridcore.authority import Actor, staff_of
from gridcore.base import Aggregate, Event, event_id
from gridcore.call_list import CallList, call_list_id
from gridcore.delivery import Delivery
from gridcore.delivery_commands import DeliveryCommands
from gridcore.errors import InvalidInput, NotFound
from gridcore.grid import Level
from gridcore.household import Household
from gridcore.identity import mask_name
from gridcore.mailbox import Mailbox, mailbox_id
from gridcore.mass_testing import TestingCampaign
from gridcore.monitoring import Monitoring
from gridcore.notice import Notice, check_names_absent
from gridcore.notification import (
    BEIJING,
    DEFAULT_NOTIFY_POLICY,
    TEMPLATES,
    Category,
    Channel,
    Message,
    NotifyPolicy,
    Recipient,
    Template,
    earliest_send,
    group,
    message_id,
    render,
    resident,
    resident_channel,
    staff_recipient,
)
from gridcore.request_commands import RequestCommands
from gridcore.requests import ResidentRequest
from gridcore.staff import Role
from gridcore.status import Measure
from gridcore.text import free_text

ENDED = frozenset({Measure.HOME_OBSERVATION, Measure.HOME_QUARANTINE,
                   Measure.CENTRALIZED_QUARANTINE})
"""Measures whose end a resident is told of (a hospital discharges its own patients)."""
ALERTED = frozenset({Role.OFFICIAL, Role.DUTY_LEAD, Role.GRID_WORKER, Role.COMMUNITY_POLICE})
"""The staff of a node an escalated alert, or an escalated overdue monitoring report, is
sent to."""
CAUSES: tuple[type[Event], ...] = (Notice.Posted, Delivery.Dispatched, TestingCampaign.Launched,
                                   Household.MeasureChanged, ResidentRequest.Resolved,
                                   Alert.Escalated, Monitoring.ReportMissed,
                                   Monitoring.Escalated)
"""The events that may call for messages (the notifier reads only these from the log)."""
STALE = timedelta(days=1)
"""A cause older than this when the notifier reads it queues nothing (a notifier started on
an old store does not text residents about last month)."""


def _zh(label: str) -> str:
    return label.split(" ")[0]


def _local(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%m月%d日%H:%M")


class NotificationCommands(DeliveryCommands, RequestCommands, AlertCommands):
    notify_policy: NotifyPolicy = DEFAULT_NOTIFY_POLICY

    # ---- people's commands ---------------------------------------------------------------

    @command
    def post_notice(self, scope: str, text: str, *, by: Actor, reference: str | None = None,
                    category: Category = Category.NOTICE, urgent: bool = False) -> int | None:
        """公告: a notice to every household of ``scope`` (its chat groups, and each household
        by text or, without a smartphone, by its worker's call). The same ``reference`` posts
        it once; without one, the same text at the same scope and minute does. An ``urgent``
        one (紧急公告) is sent at once, in the quiet hours too."""
        now = self.clock()
        self.node(scope).require_active()
        ref = reference or f"{scope}|{now:%Y-%m-%dT%H:%M}|{text.strip()}"
        notice = Notice.post(ref, scope, text, category, staff_of(by), now, urgent)
        if self._find(Notice, notice.id) is not None:
            return None
        check_names_absent(notice.text, (r.identity.name
                                         for h in self.households_in(scope, for_reading=True)
                                         for r in h.residents.values()))
        return self._save(notice)

    @command
    def set_opt_out(self, hid: UUID, rid: UUID, category: Category, out: bool, *,
                    by: Actor) -> int | None:
        """A resident refuses (or accepts again) service reminders or education (宣传); the
        measures imposed on them and official notices cannot be refused."""
        h = self.household(hid)
        if rid not in h.residents:
            raise NotFound(f"No resident {rid} in household {h.household_no}.",
                           "Check the resident id.")
        recipient = resident(hid, rid)
        box = self._find(Mailbox, mailbox_id(recipient)) or Mailbox.open(recipient, self.clock())
        box.opt(category, out, self.clock())
        return self._save(box)

    @command
    def record_call(self, message: UUID, hid: UUID, *, by: Actor) -> int | None:
        """The worker called the resident of a call-list message (电话通知)."""
        m = self.message(message)
        if m.recipient.household_id != hid:
            raise InvalidInput("The message is not for that household.",
                               "Give the household of the resident called.")
        now = self.clock()
        micro_grid = self.household(hid).micro_grid
        calls = self._get(CallList, call_list_id(micro_grid), f"call list of {micro_grid}",
                          "Nothing is on that micro-grid's call list.")
        by_staff = staff_of(by)
        assert by_staff is not None  # staff only (gridcore.authority)
        calls.done(m.id, by_staff, now)
        m.called(by_staff, now)
        return self._save(m, calls)

    # ---- the notifier's and the sender's commands ----------------------------------------

    @command
    def notify_of(self, event: Event, *, by: Actor) -> int:
        """Queue the messages ``event`` calls for (none already queued for it); returns how
        many were queued."""
        now = self.clock()
        if now - event.timestamp > STALE:
            return 0
        cause = f"event:{event_id(event.originator_id, event.originator_version)}"
        changed: dict[UUID, Aggregate] = {}  # a call list or mailbox several messages share
        for recipient, channel, template, variables, category in self._messages_for(event):
            self._queue(cause, recipient, channel, template, variables, category, now, changed)
        self._save(*changed.values())
        return sum(isinstance(a, Message) for a in changed.values())

    @command
    def attempt_message(self, message: UUID, *, by: Actor) -> int:
        """Record an attempt before the network call; returns its number."""
        m = self.message(message)
        n = m.attempt(self.clock())
        self._save(m)
        return n

    @command
    def record_sent(self, message: UUID, receipt: str, delivered: bool, *,
                    by: Actor) -> int | None:
        m = self.message(message)
        m.sent(self.clock(), receipt[:200], delivered)
        return self._save(m)

    @command
    def record_send_failure(self, message: UUID, reason: str, permanent: bool, *,
                            by: Actor) -> int | None:
        m = self.message(message)
        m.failed(self.clock(), reason, permanent, self.notify_policy)
        return self._save(m)

    @command
    def record_receipt(self, message: UUID, delivered: bool, receipt: str = "",
                       reason: str = "", *, by: Actor) -> int | None:
        """An SMS gateway's delivery receipt for a sent text (``message`` is the message id
        the gateway was given): delivered, or failed for ``reason``. The same receipt again
        writes nothing."""
        m = self.message(message)
        receipt = free_text(receipt, "receipt", longest=200)
        reason = free_text(reason, "reason", longest=200)
        if not m.receipt(self.clock(), delivered, receipt, reason):
            return None
        return self._save(m)

    # ---- queries -------------------------------------------------------------------------

    def message(self, mid: UUID) -> Message:
        return self._get(Message, mid, f"message {mid}", "Check the message id.")

    def messages(self, ids: Sequence[UUID]) -> list[Message]:
        found = (self._find(Message, m, for_reading=True) for m in ids)
        return [m for m in found if m is not None]

    def call_list(self, micro_grid: str) -> list[Message]:
        """The open messages of a micro-grid's call list, oldest first."""
        node = self.node(micro_grid)
        if node.level is not Level.MICRO_GRID:
            raise InvalidInput(f"{micro_grid} ({node.name}) is a {node.level.label}, not a "
                               "micro-grid.", "A call list (电话通知名单) belongs to a micro-grid "
                               "(微网格): give the code of one of its micro-grids.")
        calls = self._find(CallList, call_list_id(micro_grid), for_reading=True)
        return self.messages(list(calls.open)) if calls else []

    def mailbox(self, recipient: Recipient) -> Mailbox | None:
        return self._find(Mailbox, mailbox_id(recipient), for_reading=True)

    # ---- the rules: which event calls for which messages ---------------------------------

    Planned = tuple[Recipient, Channel, Template, dict[str, str], Category | None]

    def _messages_for(self, event: Event) -> list[Planned]:
        match event:
            case Notice.Posted():
                return self._notice_messages(event)
            case Delivery.Dispatched():
                d = self.delivery(event.originator_id)
                if d.household_id is None:
                    return []
                return self._to_household(d.household_id, Template.DELIVERY_COMING,
                                          {"due": _local(event.due)})
            case TestingCampaign.Launched():
                names = {s.site_id: s.name for s in event.sites}
                return [p for a in event.assignments if a.site_id and a.slot
                        for p in self._to_household(a.household_id, Template.TEST_SLOT_BOOKED,
                                                    {"site": names.get(a.site_id, a.site_id),
                                                     "slot": _local(a.slot)})]
            case Household.MeasureChanged() if (event.measure is Measure.NONE
                                                and event.previous in ENDED):
                return self._to_resident(event.originator_id, event.resident_id,
                                         Template.QUARANTINE_ENDS,
                                         {"measure": _zh(event.previous.label),
                                          "at": _local(event.timestamp)})
            case ResidentRequest.Resolved():
                r = self.request(event.originator_id)
                if r.household_id is None:
                    return []
                variables = {"number": r.number}
                if r.resident_id is not None:
                    return self._to_resident(r.household_id, r.resident_id,
                                             Template.REQUEST_ANSWERED, variables)
                return self._to_household(r.household_id, Template.REQUEST_ANSWERED, variables)
            case Alert.Escalated():
                return self._alert_messages(event)
            case Monitoring.ReportMissed():
                return self._report_missed_messages(event)
            case Monitoring.Escalated() if event.to_code is not None:
                return self._monitoring_escalated_messages(event)
        return []

    def _notice_messages(self, event: Notice.Posted) -> list[Planned]:
        name = self.node(event.scope).name
        variables = {"scope_name": name, "text": event.text}
        template = Template.URGENT_NOTICE if event.urgent else Template.NOTICE
        out: list[NotificationCommands.Planned] = [
            (group(g.code), Channel.WECOM_GROUP, template, variables, event.category)
            for g in self.micro_grids(event.scope)]
        for h in self.households_in(event.scope, for_reading=True):
            out += self._to_household(h.id, template, variables, event.category)
        return out

    def _alert_messages(self, event: Alert.Escalated) -> list[Planned]:
        alert = self.alert(event.originator_id)
        variables = {"kind": _zh(alert.kind.label), "place": self.node(alert.grid_code).name,
                     "level": _zh(event.to_level.label), "deadline": _local(event.deadline)}
        return self._to_node_staff(event.to_code, Template.ALERT_ESCALATED, variables)

    def _report_missed_messages(self, event: Monitoring.ReportMissed) -> list[Planned]:
        """A missed report (健康监测漏报): a reminder to the resident (their channel: a text,
        or their worker's call list) while monitoring goes on and they have not reported since
        the deadline, and a duty message to the micro-grid's responsible worker."""
        m = self._monitoring_for_message(event.originator_id)
        out: list[NotificationCommands.Planned] = []
        if m.active and not any(r.taken_at > event.deadline for r in m.reports):
            grace = event.deadline - event.due
            after = [d + grace for d in m.due if d + grace > event.timestamp]
            due = after[0] if after else event.timestamp + timedelta(
                hours=self.policy_at(event.timestamp).monitoring_escalation_hours)
            out += self._to_resident(m.household_id, m.resident_id, Template.REPORT_DUE,
                                     {"due": _local(due)})
        if event.worker_id is not None:
            out += self._to_staff([event.worker_id], Template.REPORT_MISSED,
                                  {**self._named_for_staff(m), "due": _local(event.due)})
        return out

    def _monitoring_escalated_messages(self, event: Monitoring.Escalated) -> list[Planned]:
        """An overdue report escalated a level: to the staff of that level's node, urgent."""
        assert event.to_code is not None and event.to_level is not None
        m = self._monitoring_for_message(event.originator_id)
        deadline = event.escalates_at or event.timestamp
        variables = {**self._named_for_staff(m), "since": _local(event.since),
                     "level": _zh(event.to_level.label), "deadline": _local(deadline)}
        return self._to_node_staff(event.to_code, Template.MONITORING_ESCALATED, variables)

    def _monitoring_for_message(self, mid: UUID) -> Monitoring:
        return self._get(Monitoring, mid, f"monitoring {mid}", "Check the monitoring id.")

    def _named_for_staff(self, m: Monitoring) -> dict[str, str]:
        """Who a staff message about a monitored resident names: the micro-grid and the
        resident's masked name (``张*``, what every staff role may see; a message outlives an
        erasure, so never the whole name, a phone, an address or a reading)."""
        h = self.household(m.household_id)
        r = h.residents.get(m.resident_id)
        name = r.identity.name if r is not None and not r.erased else None
        return {"place": self.node(h.micro_grid).name,
                "name": mask_name(name) if name else "某*"}

    def _to_node_staff(self, code: str, template: Template,
                       variables: dict[str, str]) -> list[Planned]:
        """The active staff of node ``code`` whose roles are ``ALERTED``."""
        node = self.node(code)
        return self._to_staff([sid for sid in node.staff if self.staff(sid).role in ALERTED],
                              template, variables)

    def _to_staff(self, sids: Sequence[UUID], template: Template,
                  variables: dict[str, str]) -> list[Planned]:
        """Each active staff member of ``sids`` by text, or by mail without a phone."""
        out: list[NotificationCommands.Planned] = []
        for sid in sids:
            s = self.staff(sid)
            if s.active:
                channel = Channel.SMS if s.phone is not None else Channel.EMAIL
                out.append((staff_recipient(sid), channel, template, variables, None))
        return out

    def _to_household(self, hid: UUID, template: Template, variables: dict[str, str],
                      category: Category | None = None) -> list[Planned]:
        """The household's contact: its first resident who can be texted, else its first
        resident, on the worker's call list."""
        h = self.household(hid)
        today = self.clock().date()
        reachable = [(rid, resident_channel(h.vulnerabilities(rid, today),
                                            r.identity.phone is not None))
                     for rid, r in h.residents.items() if not r.erased]
        if not reachable:
            return []
        rid, channel = next(((r, c) for r, c in reachable if c is Channel.SMS), reachable[0])
        return [(resident(hid, rid), channel, template, variables, category)]

    def _to_resident(self, hid: UUID, rid: UUID, template: Template,
                     variables: dict[str, str]) -> list[Planned]:
        h = self.household(hid)
        r = h.residents.get(rid)
        if r is None or r.erased:
            return []
        channel = resident_channel(h.vulnerabilities(rid, self.clock().date()),
                                   r.identity.phone is not None)
        return [(resident(hid, rid), channel, template, variables, None)]

    def _queue(self, cause: str, recipient: Recipient, channel: Channel, template: Template,
               variables: dict[str, str], category: Category | None, now: datetime,
               changed: dict[UUID, Aggregate]) -> None:
        mid = message_id(cause, recipient, channel)
        if mid in changed or self._find(Message, mid, for_reading=True) is not None:
            return
        spec = TEMPLATES[template]
        kind = category or spec.category
        bid = mailbox_id(recipient)
        box = changed.get(bid) or self._find(Mailbox, bid) or Mailbox.open(recipient, now)
        assert isinstance(box, Mailbox)
        if not box.accepts(kind):
            return
        text = render(template, variables)
        if channel is Channel.CALL_LIST:
            assert recipient.household_id is not None
            grid = self.household(recipient.household_id).micro_grid
            cid = call_list_id(grid)
            calls = changed.get(cid) or self._find(CallList, cid) or CallList.start(grid, now)
            assert isinstance(calls, CallList)
            calls.add(mid, recipient.household_id, now)
            changed[cid] = calls
            changed[mid] = Message.queue(cause, recipient, channel, template, text, kind, now,
                                         now)
            return
        earliest = earliest_send(now, spec.urgent, recipient, self.notify_policy)
        send_at = box.slot(mid, earliest, spec.urgent, self.notify_policy, now)
        changed[bid] = box
        changed[mid] = Message.queue(cause, recipient, channel, template, text, kind, send_at,
                                     now)
