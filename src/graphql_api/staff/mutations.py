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
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Role
from graphql_api.grid.mutations import GridResult, nodes_after
from graphql_api.ids import canonical
from graphql_api.pipeline import Call, ClientId, Reach, mutation, run_mutation
from graphql_api.problems import Problem, invalid, no_household, result
from graphql_api.reach import listed_once, nodes, not_an_id, staff, staff_list
from graphql_api.scope import household_visible
from graphql_api.staff.types import StaffMember
from gridcore import staff as staff_domain

R = staff_domain.Role

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


if TYPE_CHECKING:  # mypy checks resolvers against this; the schema gets the union below
    StaffResult = StaffChanged | Problem
else:
    StaffResult = result("StaffResult", StaffChanged)
AssignResult = result("AssignResult", ScopeAssigned)


MORE_NODES = ("More nodes of the jurisdiction, none inside another (a grid worker's other "
              "zones); jurisdictionCode is the first, where they are listed.")


@strawberry.input(description="One member of a roster: as enrolStaff takes one, without a "
                              "resident link.")
class RosterMemberInput:
    staff_no: str
    name: str
    role: Role
    jurisdiction_code: str
    other_jurisdiction_codes: list[str] = strawberry.field(
        default_factory=list, description=MORE_NODES)
    daily_capacity: int = 40
    phone: str | None = None


@strawberry.input
class EnrolStaffInput(RosterMemberInput):
    household_id: strawberry.ID | None = strawberry.field(
        default=None, description="With residentId: the staff member is this resident (a "
                                  "close-contact tag then makes them unavailable).")
    resident_id: strawberry.ID | None = None
    client_id: ClientId = None


@strawberry.input
class EnrolStaffRosterInput:
    members: list[RosterMemberInput]
    client_id: ClientId = None


@strawberry.type(description="花名册 a roster enrolled (or the one a retried clientId "
                             "enrolled: then every member reads as already enrolled).")
class RosterEnrolled:
    notification_id: int | None
    enrolled: int
    already_enrolled: list[str] = strawberry.field(
        description="Staff numbers already enrolled, skipped as they stand.")


RosterResult = result("RosterResult", RosterEnrolled)


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


@strawberry.input(description="A micro-grid and the grid worker to be its responsible person "
                              "(责任人).")
class ResponsibleWorkerOf:
    micro_grid_code: str
    staff_id: strawberry.ID


@strawberry.input
class AssignResponsibleWorkersInput:
    assignments: list[ResponsibleWorkerOf] = strawberry.field(
        description="One community's micro-grids (at most 1,000), each once; a worker may "
                    "hold several.")
    client_id: ClientId = None


@strawberry.input(description="A zone and the party members and volunteers of its service "
                              "squad (服务小分队).")
class SquadOf:
    zone_code: str
    staff_ids: list[strawberry.ID]


@strawberry.input
class FormSquadsInput:
    squads: list[SquadOf] = strawberry.field(
        description="Zones of one community (at most 1,000), each once; a member in one "
                    "squad only.")
    client_id: ClientId = None


def squad_lists(squads: list[SquadOf]) -> Reach:
    """Each squad's members, each as ``staff`` finds them."""
    async def reach(ctx: Context) -> list[list[UUID]] | Problem:
        out = []
        for squad in squads:
            members = await staff_list(list(squad.staff_ids))(ctx)
            if isinstance(members, Problem):
                return members
            out.append(members)
        return out
    return reach


def _zones_at_once(description: str, input_type: type[Any], command: str, what: str,
                   codes: Callable[[Any], list[str]], values: Callable[[Any], Reach]) -> Any:
    """A mutation that sets something of several micro-grids at once: the library command
    ``command`` given each code (listed once, in the caller's jurisdiction) with its value
    (what ``values`` reaches, in the same order), answering the micro-grids read back."""
    return mutation(
        description, input_type, lambda c, i: getattr(c.app, command)(
            dict(zip(c.targets[0], c.targets[2], strict=True)), client_id=i.client_id,
            by=c.by), result=GridResult,
        success=lambda c, nid: nodes_after(*c.targets[0])(c, nid),
        on=lambda i: [listed_once(codes(i), what), nodes(*codes(i)), values(i)])


@strawberry.input
class HandOverMicroGridInput:
    micro_grid_code: str
    staff_id: strawberry.ID = strawberry.field(description="The grid worker taking it over.")
    client_id: ClientId = None


@strawberry.input
class TakeOffSquadInput:
    zone_code: str
    staff_id: strawberry.ID
    client_id: ClientId = None


@strawberry.input
class MoveSquadMemberInput:
    staff_id: strawberry.ID
    from_zone_code: str
    zone_code: str = strawberry.field(description="The zone whose squad they join.")
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
    other_jurisdiction_codes: list[str] = strawberry.field(
        default_factory=list, description=MORE_NODES)
    client_id: ClientId = None


