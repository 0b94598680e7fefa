"""Camera and vehicle alerts (告警), their escalations, and checkpoint statistics (卡口), from
the alerts board read model."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.context import Context
from graphql_api.enums import AlertKind, AlertState, Level
from graphql_api.grid.types import GridNode
from gridcore import alerts, grid
from projections.alerts_board import OpenAlert


def level_of(value: int) -> tuple[Level, str]:
    lv = grid.Level(int(value))
    return Level(lv.name.lower()), lv.label


@strawberry.type(description="告警 an open alert: where it was raised, who owns it now and "
                             "its deadline to be acknowledged.")
class Alert:
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
    def from_row(cls, r: boards.AlertEscalationRow) -> AlertEscalation:
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
