"""Enterprises resuming work (复工复产): register one with its specialist, assign another
specialist, file for resumption, declare employees' health, review a filing, inspect, close a
rectification. Each acts as the signed-in staff member (the enterprise's specialist, or a role
the domain lets act) on an enterprise located in their jurisdiction (one elsewhere is answered
as if it did not exist; so is a specialist outside it), is applied once per ``clientId`` and
returns the enterprise, or typed problems."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.commands import nodes_in_reach, run_command
from graphql_api.context import Context
from graphql_api.enterprises.types import (
    AssignSpecialistInput,
    DeclareEmployeeHealthInput,
    Enterprise,
    FileResumptionInput,
    RegisterEnterpriseInput,
)
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    not_signed_in,
)
from graphql_api.ids import canonical
from graphql_api.scope import node_visible
from gridcore import enterprise, errors

ClientId = Annotated[str | None, strawberry.argument(
    description="The device's id for this command: a retry is applied once.")]


@strawberry.type(description="The enterprise's new state (or the state a retried clientId "
                             "left).")
class EnterpriseUpdated:
    notification_id: int | None
    enterprise: Enterprise | None


EnterpriseResult = Annotated[
    EnterpriseUpdated | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("EnterpriseResult"),
]


@strawberry.input(description="One checklist item's result (洗手, 开会间距, 就餐...).")
class InspectionItemInput:
    item: str
    passed: bool


async def _specialist(ctx: Context, raw: str) -> UUID | NotFoundProblem:
    """A staff member of the caller's jurisdiction (anyone else reads as unknown)."""
    sid = canonical(raw)
    jurisdiction = await ctx.loaders.staff_jurisdiction.load(sid) if sid else None
    if sid is None or jurisdiction is None or not await node_visible(ctx, jurisdiction):
        return NotFoundProblem(code=errors.NotFound.code,
                               problem=f"No staff member {raw[:60]} in your jurisdiction.",
                               remedy="Choose an enterprise specialist from `staff`.")
    return UUID(sid)


async def _on_enterprise(ctx: Context, raw: str,
                         command: Callable[[Any, UUID, UUID], int | None]) -> Any:
    if ctx.caller is None:
        return not_signed_in()
    eid = canonical(raw)
    row = boards.enterprise_by_id(ctx.views, eid) if eid else None
    if eid is None or row is None or not await node_visible(ctx, row.location):
        return NotFoundProblem(code=errors.NotFound.code, problem=f"No enterprise {raw[:60]}.",
                               remedy="Check it on the board (enterprises).")
    by = ctx.caller.staff_id
    nid = await run_command(ctx, lambda app: command(app, UUID(eid), by))
    if isinstance(nid, Problem):
        return nid
    return _updated(ctx, nid, eid)


def _updated(ctx: Context, nid: int | None, eid: str) -> EnterpriseUpdated:
    row = boards.enterprise_by_id(ctx.views, eid)
    return EnterpriseUpdated(notification_id=nid,
                             enterprise=Enterprise.from_row(row) if row else None)


@strawberry.type
class EnterpriseMutation:
    @strawberry.mutation(description="企业登记 register an enterprise located in your "
                                     "jurisdiction with its one specialist (对口负责).")
    async def register_enterprise(self, info: Info[Context, None],
                                  input: RegisterEnterpriseInput) -> EnterpriseResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        if (outside := await nodes_in_reach(ctx, input.location_code)) is not None:
            return outside
        specialist = await _specialist(ctx, input.specialist_id)
        if isinstance(specialist, NotFoundProblem):
            return specialist

        by = ctx.caller.staff_id
        nid = await run_command(ctx, lambda app: app.register_enterprise(
            input.credit_code, input.name, input.department, input.location_code, specialist,
            by=by, client_id=input.client_id))
        if isinstance(nid, Problem):
            return nid
        return _updated(ctx, nid, str(enterprise.enterprise_id(input.credit_code)))

    @strawberry.mutation(description="对口负责 make another specialist of your jurisdiction the "
                                     "enterprise's one specialist.")
    async def assign_specialist(self, info: Info[Context, None],
                                input: AssignSpecialistInput) -> EnterpriseResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        specialist = await _specialist(ctx, input.specialist_id)
        if isinstance(specialist, NotFoundProblem):
            return specialist
        return await _on_enterprise(ctx, input.enterprise_id, lambda app, eid, by: (
            app.assign_specialist(eid, specialist, by=by, client_id=input.client_id)))

    @strawberry.mutation(description="复工备案 file for resumption with the checklist items in "
                                     "place; the specialist then reviews it.")
    async def file_resumption(self, info: Info[Context, None],
                              input: FileResumptionInput) -> EnterpriseResult:
        return await _on_enterprise(info.context, input.enterprise_id, lambda app, eid, by: (
            app.file_resumption(eid, list(input.items), input.employees, input.note,
                                client_id=input.client_id)))

    @strawberry.mutation(description="员工健康申报 record the employees' health declaration "
                                     "(how many declared, how many are ill).")
    async def declare_employee_health(self, info: Info[Context, None],
                                      input: DeclareEmployeeHealthInput) -> EnterpriseResult:
        return await _on_enterprise(info.context, input.enterprise_id, lambda app, eid, by: (
            app.declare_employee_health(eid, input.declared, input.symptomatic,
                                        client_id=input.client_id)))

    @strawberry.mutation(description="复工审核 approve a resumption filing, or send it back with "
                                     "reasons.")
    async def review_resumption(self, info: Info[Context, None], id: strawberry.ID,
                                approved: bool, reasons: list[str] | None = None,
                                client_id: ClientId = None) -> EnterpriseResult:
        return await _on_enterprise(info.context, id, lambda app, eid, by: (
            app.review_resumption(eid, by, approved, reasons or [], client_id=client_id)))

    @strawberry.mutation(description="检查 an inspection round: a failed item opens a "
                                     "rectification (整改), a passed one closes it.")
    async def inspect_enterprise(self, info: Info[Context, None], id: strawberry.ID,
                                 results: list[InspectionItemInput], note: str = "",
                                 client_id: ClientId = None) -> EnterpriseResult:
        found = {r.item: r.passed for r in results}
        return await _on_enterprise(info.context, id, lambda app, eid, by: (
            app.inspect_enterprise(eid, by, found, note, client_id=client_id)))

    @strawberry.mutation(description="整改复查 re-inspect one rectified item and close it.")
    async def close_rectification(self, info: Info[Context, None], id: strawberry.ID,
                                  item: str, note: str = "",
                                  client_id: ClientId = None) -> EnterpriseResult:
        return await _on_enterprise(info.context, id, lambda app, eid, by: (
            app.close_rectification(eid, item, by, note, client_id=client_id)))