@strawberry.input
class EraseStaffMemberInput:
    staff_id: strawberry.ID
    reason: str = strawberry.field(description="The legal reason, e.g. '离职满期 retention "
                                               "period over'.")
    client_id: ClientId = None


async def _staff_after(c: Call, nid: int | None, sid: Any = None) -> StaffChanged:
    """The staff member (the command's target by default) read back."""
    member = await c.ctx.loaders.staff_member.load(str(sid or c.target))
    return StaffChanged(notification_id=nid,
                        staff_member=StaffMember.of(member) if member else None)


def _resident(input: EnrolStaffInput) -> Reach:
    """The resident a staff member is, of a household of the caller's jurisdiction (both ids,
    or neither: None)."""
    async def reach(ctx: Context) -> tuple[UUID, UUID] | Problem | None:
        if input.household_id is None and input.resident_id is None:
            return None
        if input.household_id is None or input.resident_id is None:
            return invalid("A staff member's resident link needs both ids.",
                           "Give householdId and residentId, or neither.")
        hid, rid = canonical(input.household_id), canonical(input.resident_id)
        if hid is None:
            return not_an_id(input.household_id, "household")
        if rid is None:
            return not_an_id(input.resident_id, "resident")
        if not await household_visible(ctx, hid):
            return no_household(hid)
        return UUID(hid), UUID(rid)
    return reach


_on_staff = partial(mutation, result=StaffResult, success=_staff_after,
                    on=lambda i: [staff(i.staff_id)])
"""A command on a staff member of the caller's jurisdiction (and nodes of it); who may give
it is the command's rule (``gridcore.authority``)."""


