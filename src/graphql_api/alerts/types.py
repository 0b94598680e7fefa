"""Camera and vehicle alerts (告警), their escalations, and checkpoint statistics (卡口), from
the alerts board read model."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import AlertKind, AlertState, Level, _mirrors
from graphql_api.grid.types import GridNode
from graphql_api.relay import Node
from gridcore import alerts, camera, grid, risk
from projections import alerts_board
from projections.alerts_board import OpenAlert


def level_of(value: int) -> tuple[Level, str]:
    lv = grid.Level(int(value))
    return Level(lv.name.lower()), lv.label


@strawberry.type(description="告警 an open alert: where it was raised, who owns it now and "
                             "its deadline to be acknowledged.")
class Alert(Node):
    id: strawberry.ID
    kind: AlertKind
    kind_label: str
    source: str = strawberry.field(description="The camera or checkpoint id.")
    grid_code: str
    owner_code: str
    level: Level
    level_label: str
    assignee_id: strawberry.ID | None
    state: AlertState
    state_label: str
    first_at: datetime
    raised_at: datetime
    deadline: datetime | None
    escalations: int
    detections: int
    age_minutes: float

    @classmethod
    def from_open(cls, a: OpenAlert) -> Alert:
        level, label = level_of(a.level)
        return cls(id=strawberry.ID(str(a.alert_id)), kind=AlertKind(a.kind.value),
                   kind_label=a.kind.label, source=a.source, grid_code=a.grid_code,
                   owner_code=a.owner_code, level=level, level_label=label,
                   assignee_id=strawberry.ID(str(a.assignee)) if a.assignee else None,
                   state=AlertState(a.state.value), state_label=a.state.label,
                   first_at=a.first_at, raised_at=a.raised_at, deadline=a.deadline,
                   escalations=a.escalations, detections=a.detections,
                   age_minutes=a.age_minutes)

    @strawberry.field(description="The grid node of its camera or checkpoint.")
    async def grid(self, info: Info[Context, None]) -> GridNode | None:
        row = await info.context.loaders.node.load(self.grid_code)
        return GridNode.from_row(row) if row else None


@strawberry.type(description="升级 an alert passed one level up after a missed deadline.")
class AlertEscalation:
    alert_id: strawberry.ID
    from_code: str
    to_code: str
    to_level: Level
    to_level_label: str
    escalated_at: datetime
    missed_deadline: datetime
    state: AlertState
    state_label: str

    @classmethod
    def from_row(cls, r: alerts_board.AlertEscalationRow) -> AlertEscalation:
        level, label = level_of(r.to_level)
        return cls(alert_id=strawberry.ID(r.alert_id), from_code=r.from_code, to_code=r.to_code,
                   to_level=level, to_level_label=label, escalated_at=r.escalated_at,
                   missed_deadline=r.missed_deadline, state=AlertState(r.state),
                   state_label=alerts.AlertState(r.state).label)


@strawberry.type(description="One UTC hour at a checkpoint.")
class CheckpointHour:
    hour: datetime
    passes: int
    alerts: int


@strawberry.type(description="卡口 a vehicle checkpoint and its passes and alerts per hour.")
class Checkpoint:
    id: str
    name: str
    grid_code: str

    @strawberry.field(description="Passes counted and vehicle alerts raised per hour, in order.")
    async def hours(self, info: Info[Context, None]) -> list[CheckpointHour]:
        return [CheckpointHour(hour=h, passes=p, alerts=a)
                for h, p, a in await info.context.loaders.checkpoint_hours.load(self.id)]


# ---- what the mutations take and give back ---------------------------------------------------

@strawberry.enum(description="风险等级 a risk area's level")
class RiskLevel(Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@strawberry.enum(description="进出 which way a camera saw someone go")
class Direction(Enum):
    IN = "in"
    OUT = "out"


_mirrors(RiskLevel, risk.RiskLevel)
_mirrors(Direction, camera.Direction)


@strawberry.type(description="告警摄像头 an alert camera at a household door or a building "
                             "entrance (楼栋入口).")
class Camera:
    id: str
    grid_code: str
    household_id: strawberry.ID | None
    building_id: strawberry.ID | None

    @classmethod
    def of(cls, c: camera.Camera) -> Camera:
        return cls(id=c.code, grid_code=c.grid_code,
                   household_id=strawberry.ID(str(c.household_id)) if c.household_id else None,
                   building_id=strawberry.ID(str(c.building_id)) if c.building_id else None)


@strawberry.input(description="An alert camera watching one household door or one building "
                              "entrance (give householdId or buildingId).")
class RegisterCameraInput:
    camera_id: str
    grid_code: str = strawberry.field(description="The grid of your jurisdiction it is in.")
    household_id: strawberry.ID | None = None
    building_id: strawberry.ID | None = None
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this command: a retry is applied once.")


@strawberry.input(description="卡口 a vehicle checkpoint in a grid of your jurisdiction.")
class RegisterCheckpointInput:
    checkpoint_id: str
    grid_code: str
    name: str
    client_id: str | None = None


@strawberry.input(description="A camera saw someone go in or out.")
class CameraDetectionInput:
    detection_id: str = strawberry.field(description="The detection's own id (applied once).")
    camera_id: str
    at: datetime = strawberry.field(description="When, with its time zone.")
    direction: Direction
    confidence: float = strawberry.field(description="The detector's confidence, 0 to 1.")
    client_id: str | None = None


@strawberry.input(description="A car passed a checkpoint (车辆疫查).")
class VehiclePassInput:
    pass_id: str = strawberry.field(description="The pass's own id (applied once).")
    checkpoint_id: str
    plate: str = strawberry.field(description="车牌 e.g. 鄂A12345.")
    at: datetime
    client_id: str | None = None


@strawberry.input(description="行程记录 a plate's travel record from the external feed.")
class TravelRecordInput:
    record_id: str
    plate: str
    place: str = strawberry.field(description="Where it was, e.g. 武汉市江岸区.")
    at: datetime
    client_id: str | None = None


@strawberry.input(description="Declare an area (a place, or a plate region like 鄂A) high, "
                              "medium or low risk from start (until until, or until lifted).")
class DeclareRiskAreaInput:
    declaration_id: str
    area: str
    level: RiskLevel
    start: datetime
    until: datetime | None = None
    scope_code: str | None = strawberry.field(
        default=None, description="The node of your jurisdiction declaring it (default: your "
                                  "jurisdiction); only an official whose jurisdiction contains "
                                  "it may lift it.")
    client_id: str | None = None


@strawberry.input(description="End a risk-area declaration at a time.")
class LiftRiskAreaInput:
    declaration_id: str
    area: str
    at: datetime
    client_id: str | None = None


@strawberry.type(description="The camera as registered.")
class CameraRegistered:
    notification_id: int | None
    camera: Camera


@strawberry.type(description="The checkpoint as registered.")
class CheckpointRegistered:
    notification_id: int | None
    checkpoint: Checkpoint


@strawberry.type(description="A detection or pass was judged: the alert it raised or joined, "
                             "or none (nothing was written then).")
class SensorInputRecorded:
    notification_id: int | None = strawberry.field(
        description="The log position the read models were caught up to.")
    alerted: bool
    alert: Alert | None = strawberry.field(description="The open alert it is part of.")


@strawberry.type(description="The travel record is on file (or was already).")
class TravelRecorded:
    notification_id: int | None
    record_id: str
    plate: str = strawberry.field(description="The plate as normalised (鄂A12345).")
    place: str
    at: datetime


@strawberry.type(description="风险地区 one risk-area declaration and its period.")
class RiskAreaUpdated:
    notification_id: int | None
    declaration_id: str
    area: str
    level: RiskLevel
    level_label: str
    start: datetime
    until: datetime | None = strawberry.field(description="Its end (or the lift), if any.")
