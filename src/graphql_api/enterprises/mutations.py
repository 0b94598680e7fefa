"""Enterprises resuming work (复工复产): register one with its specialist, assign another
specialist, file for resumption, declare employees' health, review a filing, inspect, close a
rectification. Each acts as the signed-in staff member (the enterprise's specialist, or a role
the domain lets act) on an enterprise located in their jurisdiction (one elsewhere is answered
as if it did not exist; so is a specialist outside it), is applied once per ``clientId`` and
returns the enterprise, or typed problems."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.context import Context
from graphql_api.enterprises.types import (
    AssignSpecialistInput,
    DeclareEmployeeHealthInput,
    Enterprise,
    FileResumptionInput,
    RegisterEnterpriseInput,
)
from graphql_api.pipeline import Call, ClientId, Reach, run_mutation
from graphql_api.problems import NotFoundProblem, not_found, result
from graphql_api.reach import located, nodes, staff
from gridcore import enterprise as enterprise_domain


@strawberry.type(description="The enterprise's new state (or the state a retried clientId "
                             "left).")
class EnterpriseUpdated:
    notification_id: int | None
    enterprise: Enterprise | None


EnterpriseResult = result("EnterpriseResult", EnterpriseUpdated)


@strawberry.input(description="One checklist item's result (洗手, 开会间距, 就餐...).")
class InspectionItemInput:
    item: str
    passed: bool


@strawberry.input(description="复工审核 the specialist's review of a resumption filing.")
class ReviewResumptionInput:
    id: strawberry.ID
    approved: bool
    reasons: list[str] | None = None
    client_id: ClientId = None


@strawberry.input(description="检查 an inspection round's results.")
class InspectEnterpriseInput:
    id: strawberry.ID
    results: list[InspectionItemInput]
    note: str = ""
    client_id: ClientId = None


@strawberry.input(description="整改复查 one rectified item re-inspected.")
class CloseRectificationInput:
    id: strawberry.ID
    item: str
    note: str = ""
    client_id: ClientId = None


def enterprise(raw: str) -> Reach:
    """An enterprise located in the caller's jurisdiction (its id)."""
    return located(raw, not_found(f"No enterprise {raw[:60]}.",
                                  "Check it on the board (enterprises)."),
                   lambda ctx, k: _location(ctx.views, k))


def _location(views: object, eid: str) -> str | None:
    row = boards.enterprise_by_id(views, eid)
    return row.location if row else None


def _specialist(raw: str) -> Reach:
    """A staff member of the caller's jurisdiction (anyone else reads as unknown)."""
    def missing(value: str) -> NotFoundProblem:
        return not_found(f"No staff member {value[:60]} in your jurisdiction.",
                         "Choose an enterprise specialist from `staff`.")
    return staff(raw, missing)


def _updated(c: Call, nid: int | None, eid: object = None) -> EnterpriseUpdated:
    row = boards.enterprise_by_id(c.ctx.views, str(eid or c.target))
    return EnterpriseUpdated(notification_id=nid,
                             enterprise=Enterprise.from_row(row) if row else None)


@strawberry.type
class EnterpriseMutation:
    @strawberry.mutation(description="企业登记 register an enterprise located in your "
                                     "jurisdiction with its one specialist (对口负责).")
    async def register_enterprise(self, info: Info[Context, None],
                                  input: RegisterEnterpriseInput) -> EnterpriseResult:
        return await run_mutation(info, lambda c: c.app.register_enterprise(
            input.credit_code, input.name, input.department, input.location_code,
            c.targets[1], by=c.by, client_id=input.client_id),
            lambda c, nid: _updated(c, nid, enterprise_domain.enterprise_id(input.credit_code)),
            on=[nodes(input.location_code), _specialist(input.specialist_id)])

    @strawberry.mutation(description="对口负责 make another specialist of your jurisdiction the "
                                     "enterprise's one specialist.")
    async def assign_specialist(self, info: Info[Context, None],
                                input: AssignSpecialistInput) -> EnterpriseResult:
        return await run_mutation(info, lambda c: c.app.assign_specialist(
            c.target, c.targets[1], by=c.by, client_id=input.client_id), _updated,
            on=[enterprise(input.enterprise_id), _specialist(input.specialist_id)])

    @strawberry.mutation(description="复工备案 file for resumption with the checklist items in "
                                     "place; the specialist then reviews it.")
    async def file_resumption(self, info: Info[Context, None],
                              input: FileResumptionInput) -> EnterpriseResult:
        return await run_mutation(info, lambda c: c.app.file_resumption(
            c.target, list(input.items), input.employees, input.note,
            client_id=input.client_id), _updated, on=[enterprise(input.enterprise_id)])

    @strawberry.mutation(description="员工健康申报 record the employees' health declaration "
                                     "(how many declared, how many are ill).")
    async def declare_employee_health(self, info: Info[Context, None],
                                      input: DeclareEmployeeHealthInput) -> EnterpriseResult:
        return await run_mutation(info, lambda c: c.app.declare_employee_health(
            c.target, input.declared, input.symptomatic, client_id=input.client_id),
            _updated, on=[enterprise(input.enterprise_id)])

    @strawberry.mutation(description="复工审核 approve a resumption filing, or send it back with "
                                     "reasons.")
    async def review_resumption(self, info: Info[Context, None],
                                input: ReviewResumptionInput) -> EnterpriseResult:
        return await run_mutation(info, lambda c: c.app.review_resumption(
            c.target, c.by, input.approved, input.reasons or [], client_id=input.client_id),
            _updated, on=[enterprise(input.id)])

    @strawberry.mutation(description="检查 an inspection round: a failed item opens a "
                                     "rectification (整改), a passed one closes it.")
    async def inspect_enterprise(self, info: Info[Context, None],
                                 input: InspectEnterpriseInput) -> EnterpriseResult:
        found = {r.item: r.passed for r in input.results}
        return await run_mutation(info, lambda c: c.app.inspect_enterprise(
            c.target, c.by, found, input.note, client_id=input.client_id), _updated,
            on=[enterprise(input.id)])

    @strawberry.mutation(description="整改复查 re-inspect one rectified item and close it.")
    async def close_rectification(self, info: Info[Context, None],
                                  input: CloseRectificationInput) -> EnterpriseResult:
        return await run_mutation(info, lambda c: c.app.close_rectification(
            c.target, input.item, c.by, input.note, client_id=input.client_id), _updated,
            on=[enterprise(input.id)])
