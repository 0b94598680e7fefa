"""Staff members of a jurisdiction and their sweep workload. The phone is a personal field:
masked unless the caller's role may see it, and audited when served whole. An erased member
shows '已删除 erased' and their staff number for a name, and no phone."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Role
from graphql_api.grid.queries import WorkloadDay
from graphql_api.grid.types import GridNode
from graphql_api.privacy import phone_for
from graphql_api.relay import Node
from gridcore import staff as staff_domain


@strawberry.type(description="工作人员 a staff member of your jurisdiction.")
class StaffMember(Node):
    id: strawberry.ID
    staff_no: str
    role: Role
    role_label: str
    jurisdiction_code: str = strawberry.field(
        description="The first node of their jurisdiction (where they are listed).")
    jurisdiction_codes: list[str] = strawberry.field(
        description="辖区 every node of their jurisdiction (a grid worker's zones).")
    available: bool = strawberry.field(description="Whether work may be given to them now "
                                                   "(on duty and not deactivated).")
    active: bool = strawberry.field(description="在职 false once deactivated (离职): their "
                                                "tokens are refused.")
    erased: bool = strawberry.field(description="Their name and phone were erased.")
    name: str = strawberry.field(description="姓名 the name, or '已删除 erased (staff no)'.")
    daily_capacity: int
    _phone: strawberry.Private[str | None]

    @classmethod
    def of(cls, member: staff_domain.StaffMember) -> StaffMember:
        return cls(id=strawberry.ID(str(member.id)), staff_no=member.staff_no,
                   role=Role(member.role.value), role_label=member.role.label,
                   jurisdiction_code=member.home,
                   jurisdiction_codes=list(member.jurisdictions), available=member.available,
                   active=member.active, erased=member.erased, name=member.name,
                   daily_capacity=member.daily_capacity, _phone=member.phone)

    @strawberry.field(description="手机号 the phone: whole for roles that call people "
                                  "(officials, duty leads, grid workers, doctors, police; each "
                                  "such read is audited), masked (138****1234) for others.")
    def phone(self, info: Info[Context, None]) -> str | None:
        ctx = info.context
        return phone_for(ctx.caller, ctx.audit, self._phone, "StaffMember.phone", str(self.id))

    @strawberry.field(description="The node of their jurisdiction.")
    async def jurisdiction(self, info: Info[Context, None]) -> GridNode | None:
        row = await info.context.loaders.node.load(self.jurisdiction_code)
        return GridNode.from_row(row) if row else None

    @strawberry.field(description="工作量 their sweep workload per day with any change.")
    async def workload(self, info: Info[Context, None]) -> list[WorkloadDay]:
        days = await info.context.loaders.workload.load(str(self.id))
        return [WorkloadDay.from_row(d) for d in days]
