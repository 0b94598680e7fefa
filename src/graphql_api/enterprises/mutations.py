"""Enterprises resuming work (复工复产): register one with its specialist, assign another
specialist, file for resumption, declare employees' health, review a filing, inspect, close a
rectification. Each acts as the signed-in staff member (the enterprise's specialist, or a role
the domain lets act) on an enterprise located in their jurisdiction (one elsewhere is answered
as if it did not exist; so is a specialist outside it), is applied once per ``clientId`` and
returns the enterprise, or typed problems."""

from __future__ import annotations

from functools import partial

import strawberry

from graphql_api.enterprises.types import (
    AssignSpecialistInput,
    DeclareEmployeeHealthInput,
    Enterprise,
    FileResumptionInput,
    RegisterEnterpriseInput,
)
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import NotFoundProblem, not_found, result
from graphql_api.reach import located, nodes, staff
from gridcore import enterprise as enterprise_domain
from projections.base import ReadViews
from projections.enterprise_board import enterprise_by_id


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


def _location(views: ReadViews, eid: str) -> str | None:
    row = enterprise_by_id(views, eid)
    return row.location if row else None


def _specialist(raw: str) -> Reach:
    """A staff member of the caller's jurisdiction (anyone else reads as unknown)."""
    def missing(value: str) -> NotFoundProblem:
        return not_found(f"No staff member {value[:60]} in your jurisdiction.",
                         "Choose an enterprise specialist from `staff`.")
    return staff(raw, missing)


def _updated(c: Call, nid: int | None, eid: object = None) -> EnterpriseUpdated:
    row = enterprise_by_id(c.ctx.views, str(eid or c.target))
    return EnterpriseUpdated(notification_id=nid,
                             enterprise=Enterprise.from_row(row) if row else None)


_act = partial(mutation, result=EnterpriseResult, success=_updated,
               on=lambda i: [enterprise(i.id)])
"""A command on an enterprise of the caller's jurisdiction, answering it as the board shows."""


@strawberry.type
class EnterpriseMutation:
    register_enterprise = mutation(
        "企业登记 register an enterprise located in your jurisdiction with its one specialist "
        "(对口负责).", RegisterEnterpriseInput, lambda c, i: c.app.register_enterprise(
            i.credit_code, i.name, i.department, i.location_code, c.targets[1], by=c.by,
            client_id=i.client_id), result=EnterpriseResult,
        success=lambda c, nid: _updated(
            c, nid, enterprise_domain.enterprise_id(c.input.credit_code)),
        on=lambda i: [nodes(i.location_code), _specialist(i.specialist_id)])

    assign_specialist = mutation(
        "对口负责 make another specialist of your jurisdiction the enterprise's one specialist.",
        AssignSpecialistInput, lambda c, i: c.app.assign_specialist(
            c.target, c.targets[1], by=c.by, client_id=i.client_id), result=EnterpriseResult,
        success=_updated, on=lambda i: [enterprise(i.enterprise_id), _specialist(i.specialist_id)])

    file_resumption = mutation(
        "复工备案 file for resumption with the checklist items in place; the specialist then "
        "reviews it.", FileResumptionInput, lambda c, i: c.app.file_resumption(
            c.target, list(i.items), i.employees, i.note, client_id=i.client_id, by=c.by),
        result=EnterpriseResult, success=_updated, on=lambda i: [enterprise(i.enterprise_id)])

    declare_employee_health = mutation(
        "员工健康申报 record the employees' health declaration (how many declared, how many "
        "are ill).", DeclareEmployeeHealthInput, lambda c, i: c.app.declare_employee_health(
            c.target, i.declared, i.symptomatic, client_id=i.client_id, by=c.by),
        result=EnterpriseResult, success=_updated, on=lambda i: [enterprise(i.enterprise_id)])

    review_resumption = _act(
        "复工审核 approve a resumption filing, or send it back with reasons.",
        ReviewResumptionInput, lambda c, i: c.app.review_resumption(
            c.target, c.by, i.approved, i.reasons or [], client_id=i.client_id))

    inspect_enterprise = _act(
        "检查 an inspection round: a failed item opens a rectification (整改), a passed one "
        "closes it.", InspectEnterpriseInput, lambda c, i: c.app.inspect_enterprise(
            c.target, c.by, {r.item: r.passed for r in i.results}, i.note,
            client_id=i.client_id))

    close_rectification = _act(
        "整改复查 re-inspect one rectified item and close it.", CloseRectificationInput,
        lambda c, i: c.app.close_rectification(c.target, i.item, c.by, i.note,
                                               client_id=i.client_id))
