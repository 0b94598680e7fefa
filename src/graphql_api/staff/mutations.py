"""Staff and their work: enrol, availability, the responsible worker (责任人) and the service
squad (服务小分队) of a micro-grid, assigning a round of a scope and moving someone's open work;
deactivating (停用, e.g. 离职) and reactivating a member, moving them to another node (调岗) and
erasing their name and phone.

Each acts as the signed-in staff member on staff and nodes of their jurisdiction (anyone or
anything elsewhere is answered as if it did not exist), accepts a ``clientId`` so a retry is
applied once, and returns what it changed, read back, or typed problems. The domain checks
who may be a responsible worker or squad member; who may give these orders is the API's rule
below. A name or phone sent is never quoted back (the phone is masked by role).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.commands import (
    nodes_in_reach,
    not_an_id,
    refused,
    run_command,
    scrubbed,
    staff_in_reach,
)
from graphql_api.context import Context
from graphql_api.enums import Role
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    no_household,
)
from graphql_api.grid.mutations import GridChanged, GridResult
from graphql_api.grid.types import GridNode
from graphql_api.ids import canonical
from graphql_api.scope import household_visible
from graphql_api.staff.types import StaffMember
from gridcore import errors
from gridcore import staff as staff_domain
from gridcore.authority import DISPATCHERS, ENROLLERS, ERASERS

R = staff_domain.Role

ClientId = Annotated[str | None, strawberry.field(
    description="The device's id for this command: a retry is applied once.")]


@strawberry.type(description="The staff member's new state (or the one a retried clientId "
                             "left).")
class StaffChanged:
    notification_id: int | None
    staff_member: StaffMember | None


@strawberry.type(description="派单 a round of a scope assigned (or the one a retried clientId "
                             "made): how many households each way, and what capacity lacks.")
class ScopeAssigned:
    scope_code: str
    round: int
    assigned: int
    uncovered: int
    shortfall: float = strawberry.field(
        description="Capacity missing to cover the uncovered households (door-visit units).")


StaffResult = Annotated[
    StaffChanged | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("StaffResult"),
]
AssignResult = Annotated[
    ScopeAssigned | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("AssignResult"),
]


@strawberry.input
class EnrolStaffInput:
    staff_no: str
    name: str
    role: Role
    jurisdiction_code: str
    daily_capacity: int = 40
    phone: str | None = None
    household_id: strawberry.ID | None = strawberry.field(
        default=None, description="With residentId: the staff member is this resident (a "
                                  "close-contact tag then makes them unavailable).")
    resident_id: strawberry.ID | None = None
    client_id: ClientId = None


@strawberry.input
class SetStaffAvailabilityInput:
    staff_id: strawberry.ID
    available: bool
    reason: str = ""
    client_id: ClientId = None


@strawberry.input
class AssignResponsibleWorkerInput:
    micro_grid_code: str
    staff_id: strawberry.ID
    client_id: ClientId = None


@strawberry.input
class FormSquadInput:
    zone_code: str
    staff_ids: list[strawberry.ID]
    client_id: ClientId = None


@strawberry.input
class AssignScopeInput:
    scope_code: str
    round: int
    days: int
    client_id: ClientId = None


@strawberry.input
class ReassignWorkInput:
    staff_id: strawberry.ID
    scope_code: str
    round: int
    reason: str
    client_id: ClientId = None


async def _staff_changed(ctx: Context, sid: UUID,
                         command: Callable[[Any], int | None]) -> StaffResult:
    done = await run_command(ctx, command)
    if isinstance(done, Problem):
        return done
    member = await ctx.loaders.staff_member.load(str(sid))
    return StaffChanged(notification_id=done,
                        staff_member=StaffMember.of(member) if member else None)


async def _on_grid(ctx: Context, doing: str, code: str, staff_ids: list[strawberry.ID],
                   command: Callable[[Any, list[UUID]], int | None]) -> GridResult:
    if (no := refused(ctx, ENROLLERS, doing)) is not None:
        return no
    if (outside := await nodes_in_reach(ctx, code)) is not None:
        return outside
    sids = []
    for raw in staff_ids:
        sid = await staff_in_reach(ctx, raw)
        if isinstance(sid, Problem):
            return sid
        sids.append(sid)
    done = await run_command(ctx, lambda app: command(app, sids))
    if isinstance(done, Problem):
        return done
    row = await ctx.loaders.node.load(code)
    return GridChanged(notification_id=done, nodes=[GridNode.from_row(row)] if row else [])


@strawberry.input
class DeactivateStaffInput:
    staff_id: strawberry.ID
    reason: str = strawberry.field(description="Why, e.g. '离职 left the job'.")
    client_id: ClientId = None


@strawberry.input
class ReactivateStaffInput:
    staff_id: strawberry.ID
    reason: str = ""
    client_id: ClientId = None


@strawberry.input
class ChangeStaffJurisdictionInput:
    staff_id: strawberry.ID
    jurisdiction_code: str
    client_id: ClientId = None


@strawberry.input
class EraseStaffMemberInput:
    staff_id: strawberry.ID
    reason: str = strawberry.field(description="The legal reason, e.g. '离职满期 retention "
                                               "period over'.")
    client_id: ClientId = None


async def _on_staff(ctx: Context, roles: frozenset[R], doing: str, raw: str,
                    command: Callable[[Any, UUID, UUID], int | None],
                    *codes: str) -> StaffResult:
    """A command on a staff member of the caller's jurisdiction (and nodes of it), given by
    one of ``roles``; the domain checks the same again (``gridcore.authority``)."""
    if (no := refused(ctx, roles, doing)) is not None:
        return no
    assert ctx.caller is not None
    sid = await staff_in_reach(ctx, raw)
    if isinstance(sid, Problem):
        return sid
    if (outside := await nodes_in_reach(ctx, *codes)) is not None:
        return outside
    by = ctx.caller.staff_id
    return await _staff_changed(ctx, sid, lambda app: command(app, sid, by))


def _resident(input: EnrolStaffInput) -> tuple[UUID, UUID] | Problem | None:
    if input.household_id is None and input.resident_id is None:
        return None
    if input.household_id is None or input.resident_id is None:
        return problem_of_input("A staff member's resident link needs both ids.",
                                "Give householdId and residentId, or neither.")
    hid, rid = canonical(input.household_id), canonical(input.resident_id)
    if hid is None:
        return not_an_id(input.household_id, "household")
    if rid is None:
        return not_an_id(input.resident_id, "resident")
    return UUID(hid), UUID(rid)


def problem_of_input(problem: str, remedy: str) -> InvalidInputProblem:
    return InvalidInputProblem(code=errors.InvalidInput.code, problem=problem, remedy=remedy)


@strawberry.type
class StaffMutation:
    @strawberry.mutation(description="入职 enrol a staff member in a node of your "
                                     "jurisdiction.")
    async def enrol_staff(self, info: Info[Context, None],
                          input: EnrolStaffInput) -> StaffResult:
        ctx = info.context
        if (no := refused(ctx, ENROLLERS, "enrol staff")) is not None:
            return no
        if (outside := await nodes_in_reach(ctx, input.jurisdiction_code)) is not None:
            return outside
        resident = _resident(input)
        if isinstance(resident, Problem):
            return resident
        if resident is not None and not await household_visible(ctx, str(resident[0])):
            return no_household(str(resident[0]))
        done = await _staff_changed(
            ctx, staff_domain.staff_id(input.staff_no), lambda app: app.enrol_staff(
                input.staff_no, input.name, R(input.role.value), input.jurisdiction_code,
                input.daily_capacity, input.phone, resident, client_id=input.client_id))
        return scrubbed(done, [input.name, input.phone])

    @strawberry.mutation(description="在岗 mark a staff member available or not; their open "
                                     "work in a round moves to colleagues when not.")
    async def set_staff_availability(self, info: Info[Context, None],
                                     input: SetStaffAvailabilityInput) -> StaffResult:
        ctx = info.context
        sid = await staff_in_reach(ctx, input.staff_id)
        mine = ctx.caller is not None and sid == ctx.caller.staff_id
        if not mine and (no := refused(ctx, DISPATCHERS, "set others' availability")):
            return no
        if isinstance(sid, Problem):
            return sid
        return await _staff_changed(ctx, sid, lambda app: app.set_staff_availability(
            sid, input.available, input.reason, client_id=input.client_id))

    @strawberry.mutation(description="责任人 make a grid worker the responsible person of a "
                                     "micro-grid.")
    async def assign_responsible_worker(self, info: Info[Context, None],
                                        input: AssignResponsibleWorkerInput) -> GridResult:
        return await _on_grid(info.context, "name responsible workers", input.micro_grid_code,
                              [input.staff_id],
                              lambda app, sids: app.assign_responsible_worker(
                                  input.micro_grid_code, sids[0], client_id=input.client_id))

    @strawberry.mutation(description="服务小分队 form the service squad of a zone from party "
                                     "members and volunteers.")
    async def form_squad(self, info: Info[Context, None], input: FormSquadInput) -> GridResult:
        return await _on_grid(info.context, "form squads", input.zone_code,
                              list(input.staff_ids),
                              lambda app, sids: app.form_squad(input.zone_code, sids,
                                                               client_id=input.client_id))

    @strawberry.mutation(description="派单 share the households of a scope out to its available "
                                     "staff for a round (vulnerable ones get door visits).")
    async def assign_scope(self, info: Info[Context, None],
                           input: AssignScopeInput) -> AssignResult:
        ctx = info.context
        if (no := refused(ctx, DISPATCHERS, "assign rounds")) is not None:
            return no
        if (outside := await nodes_in_reach(ctx, input.scope_code)) is not None:
            return outside
        plan = await run_command(ctx, lambda app: app.assign_scope(
            input.scope_code, input.round, input.days, client_id=input.client_id))
        if isinstance(plan, Problem):
            return plan
        return ScopeAssigned(scope_code=input.scope_code, round=input.round,
                             assigned=len(plan.items), uncovered=len(plan.uncovered),
                             shortfall=plan.shortfall)

    @strawberry.mutation(description="转派 move a staff member's open work in a round to "
                                     "colleagues.")
    async def reassign_work_of(self, info: Info[Context, None],
                               input: ReassignWorkInput) -> StaffResult:
        ctx = info.context
        if (no := refused(ctx, DISPATCHERS, "move others' work")) is not None:
            return no
        sid = await staff_in_reach(ctx, input.staff_id)
        if isinstance(sid, Problem):
            return sid
        if (outside := await nodes_in_reach(ctx, input.scope_code)) is not None:
            return outside
        member = await ctx.loaders.staff_member.load(str(sid))
        done = await _staff_changed(ctx, sid, lambda app: app.reassign_work_of(
            sid, input.scope_code, input.round, input.reason, client_id=input.client_id))
        return scrubbed(done, [member.name if member else None])

    @strawberry.mutation(description="停用 deactivate a staff member of your jurisdiction (e.g. "
                                     "离职): their tokens are refused at once, their open "
                                     "subscriptions close and their open work moves to "
                                     "colleagues.")
    async def deactivate_staff(self, info: Info[Context, None],
                               input: DeactivateStaffInput) -> StaffResult:
        return await _on_staff(info.context, ENROLLERS, "deactivate staff", input.staff_id,
                               lambda app, sid, by: app.deactivate_staff(
                                   sid, input.reason, by=by, client_id=input.client_id))

    @strawberry.mutation(description="复岗 reactivate a deactivated staff member of your "
                                     "jurisdiction: their tokens work again.")
    async def reactivate_staff(self, info: Info[Context, None],
                               input: ReactivateStaffInput) -> StaffResult:
        return await _on_staff(info.context, ENROLLERS, "reactivate staff", input.staff_id,
                               lambda app, sid, by: app.reactivate_staff(
                                   sid, input.reason, by=by, client_id=input.client_id))

    @strawberry.mutation(description="调岗 move a staff member to another node of your "
                                     "jurisdiction: what they see and may do follows at once.")
    async def change_staff_jurisdiction(self, info: Info[Context, None],
                                        input: ChangeStaffJurisdictionInput) -> StaffResult:
        return await _on_staff(info.context, ENROLLERS, "move staff", input.staff_id,
                               lambda app, sid, by: app.change_staff_jurisdiction(
                                   sid, input.jurisdiction_code, by=by,
                                   client_id=input.client_id), input.jurisdiction_code)

    @strawberry.mutation(description="删除个人信息 erase a staff member's name and phone for "
                                     "good (their staff number, role and work stay).")
    async def erase_staff_member(self, info: Info[Context, None],
                                 input: EraseStaffMemberInput) -> StaffResult:
        return await _on_staff(info.context, ERASERS, "erase staff members' data",
                               input.staff_id, lambda app, sid, by: app.erase_staff_member(
                                   sid, input.reason, by=by, client_id=input.client_id))
