"""Enterprises resuming work (复工复产) and their open rectifications (整改), from the
enterprise board read model."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.context import Context
from graphql_api.enums import Resumption
from graphql_api.grid.types import GridNode
from gridcore import enterprise


@strawberry.type(description="企业 an enterprise and its resumption status.")
class Enterprise:
    id: strawberry.ID
    credit_code: str
    name: str
    department: str
    location_code: str
    specialist_id: strawberry.ID | None
    status: Resumption
    status_label: str
    employees: int
    inspections: int
    rectified: int

    @classmethod
    def from_row(cls, r: boards.EnterpriseRow) -> Enterprise:
        return cls(id=strawberry.ID(r.enterprise_id), credit_code=r.credit_code, name=r.name,
                   department=r.department, location_code=r.location,
                   specialist_id=strawberry.ID(r.specialist) if r.specialist else None,
                   status=Resumption(r.status),
                   status_label=enterprise.Resumption(r.status).label, employees=r.employees,
                   inspections=r.inspections, rectified=r.rectified)

    @strawberry.field(description="The grid node it is located in.")
    async def location(self, info: Info[Context, None]) -> GridNode | None:
        row = await info.context.loaders.node.load(self.location_code)
        return GridNode.from_row(row) if row else None


@strawberry.type(description="整改 an open rectification and its deadline.")
class Rectification:
    enterprise_id: strawberry.ID
    enterprise_name: str
    location_code: str
    item: str
    label: str
    opened_at: datetime
    deadline: datetime
    overdue: bool = strawberry.field(
        description="Recorded overdue by the tick, or past its deadline now.")


@strawberry.type(description="The enterprises of a subtree in one resumption status.")
class ResumptionCount:
    status: Resumption
    label: str
    count: int
