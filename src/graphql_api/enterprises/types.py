"""Enterprises resuming work (复工复产) and their open rectifications (整改), from the
enterprise board read model."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Resumption
from graphql_api.grid.types import GridNode
from graphql_api.relay import Node
from gridcore import enterprise
from projections import enterprise_board


@strawberry.type(description="企业 an enterprise and its resumption status.")
class Enterprise(Node):
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
    def from_row(cls, r: enterprise_board.EnterpriseRow) -> Enterprise:
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


# ---- what the mutations take ------------------------------------------------------------------

@strawberry.input(description="企业登记 an enterprise at its grid location, with its one "
                              "specialist (对口负责).")
class RegisterEnterpriseInput:
    credit_code: str = strawberry.field(description="统一社会信用代码 (registered once).")
    name: str
    department: str = strawberry.field(description="The supervising department (商务局...).")
    location_code: str = strawberry.field(description="A grid node of your jurisdiction.")
    specialist_id: strawberry.ID = strawberry.field(
        description="An available enterprise specialist (企业服务专员) of your jurisdiction.")
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this command: a retry is applied once.")


@strawberry.input(description="Make another specialist the enterprise's one specialist.")
class AssignSpecialistInput:
    enterprise_id: strawberry.ID
    specialist_id: strawberry.ID
    client_id: str | None = None


@strawberry.input(description="复工备案 a resumption filing: the checklist items in place.")
class FileResumptionInput:
    enterprise_id: strawberry.ID
    items: list[str] = strawberry.field(
        description="The guide's checklist items in place (the policy in force lists them).")
    employees: int = strawberry.field(description="Employees returning to work.")
    note: str = ""
    client_id: str | None = None


@strawberry.input(description="员工健康申报 the employees' health declaration: counts only.")
class DeclareEmployeeHealthInput:
    enterprise_id: strawberry.ID
    declared: int = strawberry.field(description="Employees who declared.")
    symptomatic: int = strawberry.field(default=0, description="Of those, how many are ill.")
    client_id: str | None = None
