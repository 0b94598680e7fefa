"""Alert cameras at sealed-off doors (门磁/门禁摄像头): Qingdao West Coast put 14 full-colour
cameras with AI human-presence detection around quarantined homes.

A camera is registered at one household's door or at a building entrance, in a grid node. The
rules are pure: a detection alerts only when someone of the household (at a building entrance:
of any household of the building) is under home quarantine at the detection's time and the
confidence reaches the policy's threshold; one camera's detections within the policy's window
of an alert's first detection are that one alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from gridcore.base import Created, Event, stable_id
from gridcore.errors import InvalidInput
from gridcore.location import Locatable, Placed
from gridcore.policy import Policy
from gridcore.risk import check_input_id
from gridcore.status import Measure


def camera_id(code: str) -> UUID:
    return stable_id("camera", code)


class Direction(StrEnum):
    IN = "in"
    OUT = "out"

    @property
    def label(self) -> str:
        return {"in": "进入 in", "out": "外出 out"}[self.value]


# ---- rules -------------------------------------------------------------------------------------

def check_confidence(confidence: float) -> None:
    """A detection's confidence is a number from 0 to 1."""
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not (
            0.0 <= confidence <= 1.0):
        raise InvalidInput(f"Confidence {confidence!r} is outside 0..1.",
                           "Send the detector's confidence as a number from 0 to 1, e.g. 0.93.")


def under_home_quarantine(changes: Iterable[tuple[datetime, UUID, Measure]],
                          at: datetime) -> bool:
    """Whether some resident is under home quarantine (居家隔离) at ``at``, given the measure
    changes (time, resident, new measure) of the household(s) in any order: each resident's
    latest change at or before ``at`` decides."""
    latest: dict[UUID, tuple[datetime, Measure]] = {}
    for when, resident, measure in changes:
        if when <= at and (resident not in latest or latest[resident][0] <= when):
            latest[resident] = (when, measure)
    return any(m is Measure.HOME_QUARANTINE for _, m in latest.values())


def detection_alerts(confidence: float, quarantined: bool, policy: Policy) -> bool:
    """A detection alerts when someone is under home quarantine and the confidence reaches
    the policy's camera_confidence_threshold."""
    check_confidence(confidence)
    return quarantined and confidence >= policy.camera_confidence_threshold


def window_alert(alerts: Sequence[tuple[datetime, UUID]], at: datetime,
                 policy: Policy) -> UUID | None:
    """The camera's alert a detection at ``at`` belongs to: the one whose first detection is
    less than the policy's camera_window_minutes away (the nearest, the earlier on a tie), or
    None when the detection starts a new alert. So two alerts of one camera always start a
    window or more apart, whatever order the detections arrive in."""
    near = alerts_near(alerts, at, policy)
    return near[0] if near else None


def alerts_near(alerts: Sequence[tuple[datetime, UUID]], at: datetime,
                policy: Policy) -> list[UUID]:
    """The camera's alerts whose first detection is less than the window away from ``at``,
    nearest first (a redelivered detection is looked for in all of them)."""
    window = timedelta(minutes=policy.camera_window_minutes)
    near = sorted((abs(at - start), start, str(aid), aid) for start, aid in alerts
                  if abs(at - start) < window)
    return [n[3] for n in near]


def group_detections(times: Iterable[datetime], policy: Policy) -> list[list[datetime]]:
    """The alerts that detections arriving in this order make (each the list of its
    detections' times, first detection first): the rule ``window_alert`` applied in turn."""
    alerts: list[tuple[datetime, UUID]] = []
    groups: dict[UUID, list[datetime]] = {}
    for n, at in enumerate(times):
        found = window_alert(alerts, at, policy)
        if found is None:
            found = stable_id("group", str(n))
            alerts.append((at, found))
            groups[found] = []
        groups[found].append(at)
    return [groups[aid] for _, aid in alerts]


# ---- the camera --------------------------------------------------------------------------------

class Camera(Locatable):
    code: str
    grid_code: str
    household_id: UUID | None
    building_id: UUID | None
    alerts: list[tuple[datetime, UUID]]

    class Located(Placed):
        """The camera's point."""

    class Registered(Created):
        code: str
        grid_code: str
        household_id: UUID | None = None
        building_id: UUID | None = None

        def apply(self, c: Camera) -> None:
            c.code, c.grid_code = self.code, self.grid_code
            c.household_id, c.building_id, c.alerts = self.household_id, self.building_id, []

    class AlertOpened(Event):
        """An alert of this camera began with a detection at ``first_at``."""

        alert_id: UUID
        first_at: datetime

        def apply(self, c: Camera) -> None:
            c.alerts.append((self.first_at, self.alert_id))

    @classmethod
    def register(cls, code: str, grid_code: str, household_id: UUID | None,
                 building_id: UUID | None, at: datetime) -> Camera:
        check_input_id(code, "camera")
        if (household_id is None) == (building_id is None):
            raise InvalidInput(f"Camera {code} must watch one household door or one building "
                               "entrance.", "Give household_id or building_id, not both.")
        return cls._create(cls.Registered, camera_id(code), at, code=code, grid_code=grid_code,
                           household_id=household_id, building_id=building_id)

    def same_as(self, grid_code: str, household_id: UUID | None,
                building_id: UUID | None) -> bool:
        return (self.grid_code, self.household_id, self.building_id) == (
            grid_code, household_id, building_id)

    def open_alert(self, alert_id: UUID, first_at: datetime, at: datetime) -> None:
        self._trigger(self.AlertOpened, at, alert_id=alert_id, first_at=first_at)

    @property
    def label(self) -> str:
        return f"摄像头 camera {self.code}" + (" (楼栋入口 building entrance)"
                                              if self.building_id else " (户门 door)")

    def __repr__(self) -> str:
        return f"Camera(code={self.code!r}, grid={self.grid_code!r})"
