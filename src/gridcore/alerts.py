"""Alerts (告警): a camera saw someone at a quarantined door, or a car that visited a high-risk
area passed a checkpoint.

An alert is raised to the responsible grid worker (网格员) of the camera's or checkpoint's grid
with an acknowledgement deadline (policy ``alert_acknowledge_minutes``, counted from when the
alert is raised). Not acknowledged (签收) in time, ``tick`` escalates it one level up the grid
(micro-grid -> community -> street -> district -> city) with a new deadline at that level; at
the top no further deadline runs. Acknowledged, it waits to be resolved (处置): a false alarm
(误报), or a breach confirmed with the action taken (确认违规并处置).

An alert's id derives from the id of the input that raised it (the first detection, or the
pass), so a message delivered twice makes one alert. The ``AlertDesk`` of a grid code lists
the alerts awaiting acknowledgement with their deadlines, read by ``tick``; the
``AlertDirectory`` lists the desks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.camera import Direction
from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.grid import Level
from gridcore.policy import Policy
from gridcore.text import refuse_personal_numbers

ALERT_DIRECTORY_ID = stable_id("alert-directory", "all")
MAX_TEXT = 300


def alert_id_for(kind: str, input_id: str) -> UUID:
    """The alert an input raises (uuid5 of the kind and the input's own id): the same input
    always names the same alert."""
    return stable_id(f"alert-{kind}", input_id)


def alert_desk_id(grid_code: str) -> UUID:
    return stable_id("alert-desk", grid_code)


class AlertKind(StrEnum):
    CAMERA = "camera"
    VEHICLE = "vehicle"

    @property
    def label(self) -> str:
        return {"camera": "门禁摄像头 camera", "vehicle": "车辆疫查 vehicle"}[self.value]


class AlertState(StrEnum):
    RAISED = "raised"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return {"raised": "待签收 raised", "acknowledged": "已签收 acknowledged",
                "resolved": "已处置 resolved"}[self.value]


class Outcome(StrEnum):
    FALSE_ALARM = "false_alarm"
    BREACH_CONFIRMED = "breach_confirmed"

    @property
    def label(self) -> str:
        return {"false_alarm": "误报 false alarm",
                "breach_confirmed": "确认违规 breach confirmed"}[self.value]


# ---- rules -------------------------------------------------------------------------------------

def acknowledge_deadline(at: datetime, policy: Policy) -> datetime:
    """An alert raised at ``at`` is to be acknowledged within alert_acknowledge_minutes."""
    return at + timedelta(minutes=policy.alert_acknowledge_minutes)


def is_due(state: AlertState, deadline: datetime | None, now: datetime) -> bool:
    """An alert escalates when it still awaits acknowledgement and its deadline has passed."""
    return state is AlertState.RAISED and deadline is not None and deadline < now


def check_resolution(outcome: Outcome, action: str) -> str:
    """A confirmed breach says what was done (劝返, 通知社区民警...); a false alarm may add a
    note. Either is at most 300 characters."""
    text = (action or "").strip()
    if outcome is Outcome.BREACH_CONFIRMED and not text:
        raise InvalidInput("A confirmed breach needs the action taken.",
                           "Say what was done, e.g. '劝返回家 persuaded back home, 通知社区民警'.")
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"The action is {len(text)} characters long.",
                           f"Say it in at most {MAX_TEXT} characters.")
    refuse_personal_numbers(text, "action taken")
    return text


def check_state(state: AlertState, step: str) -> None:
    """raised -> acknowledged -> resolved; a raised alert may also be resolved at once."""
    allowed = {"acknowledge": {AlertState.RAISED},
               "resolve": {AlertState.RAISED, AlertState.ACKNOWLEDGED}}[step]
    if state not in allowed:
        raise ForbiddenTransition(f"The alert is {state.label}; it cannot be {step}d.",
                                  "Look at the alert's state first (it was handled already).")


# ---- the alert ---------------------------------------------------------------------------------

class Alert(Aggregate):
    kind: AlertKind
    source: str
    grid_code: str
    owner_code: str
    level: Level
    assignee: UUID | None
    reason: str
    first_at: datetime
    raised_at: datetime
    deadline: datetime | None
    state: AlertState
    inputs: set[str]
    detections: int
    plate: str | None
    household_id: UUID | None
    building_id: UUID | None
    escalations: int
    acknowledged_by: UUID | None
    outcome: Outcome | None
    action: str

    class Raised(Created):
        kind: AlertKind
        source: str
        input_id: str
        grid_code: str
        level: Level
        assignee: UUID | None
        reason: str
        first_at: datetime
        deadline: datetime
        plate: str | None = None
        household_id: UUID | None = None
        building_id: UUID | None = None
        direction: Direction | None = None
        confidence: float | None = None

        def apply(self, a: Alert) -> None:
            a.kind, a.source, a.grid_code, a.owner_code = (
                self.kind, self.source, self.grid_code, self.grid_code)
            a.level, a.assignee, a.reason = self.level, self.assignee, self.reason
            a.first_at, a.raised_at, a.deadline = self.first_at, self.timestamp, self.deadline
            a.state, a.inputs, a.detections = AlertState.RAISED, {self.input_id}, 1
            a.plate, a.household_id, a.building_id = (
                self.plate, self.household_id, self.building_id)
            a.escalations, a.acknowledged_by, a.outcome, a.action = 0, None, None, ""

    class DetectionAttached(Event):
        """A later detection of the same camera within the window: part of this alert."""

        detection_id: str
        detected_at: datetime
        direction: Direction
        confidence: float

        def apply(self, a: Alert) -> None:
            a.inputs.add(self.detection_id)
            a.detections += 1

    class Escalated(Event):
        from_code: str
        to_code: str
        to_level: Level
        missed_deadline: datetime
        deadline: datetime

        def apply(self, a: Alert) -> None:
            a.owner_code, a.level, a.deadline = self.to_code, self.to_level, self.deadline
            a.escalations += 1

    class DeadlineMissed(Event):
        """The deadline passed at the top level (the city): recorded once; none runs after."""

        missed_deadline: datetime

        def apply(self, a: Alert) -> None:
            a.deadline = None

    class Acknowledged(Event):
        by: UUID

        def apply(self, a: Alert) -> None:
            a.state, a.acknowledged_by, a.deadline = AlertState.ACKNOWLEDGED, self.by, None

    class Resolved(Event):
        by: UUID
        outcome: Outcome
        action: str

        def apply(self, a: Alert) -> None:
            a.state, a.outcome, a.action, a.deadline = (
                AlertState.RESOLVED, self.outcome, self.action, None)

    @classmethod
    def raise_alert(cls, aid: UUID, kind: AlertKind, source: str, input_id: str,
                    grid_code: str, level: Level, assignee: UUID | None, reason: str,
                    first_at: datetime, policy: Policy, at: datetime,
                    **details: object) -> Alert:
        return cls._create(cls.Raised, aid, at, kind=kind, source=source, input_id=input_id,
                           grid_code=grid_code, level=level, assignee=assignee,
                           reason=reason[:MAX_TEXT], first_at=first_at,
                           deadline=acknowledge_deadline(at, policy), **details)

    def attach(self, detection_id: str, when: datetime, direction: Direction,
               confidence: float, at: datetime) -> bool:
        """Attach a detection of the window; False when it is attached already."""
        if detection_id in self.inputs:
            return False
        self._trigger(self.DetectionAttached, at, detection_id=detection_id, detected_at=when,
                      direction=direction, confidence=confidence)
        return True

    def escalate(self, to_code: str | None, to_level: Level | None, policy: Policy,
                 now: datetime) -> None:
        """One level up with a new deadline; at the top (no parent) the deadline is dropped."""
        assert self.deadline is not None
        if to_code is None or to_level is None:
            self._trigger(self.DeadlineMissed, now, missed_deadline=self.deadline)
            return
        self._trigger(self.Escalated, now, from_code=self.owner_code, to_code=to_code,
                      to_level=to_level, missed_deadline=self.deadline,
                      deadline=acknowledge_deadline(now, policy))

    def acknowledge(self, by: UUID, at: datetime) -> None:
        check_state(self.state, "acknowledge")
        self._trigger(self.Acknowledged, at, by=by)

    def resolve(self, by: UUID, outcome: Outcome, action: str, at: datetime) -> None:
        check_state(self.state, "resolve")
        self._trigger(self.Resolved, at, by=by, outcome=outcome,
                      action=check_resolution(outcome, action))

    @property
    def label(self) -> str:
        return f"{self.kind.label} 告警 {self.state.label}"

    def __repr__(self) -> str:
        return f"Alert(kind={self.kind.value}, state={self.state.value}, id={self.id})"


# ---- the desks ---------------------------------------------------------------------------------

class AlertDesk(Aggregate):
    """A grid's alerts awaiting acknowledgement, each with its current deadline."""

    grid_code: str
    due: dict[UUID, datetime]

    class Started(Created):
        grid_code: str

        def apply(self, d: AlertDesk) -> None:
            d.grid_code, d.due = self.grid_code, {}

    class Tracked(Event):
        alert_id: UUID
        deadline: datetime

        def apply(self, d: AlertDesk) -> None:
            d.due[self.alert_id] = self.deadline

    class Untracked(Event):
        alert_id: UUID

        def apply(self, d: AlertDesk) -> None:
            d.due.pop(self.alert_id, None)

    @classmethod
    def start(cls, grid_code: str, at: datetime) -> AlertDesk:
        return cls._create(cls.Started, alert_desk_id(grid_code), at, grid_code=grid_code)

    def track(self, alert_id: UUID, deadline: datetime | None, at: datetime) -> None:
        if deadline is None:
            self.untrack(alert_id, at)
        elif self.due.get(alert_id) != deadline:
            self._trigger(self.Tracked, at, alert_id=alert_id, deadline=deadline)

    def untrack(self, alert_id: UUID, at: datetime) -> None:
        if alert_id in self.due:
            self._trigger(self.Untracked, at, alert_id=alert_id)

    def past_due(self, now: datetime) -> list[UUID]:
        return sorted((a for a, due in self.due.items() if due < now), key=str)


class AlertDirectory(Aggregate):
    """The grid codes that have an alert desk (so that a tick finds them all)."""

    codes: list[str]

    class Started(Created):
        def apply(self, d: AlertDirectory) -> None:
            d.codes = []

    class Added(Event):
        grid_code: str

        def apply(self, d: AlertDirectory) -> None:
            d.codes.append(self.grid_code)

    @classmethod
    def start(cls, at: datetime) -> AlertDirectory:
        return cls._create(cls.Started, ALERT_DIRECTORY_ID, at)

    def add(self, grid_code: str, at: datetime) -> None:
        if grid_code not in self.codes:
            self._trigger(self.Added, at, grid_code=grid_code)
