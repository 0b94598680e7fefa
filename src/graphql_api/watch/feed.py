"""Following the event log for subscriptions: new alerts, escalations and overdue items, each
with the grid node it lies at, delivered only to a caller whose jurisdiction holds that node.

Each subscription follows the log from its start position in a thread of its own
(``adapters.polling.subscribe``: polling on SQLite, LISTEN/NOTIFY on PostgreSQL), decodes the
events it watches with the projections' lean decoder (no sealed value is opened), waits for
the read models to apply each one (``runner.wait``) and finds where the item lies from them:

- an alert: its camera's or checkpoint's grid (``alerts_board.alert_grid``);
- a referral: its household's micro-grid (``queries.referral_place``);
- a request: its community (``requests_board.request_community``);
- a delivery: its recipient (household micro-grid, enterprise location or desk scope:
  ``queries.delivery_place``);
- a rectification: its enterprise's location (``enterprise_board.enterprise_location``).

Items are handed to the subscriber's event loop with ``call_soon_threadsafe``. The follower
also watches its subscriber's own staff record: a deactivation or a jurisdiction change of
that member is handed over as ``AccessChanged``, in log order with the items, so the
subscription re-checks the caller before it delivers anything written after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from eventsourcing.utils import get_topic

from gridcore.alerts import Alert
from gridcore.delivery import Delivery
from gridcore.enterprise import Enterprise
from gridcore.referral import Referral
from gridcore.requests import ResidentRequest
from gridcore.staff import StaffMember
from projections import (
    alerts_board,
    enterprise_board,
    grid_rollup,
    queries,
    requests_board,
)
from projections.decode import LeanDecoder


class Stream(StrEnum):
    ALERTS = "alerts"
    ESCALATIONS = "escalations"
    OVERDUE = "overdue"


class Subject(StrEnum):
    ALERT = "alert"
    REFERRAL = "referral"
    REQUEST = "request"
    DELIVERY = "delivery"
    RECTIFICATION = "rectification"


STREAMS: dict[type, tuple[Stream, Subject]] = {
    Alert.Raised: (Stream.ALERTS, Subject.ALERT),
    Alert.Escalated: (Stream.ESCALATIONS, Subject.ALERT),
    Referral.Escalated: (Stream.ESCALATIONS, Subject.REFERRAL),
    ResidentRequest.Escalated: (Stream.ESCALATIONS, Subject.REQUEST),
    Alert.DeadlineMissed: (Stream.OVERDUE, Subject.ALERT),
    Referral.BecameOverdue: (Stream.OVERDUE, Subject.REFERRAL),
    ResidentRequest.DeadlineMissed: (Stream.OVERDUE, Subject.REQUEST),
    Delivery.Overdue: (Stream.OVERDUE, Subject.DELIVERY),
    Enterprise.RectificationOverdue: (Stream.OVERDUE, Subject.RECTIFICATION),
}

PLACES: dict[Subject, Callable[[Any, str], str | None]] = {
    Subject.ALERT: alerts_board.alert_grid,
    Subject.REFERRAL: queries.referral_place,
    Subject.REQUEST: requests_board.request_community,
    Subject.DELIVERY: queries.delivery_place,
    Subject.RECTIFICATION: enterprise_board.enterprise_location,
}
"""Where an item of each subject lies, read from the read models (by the subject's id)."""


@dataclass(frozen=True)
class Item:
    """One watched event, where it lies, and what a subscriber is told of it (codes, ids,
    times: nothing personal)."""

    stream: Stream
    subject: Subject
    notification_id: int
    subject_id: str
    place: str
    at: datetime
    event: Any


ACCESS_EVENTS = (StaffMember.Deactivated, StaffMember.JurisdictionChanged)
"""Changes of a subscriber's own staff record that change what they may follow."""


@dataclass(frozen=True)
class AccessChanged:
    """The subscriber was deactivated or moved (the event's notification id)."""

    notification_id: int


def topics_of(streams: set[Stream], access: bool = False) -> list[str]:
    found = {get_topic(cls) for cls, (s, _) in STREAMS.items() if s in streams}
    if access:
        found.update(get_topic(cls) for cls in ACCESS_EVENTS)
    return sorted(found)


def place_of(views: Any, subject: Subject, subject_id: str, event: Any) -> str | None:
    if isinstance(event, Alert.Raised):
        return str(event.grid_code)
    return PLACES[subject](views, subject_id)


class Follower:
    """Follows the log after ``after`` in a daemon thread; hands each item of ``streams``
    whose place lies under one of ``jurisdictions`` to ``deliver`` (``None`` when it stops),
    and, with a ``staff_id``, an ``AccessChanged`` for each deactivation or move of that
    member; a move recorded after ``known_at`` (the log position ``jurisdictions`` were read
    at) changes the jurisdiction the next items are judged by, in log order."""

    def __init__(self, app: Any, runner: Any, views: Any, jurisdictions: Sequence[str],
                 streams: set[Stream], after: int,
                 deliver: Callable[[Item | AccessChanged | None], None],
                 staff_id: str | None = None, known_at: int = 0) -> None:
        from adapters.polling import subscribe

        self.app, self.runner, self.views = app, runner, views
        self.jurisdictions, self.streams, self.deliver = (
            tuple(jurisdictions), streams, deliver)
        self.staff_id, self.known_at = staff_id, known_at
        self.decoder = LeanDecoder(app.mapper)
        self.subscription = subscribe(app.recorder, gt=after,
                                      topics=topics_of(streams, staff_id is not None))
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="api-watch", daemon=True)

    def start(self) -> Follower:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        self.subscription.stop()

    def _run(self) -> None:
        try:
            for n in self.subscription:
                if self._stopped.is_set():
                    break
                item = self._item(n)
                if item is not None:
                    self.deliver(item)
        finally:
            self.subscription.stop()
            self.deliver(None)

    def _item(self, n: Any) -> Item | AccessChanged | None:
        [(nid, _, event)] = self.decoder.decode_all(
            [(n.id, n.originator_id, n.originator_version, n.topic, n.state)])
        if isinstance(event, ACCESS_EVENTS):
            if str(event.originator_id) != self.staff_id:
                return None
            if isinstance(event, StaffMember.JurisdictionChanged) and nid > self.known_at:
                self.jurisdictions = tuple(event.jurisdictions)
            return AccessChanged(int(nid))
        kind = STREAMS.get(type(event))
        if kind is None or kind[0] not in self.streams:
            return None
        self.runner.wait(nid)  # the read models know where it lies
        sid = str(event.originator_id)
        place = place_of(self.views, kind[1], sid, event)
        if place is None:
            return None
        chain = grid_rollup.chains(self.views, [place])[place]
        if not any(j in chain for j in self.jurisdictions):
            return None
        return Item(kind[0], kind[1], int(nid), sid, place, event.timestamp, event)