@strawberry.type
class StaffMutation:
    enrol_staff = mutation(
        "入职 enrol a staff member in a node of your jurisdiction.", EnrolStaffInput,
        lambda c, i: c.app.enrol_staff(i.staff_no, i.name, R(i.role.value),
                                       [i.jurisdiction_code, *i.other_jurisdiction_codes],
                                       i.daily_capacity, i.phone, c.targets[1],
                                       client_id=i.client_id, by=c.by),
        result=StaffResult,
        success=lambda c, nid: _staff_after(c, nid, staff_domain.staff_id(c.input.staff_no)),
        on=lambda i: [nodes(i.jurisdiction_code, *i.other_jurisdiction_codes), _resident(i)],
        personal=lambda i: [i.name, i.phone])

    enrol_staff_roster = mutation(
        "花名册 enrol a roster of staff in nodes of your jurisdiction in one transaction, as "
        "enrolStaff would each member: all or nothing, a problem naming its row; members "
        "already enrolled under their staff number are skipped.", EnrolStaffRosterInput,
        lambda c, i: c.app.enrol_staff_many(
            [staff_domain.StaffRow(m.staff_no, m.name, R(m.role.value),
                                   (m.jurisdiction_code, *m.other_jurisdiction_codes),
                                   m.daily_capacity, m.phone) for m in i.members],
            client_id=i.client_id, by=c.by),
        result=RosterResult,
        success=lambda c, report: RosterEnrolled(
            notification_id=report.notification_id, enrolled=report.enrolled,
            already_enrolled=report.already_enrolled),
        on=lambda i: [nodes(*dict.fromkeys(
            code for m in i.members
            for code in (m.jurisdiction_code, *m.other_jurisdiction_codes)))],
        personal=lambda i: [v for m in i.members for v in (m.name, m.phone)])

    set_staff_availability = mutation(
        "在岗 mark a staff member available or not; their open work in a round moves to "
        "colleagues when not.", SetStaffAvailabilityInput,
        lambda c, i: c.app.set_staff_availability(c.target, i.available, i.reason,
                                                  client_id=i.client_id, by=c.by),
        result=StaffResult, success=_staff_after,
        on=lambda i: [staff(i.staff_id)])

    assign_responsible_worker = mutation(
        "责任人 make a grid worker the responsible person of a micro-grid that has none "
        "(handOverMicroGrid gives one that has one to another worker).",
        AssignResponsibleWorkerInput, lambda c, i: c.app.assign_responsible_worker(
            c.target, c.targets[1], client_id=i.client_id, by=c.by), result=GridResult,
        success=lambda c, nid: nodes_after(c.target)(c, nid),
        on=lambda i: [nodes(i.micro_grid_code), staff(i.staff_id)])

    form_squad = mutation(
        "服务小分队 form the service squad of a zone from party members and volunteers.",
        FormSquadInput, lambda c, i: c.app.form_squad(c.target, c.targets[1],
                                                      client_id=i.client_id, by=c.by),
        result=GridResult, success=lambda c, nid: nodes_after(c.target)(c, nid),
        on=lambda i: [nodes(i.zone_code), staff_list(list(i.staff_ids))])

    assign_responsible_workers = _zones_at_once(
        "责任人 make grid workers the responsible persons of several micro-grids of a "
        "community at once, in one transaction: each checked as assignResponsibleWorker checks "
        "it, one refused refuses them all.", AssignResponsibleWorkersInput,
        "assign_responsible_workers", "Micro-grid",
        lambda i: [a.micro_grid_code for a in i.assignments],
        lambda i: staff_list([a.staff_id for a in i.assignments]))

    form_squads = _zones_at_once(
        "服务小分队 form the service squads of several zones of one community at once, in one "
        "transaction: each checked as formSquad checks it (a member named for two squads is "
        "refused), one refused refuses them all.", FormSquadsInput, "form_squads", "Zone",
        lambda i: [s.zone_code for s in i.squads], lambda i: squad_lists(i.squads))

    hand_over_micro_grid = mutation(
        "交接 hand a micro-grid from its responsible worker to another grid worker "
        "(assignResponsibleWorker names the first one and refuses to replace one).",
        HandOverMicroGridInput, lambda c, i: c.app.hand_over_micro_grid(
            c.target, c.targets[1], client_id=i.client_id, by=c.by), result=GridResult,
        success=lambda c, nid: nodes_after(c.target)(c, nid),
        on=lambda i: [nodes(i.micro_grid_code), staff(i.staff_id)])

    take_off_squad = mutation(
        "take a member off a zone's service squad (they may then join another).",
        TakeOffSquadInput, lambda c, i: c.app.take_off_squad(c.target, c.targets[1],
                                                             client_id=i.client_id, by=c.by),
        result=GridResult, success=lambda c, nid: nodes_after(c.target)(c, nid),
        on=lambda i: [nodes(i.zone_code), staff(i.staff_id)])

    move_squad_member = mutation(
        "move a member from one zone's service squad to another's, both at once.",
        MoveSquadMemberInput, lambda c, i: c.app.move_squad_member(
            c.target, c.targets[1], c.targets[2], client_id=i.client_id, by=c.by),
        result=GridResult,
        success=lambda c, nid: nodes_after(c.targets[1], c.targets[2])(c, nid),
        on=lambda i: [staff(i.staff_id), nodes(i.from_zone_code), nodes(i.zone_code)])

    assign_scope = mutation(
        "派单 share the households of a scope out to its available staff for a round "
        "(vulnerable ones get door visits).", AssignScopeInput,
        lambda c, i: c.app.assign_scope(c.target, i.round, i.days, client_id=i.client_id, by=c.by),
        result=AssignResult, success=lambda c, plan: ScopeAssigned(
            scope_code=c.target, round=c.input.round, assigned=len(plan.items),
            uncovered=len(plan.uncovered), shortfall=plan.shortfall),
        on=lambda i: [nodes(i.scope_code)])

    @strawberry.mutation(description="转派 move a staff member's open work in a round to "
                                     "colleagues.")
    async def reassign_work_of(self, info: Info[Context, None],
                               input: ReassignWorkInput) -> StaffResult:
        sid = canonical(input.staff_id)
        member = await info.context.loaders.staff_member.load(sid) if sid else None
        return await run_mutation(info, lambda c: c.app.reassign_work_of(
            c.target, input.scope_code, input.round, input.reason, client_id=input.client_id,
                by=c.by),
            _staff_after, on=[staff(input.staff_id), nodes(input.scope_code)],
            personal=[member.name if member else None])

    deactivate_staff = _on_staff(
        "停用 deactivate a staff member of your jurisdiction (e.g. 离职): their tokens are "
        "refused at once, their open subscriptions close and their open work moves to "
        "colleagues.", DeactivateStaffInput, lambda c, i: c.app.deactivate_staff(
            c.target, i.reason, by=c.by, client_id=i.client_id))

    reactivate_staff = _on_staff(
        "复岗 reactivate a deactivated staff member of your jurisdiction: their tokens work "
        "again.", ReactivateStaffInput, lambda c, i: c.app.reactivate_staff(
            c.target, i.reason, by=c.by, client_id=i.client_id))

    change_staff_jurisdiction = _on_staff(
        "调岗 move a staff member to other nodes of your jurisdiction: what they see and may "
        "do follows at once.", ChangeStaffJurisdictionInput,
        lambda c, i: c.app.change_staff_jurisdiction(
            c.target, [i.jurisdiction_code, *i.other_jurisdiction_codes], by=c.by,
            client_id=i.client_id),
        on=lambda i: [staff(i.staff_id), nodes(i.jurisdiction_code, *i.other_jurisdiction_codes)])

    erase_staff_member = _on_staff(
        "删除个人信息 erase a staff member's name and phone for good (their staff number, role "
        "and work stay).", EraseStaffMemberInput, lambda c, i: c.app.erase_staff_member(
            c.target, i.reason, by=c.by, client_id=i.client_id))
