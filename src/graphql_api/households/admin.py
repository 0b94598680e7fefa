"""The register (户籍台账): buildings, households and their members, vulnerabilities, test
results, tags removed, erasure, and the policy rules read.

Each acts as the signed-in staff member on a community, micro-grid or household of their
jurisdiction (one elsewhere is answered as if it did not exist), accepts a ``clientId`` so a
retry is applied once, and returns the household read back (read your own writes) or typed
problems. The domain names no actor for most of these commands, so the roles below decide who
may (``untagResident`` is the domain's own rule). Names, phones, ID numbers and addresses
sent are never quoted back: the household's fields mask them by role.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.commands import (
    Done,
    nodes_in_reach,
    not_an_id,
    on_household,
    refused,
    run_command,
    scrubbed,
)
from graphql_api.context import Context
from graphql_api.enums import TagKind, Vulnerability
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
)
from graphql_api.households.policy import AdoptPolicyInput, PolicyResult, adopt
from graphql_api.households.types import Household
from graphql_api.ids import canonical
from gridcore import household as household_domain
from gridcore import status
from gridcore.application import new_member
from gridcore.authority import ERASERS, MARKERS, REGISTRARS, TESTERS
from gridcore.building import building_id
from gridcore.household import household_id, resident_id
from gridcore.staff import Role


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


HouseholdAdminResult = Annotated[
    HouseholdChanged | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("HouseholdAdminResult"),
]
BuildingResult = Annotated[
    BuildingRegistered | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("BuildingResult"),
]

ClientId = Annotated[str | None, strawberry.field(
    description="The device's id for this command: a retry is applied once.")]


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


@strawberry.input
class UntagResidentInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    tag: TagKind
    reason: str
    client_id: ClientId = None


def _personal(member: MemberInput) -> list[str | None]:
    return [member.name, member.phone, member.id_number]


def _member(household_no: str, number: int, m: MemberInput) -> household_domain.Member:
    return new_member(household_no, number, m.name, m.phone, m.id_number, m.birth_year,
                      [household_domain.Vulnerability(v.value) for v in m.vulnerabilities])


def _next_member_no(h: household_domain.Household) -> int:
    """The first member number whose resident id the household has never had."""
    known = set(h.residents) | set(h.former)
    n = 1
    while resident_id(h.household_no, n) in known:
        n += 1
    return n


def _building(raw: strawberry.ID | None) -> UUID | InvalidInputProblem | None:
    if raw is None:
        return None
    bid = canonical(raw)
    return UUID(bid) if bid else not_an_id(raw, "building")


async def _changed(ctx: Context, roles: frozenset[Role], doing: str, household: str,
                   command: Callable[[Any, UUID, UUID], int | None]) -> Any:
    if (no := refused(ctx, roles, doing)) is not None:
        return no
    done = await on_household(ctx, household, command)
    if isinstance(done, Done):
        return HouseholdChanged(notification_id=done.notification_id, household=done.household)
    return done


async def _on_resident(ctx: Context, roles: frozenset[Role], doing: str, household: str,
                       resident: str, command: Callable[[Any, UUID, UUID, UUID], int | None]
                       ) -> Any:
    rid = canonical(resident)
    if rid is None:
        return not_an_id(resident, "resident")
    return await _changed(ctx, roles, doing, household,
                          lambda app, hid, by: command(app, hid, UUID(rid), by))


@strawberry.type
class HouseholdAdminMutation:
    @strawberry.mutation(description="登记楼栋 register a building of a community.")
    async def register_building(self, info: Info[Context, None],
                                input: RegisterBuildingInput) -> BuildingResult:
        ctx = info.context
        if (no := refused(ctx, REGISTRARS, "register buildings")) is not None:
            return no
        if (outside := await nodes_in_reach(ctx, input.community_code)) is not None:
            return outside
        done = await run_command(ctx, lambda app: app.register_building(
            input.community_code, input.number, input.name, input.floors,
            client_id=input.client_id))
        if isinstance(done, Problem):
            return done
        return BuildingRegistered(
            notification_id=done, community_code=input.community_code, number=input.number,
            id=strawberry.ID(str(building_id(input.community_code, input.number))))

    @strawberry.mutation(description="登记住户 register a household and its members in a "
                                     "micro-grid of your jurisdiction.")
    async def register_household(self, info: Info[Context, None],
                                 input: RegisterHouseholdInput) -> HouseholdAdminResult:
        ctx = info.context
        if (no := refused(ctx, REGISTRARS, "register households")) is not None:
            return no
        if (outside := await nodes_in_reach(ctx, input.micro_grid_code)) is not None:
            return outside
        building = _building(input.building_id)
        if isinstance(building, Problem):
            return building

        def command(app: Any) -> int | None:
            members = [_member(input.household_no, m.member_no or n, m)
                       for n, m in enumerate(input.members, start=1)]
            return app.register_household(input.household_no, input.micro_grid_code,
                                          input.address, members, building,
                                          client_id=input.client_id)

        done = await run_command(ctx, command)
        if isinstance(done, Problem):
            return scrubbed(done, [input.address, *(v for m in input.members
                                                   for v in _personal(m))])
        hid = str(household_id(input.household_no))
        row = await ctx.loaders.household.load(hid)
        return HouseholdChanged(notification_id=done,
                                household=Household.from_row(row) if row else None)

    @strawberry.mutation(description="迁移住户 move a household to another micro-grid, building "
                                     "or address of your jurisdiction.")
    async def move_household(self, info: Info[Context, None],
                             input: MoveHouseholdInput) -> HouseholdAdminResult:
        ctx = info.context
        if (no := refused(ctx, REGISTRARS, "move households")) is not None:
            return no
        building = _building(input.building_id)
        if isinstance(building, Problem):
            return building
        if (outside := await nodes_in_reach(ctx, input.micro_grid_code)) is not None:
            return outside
        done = await _changed(ctx, REGISTRARS, "move households", input.household_id,
                              lambda app, hid, by: app.move_household(
                                  hid, input.micro_grid_code, building, input.address,
                                  client_id=input.client_id))
        return scrubbed(done, [input.address])

    @strawberry.mutation(description="添加成员 add a member to a household.")
    async def add_member(self, info: Info[Context, None],
                         input: AddMemberInput) -> HouseholdAdminResult:
        def command(app: Any, hid: UUID, by: UUID) -> int | None:
            h = app.household(hid)
            number = input.member.member_no or _next_member_no(h)
            return app.add_member(hid, _member(h.household_no, number, input.member),
                                  client_id=input.client_id)

        done = await _changed(info.context, REGISTRARS, "add members", input.household_id,
                              command)
        return scrubbed(done, _personal(input.member))

    @strawberry.mutation(description="减少成员 remove a member (moved out, deceased...).")
    async def remove_member(self, info: Info[Context, None],
                            input: RemoveMemberInput) -> HouseholdAdminResult:
        return await _on_resident(info.context, REGISTRARS, "remove members",
                                  input.household_id, input.resident_id,
                                  lambda app, hid, rid, by: app.remove_member(
                                      hid, rid, input.reason, client_id=input.client_id))

    @strawberry.mutation(description="标注脆弱人群 declare (or withdraw) a member's "
                                     "vulnerability; vulnerable households get door visits.")
    async def mark_vulnerability(self, info: Info[Context, None],
                                 input: MarkVulnerabilityInput) -> HouseholdAdminResult:
        kind = household_domain.Vulnerability(input.vulnerability.value)
        return await _on_resident(info.context, MARKERS, "declare vulnerabilities",
                                  input.household_id, input.resident_id,
                                  lambda app, hid, rid, by: app.mark_vulnerability(
                                      hid, rid, kind, input.present,
                                      client_id=input.client_id))

    @strawberry.mutation(description="删除个人信息 erase a person's identifying data for good "
                                     "(their key is destroyed); counts and statuses stay.")
    async def erase_resident(self, info: Info[Context, None],
                             input: EraseResidentInput) -> HouseholdAdminResult:
        return await _on_resident(info.context, ERASERS, "erase residents' data",
                                  input.household_id, input.resident_id,
                                  lambda app, hid, rid, by: app.erase_resident(
                                      hid, rid, input.reason, client_id=input.client_id))

    @strawberry.mutation(description="核酸结果 record a test result (a negative one counts "
                                     "towards release).")
    async def record_test(self, info: Info[Context, None],
                          input: RecordTestInput) -> HouseholdAdminResult:
        return await _on_resident(info.context, TESTERS, "record test results",
                                  input.household_id, input.resident_id,
                                  lambda app, hid, rid, by: app.record_test(
                                      hid, rid, input.negative, input.taken_at,
                                      client_id=input.client_id))

    @strawberry.mutation(description="解除标记 remove a tag, as the domain lets your role (a "
                                     "family doctor or an official).")
    async def untag_resident(self, info: Info[Context, None],
                             input: UntagResidentInput) -> HouseholdAdminResult:
        kind = status.TagKind(input.tag.value)
        everyone = frozenset(Role)  # the domain decides who may, from the acting member
        return await _on_resident(info.context, everyone, "remove tags", input.household_id,
                                  input.resident_id,
                                  lambda app, hid, rid, by: app.untag_resident(
                                      hid, rid, kind, by, input.reason,
                                      client_id=input.client_id))

    @strawberry.mutation(description="防控政策 adopt a version of the policy the rules read, "
                                     "effective from a time (a whole city's official).")
    async def adopt_policy(self, info: Info[Context, None],
                           input: AdoptPolicyInput) -> PolicyResult:
        return await adopt(info.context, input)
