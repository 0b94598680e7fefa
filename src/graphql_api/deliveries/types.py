"""Deliveries to the door (配送到户), from the delivery board read model."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.context import Context
from graphql_api.enums import DeliveryKind, DeliveryState
from graphql_api.households.types import Household
from gridcore import delivery


@strawberry.type(description="配送 a delivery: an order, a donation or a supply, and where it "
                             "stands.")
class Delivery:
    id: strawberry.ID
    kind: DeliveryKind
    kind_label: str
    ref: str
    desk_code: str
    place_code: str = strawberry.field(
        description="Where the recipient is: the household's micro-grid, the enterprise's "
                    "location, or the desk's scope.")
    state: DeliveryState
    state_label: str
    zone_code: str | None
    attempts: int
    placed_at: datetime
    due: datetime | None
    overdue: bool
    delivered_at: datetime | None
    failed_at: datetime | None
    failure_reason: str | None
    failures: int
    household_id: strawberry.ID | None
    enterprise_id: strawberry.ID | None

    @classmethod
    def from_row(cls, r: boards.DeliveryRow) -> Delivery:
        return cls(id=strawberry.ID(r.delivery_id), kind=DeliveryKind(r.kind),
                   kind_label=delivery.DeliveryKind(r.kind).label, ref=r.ref, desk_code=r.desk,
                   place_code=r.place, state=DeliveryState(r.state),
                   state_label=delivery.DeliveryState(r.state).label, zone_code=r.zone,
                   attempts=r.attempts, placed_at=r.placed_at, due=r.due, overdue=r.overdue,
                   delivered_at=r.delivered_at, failed_at=r.failed_at, failure_reason=r.reason,
                   failures=r.failures,
                   household_id=strawberry.ID(r.household_id) if r.household_id else None,
                   enterprise_id=strawberry.ID(r.enterprise_id) if r.enterprise_id else None)

    @strawberry.field(description="The household it goes to (null for other recipients).")
    async def household(self, info: Info[Context, None]) -> Household | None:
        if self.household_id is None:
            return None
        row = await info.context.loaders.household.load(str(self.household_id))
        return Household.from_row(row) if row else None


@strawberry.type(description="The deliveries of a subtree in one state.")
class DeliveryStateCount:
    state: DeliveryState
    label: str
    count: int
    overdue: int
