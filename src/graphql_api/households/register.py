"""The register (户籍台账): buildings, households and their members, vulnerabilities, test
results and erasure.

Each acts as the signed-in staff member on a community, micro-grid or household of their
jurisdiction (one elsewhere is answered as if it did not exist), accepts a ``clientId`` so a
retry is applied once, and returns the household read back (read your own writes) or typed
problems. The domain names no actor for these commands, so the roles below decide who may.
Names, phones, ID numbers and addresses sent are never quoted back: the household's fields
mask them by role.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Vulnerability
from graphql_api.households.types import Household
from graphql_api.pipeline import Call, ClientId, run_mutation
from graphql_api.problems import result
from graphql_api.reach import an_id, household, nodes
from gridcore import household as household_domain
from gridcore.application import new_member
from gridcore.authority import ERASERS, MARKERS, REGISTRARS, TESTERS
from gridcore.building import building_id
from gridcore.household import household_id

T = TypeVar("T")

@strawberry.type(description="The register was changed (or had been, under this clientId).")
class HouseholdChanged:
    notification_id: int | None
    household: Household | None


@strawberry.type(description="The building was registered (or had been, under this clientId).")
class BuildingRegistered:
    notification_id: int | None
    id: strawberry.ID
    community_code: str
    number: str


HouseholdAdminResult = result("HouseholdAdminResult", HouseholdChanged)
BuildingResult = result("BuildingResult", BuildingRegistered)


@strawberry.input(description="A member as registered; the name, phone and ID number are "
                              "sealed (encrypted per resident).")
class MemberInput:
    name: str
    phone: str | None = None
    id_number: str | None = None
    birth_year: int | None = None
    vulnerabilities: list[Vulnerability] = strawberry.field(default_factory=list)
    member_no: int | None = strawberry.field(
        default=None, description="The member's number in the household (default: the next "
                                  "free one); the resident id derives from it.")


@strawberry.input
class RegisterBuildingInput:
    community_code: str
    number: str
    name: str = ""
    floors: int = 6
    client_id: ClientId = None


@strawberry.input
class RegisterHouseholdInput:
    household_no: str
    micro_grid_code: str
    address: str
    members: list[MemberInput]
    building_id: strawberry.ID | None = None
    client_id: ClientId = None


@strawberry.input
class MoveHouseholdInput:
    household_id: strawberry.ID
    micro_grid_code: str
    building_id: strawberry.ID | None = None
    address: str | None = None
    client_id: ClientId = None


@strawberry.input
class AddMemberInput:
    household_id: strawberry.ID
    member: MemberInput
    client_id: ClientId = None


@strawberry.input
class RemoveMemberInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    reason: str
    client_id: ClientId = None


@strawberry.input
class MarkVulnerabilityInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    vulnerability: Vulnerability
    present: bool = True
    client_id: ClientId = None


@strawberry.input
class EraseResidentInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    reason: str = strawberry.field(description="The legal reason (e.g. 防控目的已完成).")
    client_id: ClientId = None


@strawberry.input
class RecordTestInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    negative: bool
    taken_at: datetime | None = strawberry.field(
        default=None, description="When the sample was taken (default: now); never later.")
    client_id: ClientId = None


async def household_after(success: type[T], c: Call, nid: int | None,
                          hid: Any = None) -> T:
    """``success`` with the household (the command's target by default) read back."""
    row = await c.ctx.loaders.household.load(str(hid or c.target))
    return success(notification_id=nid,  # type: ignore[call-arg]
                   household=Household.from_row(row) if row else None)


async def _changed(c: Call, nid: int | None) -> HouseholdChanged:
    return await household_after(HouseholdChanged, c, nid)


def _personal(member: MemberInput) -> list[str | None]:
    return [member.name, member.phone, member.id_number]


def _member(household_no: str, number: int, m: MemberInput) -> household_domain.Member:
    return new_member(household_no, number, m.name, m.phone, m.id_number, m.birth_year,
                      [household_domain.Vulnerability(v.value) for v in m.vulnerabilities])


def _of_resident(input: RemoveMemberInput | MarkVulnerabilityInput | EraseResidentInput
                 | RecordTestInput) -> list:
    """A household of the caller's jurisdiction, and a resident's (well-formed) id."""
    return [household(input.household_id), an_id(input.resident_id, "resident")]


@strawberry.type
class RegisterMutation:
    @strawberry.mutation(description="登记楼栋 register a building of a community.")
    async def register_building(self, info: Info[Context, None],
                                input: RegisterBuildingInput) -> BuildingResult:
        return await run_mutation(info, lambda c: c.app.register_building(
            input.community_code, input.number, input.name, input.floors,
            client_id=input.client_id), lambda c, nid: BuildingRegistered(
                notification_id=nid, community_code=input.community_code, number=input.number,
                id=strawberry.ID(str(building_id(input.community_code, input.number)))),
            on=[nodes(input.community_code)], roles=REGISTRARS, doing="register buildings")

    @strawberry.mutation(description="登记住户 register a household and its members in a "
                                     "micro-grid of your jurisdiction.")
    async def register_household(self, info: Info[Context, None],
                                 input: RegisterHouseholdInput) -> HouseholdAdminResult:
        def command(c: Call) -> int | None:
            members = [_member(input.household_no, m.member_no or n, m)
                       for n, m in enumerate(input.members, start=1)]
            return c.app.register_household(input.household_no, input.micro_grid_code,
                                            input.address, members, c.targets[1],
                                            client_id=input.client_id)

        return await run_mutation(
            info, command, lambda c, nid: household_after(
                HouseholdChanged, c, nid, household_id(input.household_no)),
            on=[nodes(input.micro_grid_code), an_id(input.building_id, "building")],
            roles=REGISTRARS, doing="register households",
            personal=[input.address, *(v for m in input.members for v in _personal(m))])

    @strawberry.mutation(description="迁移住户 move a household to another micro-grid, building "
                                     "or address of your jurisdiction.")
    async def move_household(self, info: Info[Context, None],
                             input: MoveHouseholdInput) -> HouseholdAdminResult:
        return await run_mutation(info, lambda c: c.app.move_household(
            c.target, input.micro_grid_code, c.targets[1], input.address,
            client_id=input.client_id), _changed,
            on=[household(input.household_id), an_id(input.building_id, "building"),
                nodes(input.micro_grid_code)],
            roles=REGISTRARS, doing="move households", personal=[input.address])

    @strawberry.mutation(description="添加成员 add a member to a household.")
    async def add_member(self, info: Info[Context, None],
                         input: AddMemberInput) -> HouseholdAdminResult:
        def command(c: Call) -> int | None:
            h = c.app.household(c.target)
            number = input.member.member_no or household_domain.next_member_no(h)
            return c.app.add_member(c.target, _member(h.household_no, number, input.member),
                                    client_id=input.client_id)

        return await run_mutation(info, command, _changed, on=[household(input.household_id)],
                                  roles=REGISTRARS, doing="add members",
                                  personal=_personal(input.member))

    @strawberry.mutation(description="减少成员 remove a member (moved out, deceased...).")
    async def remove_member(self, info: Info[Context, None],
                            input: RemoveMemberInput) -> HouseholdAdminResult:
        return await run_mutation(info, lambda c: c.app.remove_member(
            c.target, c.targets[1], input.reason, client_id=input.client_id), _changed,
            on=_of_resident(input), roles=REGISTRARS, doing="remove members")

    @strawberry.mutation(description="标注脆弱人群 declare (or withdraw) a member's "
                                     "vulnerability; vulnerable households get door visits.")
    async def mark_vulnerability(self, info: Info[Context, None],
                                 input: MarkVulnerabilityInput) -> HouseholdAdminResult:
        kind = household_domain.Vulnerability(input.vulnerability.value)
        return await run_mutation(info, lambda c: c.app.mark_vulnerability(
            c.target, c.targets[1], kind, input.present, client_id=input.client_id), _changed,
            on=_of_resident(input), roles=MARKERS, doing="declare vulnerabilities")

    @strawberry.mutation(description="删除个人信息 erase a person's identifying data for good "
                                     "(their key is destroyed); counts and statuses stay.")
    async def erase_resident(self, info: Info[Context, None],
                             input: EraseResidentInput) -> HouseholdAdminResult:
        return await run_mutation(info, lambda c: c.app.erase_resident(
            c.target, c.targets[1], input.reason, client_id=input.client_id), _changed,
            on=_of_resident(input), roles=ERASERS, doing="erase residents' data")

    @strawberry.mutation(description="核酸结果 record a test result (a negative one counts "
                                     "towards release).")
    async def record_test(self, info: Info[Context, None],
                          input: RecordTestInput) -> HouseholdAdminResult:
        return await run_mutation(info, lambda c: c.app.record_test(
            c.target, c.targets[1], input.negative, input.taken_at,
            client_id=input.client_id), _changed,
            on=_of_resident(input), roles=TESTERS, doing="record test results")
