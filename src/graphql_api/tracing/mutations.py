"""Contact tracing (流调): open a case, record exposures, match a traced person to a resident
(a certain match applies, an uncertain one is proposed until confirmed or rejected), confirm or
rule out a case. Each acts as the signed-in staff member on a case followed up in their
jurisdiction (one elsewhere is answered as if it did not exist), is applied once per
``clientId``, and returns the case as the contact follow-up read model shows it, or typed
problems. Who may do what is the domain's rule (``gridcore.authority``: tracers, and doctors
for a diagnosis)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

import strawberry

from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import not_found, result
from graphql_api.reach import an_id, household, located, nodes, stored
from graphql_api.tracing.types import Closeness, ExposureSetting, TracedPersonInput, TracingCase
from gridcore import errors
from gridcore.tracing import case_id
from projections import contact_followup


@strawberry.type(description="The case as the follow-up read model shows it after the change "
                             "(or as a retried clientId left it).")
class CaseUpdated:
    notification_id: int | None
    case: TracingCase | None


CaseResult = result("CaseResult", CaseUpdated)


@strawberry.type(description="The exposure was recorded: the contact's person id (new or "
                             "already traced) and generation, and the case.")
class ExposureRecorded:
    notification_id: int | None
    person_id: strawberry.ID
    generation: int
    case: TracingCase | None


ExposureResult = result("ExposureResult", ExposureRecorded)


@strawberry.type(description="A match was applied (certain: the tag and the measure followed) "
                             "or only proposed (confirmMatch or rejectMatch decides it).")
class ContactMatched:
    notification_id: int | None
    applied: bool
    case: TracingCase | None


MatchResult = result("MatchResult", ContactMatched)


@strawberry.input(description="病例 open an index case: a resident (householdId, residentId), "
                              "a person outside the register (person), or a contact of "
                              "another case (sourceCaseNo, sourcePersonId).")
class OpenCaseInput:
    case_no: str = strawberry.field(description="The investigation's case number, e.g. "
                                                "WH-2020-0012 (used once).")
    scope: str = strawberry.field(description="The grid node that follows it up.")
    reason: str = ""
    confirmed: bool = strawberry.field(default=False, description="确诊 already confirmed.")
    household_id: strawberry.ID | None = None
    resident_id: strawberry.ID | None = None
    person: TracedPersonInput | None = None
    source_case_no: str | None = None
    source_person_id: strawberry.ID | None = None
    client_id: ClientId = None


@strawberry.input(description="暴露 an exposure of a contact to the index (no viaPersonId) or "
                              "to a close contact of the case: a contact already traced "
                              "(personId), a resident (householdId, residentId) or a person "
                              "outside the register (person).")
class RecordExposureInput:
    case_no: str
    exposed_at: datetime = strawberry.field(description="When, with a time zone.")
    setting: ExposureSetting
    place: str = strawberry.field(description="Where, e.g. 家中, 公司会议室, K123次列车 (no "
                                              "phone or ID number in it).")
    closeness: Closeness
    via_person_id: strawberry.ID | None = None
    person_id: strawberry.ID | None = None
    household_id: strawberry.ID | None = None
    resident_id: strawberry.ID | None = None
    person: TracedPersonInput | None = None
    client_id: ClientId = None


@strawberry.input(description="落地 match a traced person to a resident of the register.")
class MatchContactInput:
    case_no: str
    person_id: strawberry.ID
    household_id: strawberry.ID
    resident_id: strawberry.ID
    client_id: ClientId = None


@strawberry.input(description="A proposed match to confirm.")
class ConfirmMatchInput:
    case_no: str
    person_id: strawberry.ID
    client_id: ClientId = None


@strawberry.input(description="A proposed match to reject, and why.")
class RejectMatchInput:
    case_no: str
    person_id: strawberry.ID
    reason: str
    client_id: ClientId = None


@strawberry.input(description="确诊 the index is a confirmed case.")
class ConfirmCaseInput:
    case_no: str
    reason: str = ""
    client_id: ClientId = None


@strawberry.input(description="排除 the index is no case, and why.")
class RuleOutCaseInput:
    case_no: str
    reason: str
    client_id: ClientId = None


def case(raw: str | None) -> Reach:
    """A case followed up in the caller's jurisdiction (by number), as its id; None when an
    optional one is not given."""
    if raw is None:
        async def none(ctx: Any) -> None:
            return None
        return none
    return located(raw, not_found(f"No case {raw[:60]}.",
                                  "Check the case number, or open the case first (openCase)."),
                   lambda ctx, k: stored(ctx.app.case_by_no, k, "scope"),
                   key=lambda r: r.strip() or None, as_id=case_id)


def optional_household(raw: str | None) -> Reach:
    if raw is None:
        async def none(ctx: Any) -> None:
            return None
        return none
    return household(raw)


def _person(p: TracedPersonInput | None) -> dict[str, str | None]:
    if p is None:
        return {}
    return {"name": p.name, "phone": p.phone, "id_number": p.id_number, "address": p.address}


def _personal(p: TracedPersonInput | None) -> Iterable[str | None]:
    return list(_person(p).values())


def _case_of(c: Call, cid: object) -> TracingCase | None:
    rows = contact_followup.cases_by_id(c.ctx.views, [str(cid)], c.app.clock())
    return TracingCase.from_row(rows[0], None) if rows else None


def _updated(c: Call, nid: int | None) -> CaseUpdated:
    return CaseUpdated(notification_id=nid, case=_case_of(c, c.target))


def _exposure(c: Call, i: RecordExposureInput) -> Any:
    if i.exposed_at.tzinfo is None or i.exposed_at.utcoffset() is None:
        raise errors.InvalidInput("exposedAt has no time zone.",
                                  "Give one, e.g. 2020-02-17T08:00:00+08:00.")
    _, via, person, hid, rid = c.targets
    return c.app.record_exposure(c.target, i.exposed_at, i.setting.value, i.place,
                                 i.closeness.value, by=c.by, via=via, person_id=person,
                                 hid=hid, rid=rid, client_id=i.client_id, **_person(i.person))


def _open(c: Call, i: OpenCaseInput) -> int | None:
    scope, hid, rid, source, person = c.targets
    return c.app.open_case(i.case_no, scope, i.reason, by=c.by, hid=hid, rid=rid,
                           source_case=source, source_person=person, confirmed=i.confirmed,
                           client_id=i.client_id, **_person(i.person))


_step = partial(mutation, result=CaseResult, success=_updated,
                on=lambda i: [case(i.case_no)])
"""A step of a case of the caller's jurisdiction, answering it as the read model shows it."""


@strawberry.type
class TracingMutation:
    open_case = mutation(
        "病例 open an index case followed up by a node of your jurisdiction (tracers).",
        OpenCaseInput, _open, result=CaseResult,
        success=lambda c, nid: CaseUpdated(notification_id=nid,
                                           case=_case_of(c, case_id(c.input.case_no.strip()))),
        on=lambda i: [nodes(i.scope), optional_household(i.household_id),
                      an_id(i.resident_id, "resident"), case(i.source_case_no),
                      an_id(i.source_person_id, "person")],
        personal=lambda i: _personal(i.person))

    record_exposure = mutation(
        "暴露 record an exposure of a contact; the contact's measure follows their latest "
        "exposure (a resident gets the tag and the policy's measure).", RecordExposureInput,
        _exposure, result=ExposureResult,
        success=lambda c, done: ExposureRecorded(
            notification_id=done.notification_id, person_id=strawberry.ID(str(done.person_id)),
            generation=int(done.generation), case=_case_of(c, c.target)),
        on=lambda i: [case(i.case_no), an_id(i.via_person_id, "person"),
                      an_id(i.person_id, "person"), optional_household(i.household_id),
                      an_id(i.resident_id, "resident")],
        personal=lambda i: [*_personal(i.person), i.place])

    match_contact = mutation(
        "落地 match a traced person to a resident: a certain match (same ID number, phone and "
        "name, or name and address) applies at once, an uncertain one is only proposed.",
        MatchContactInput, lambda c, i: c.app.match_contact(
            c.target, c.targets[1], c.targets[2], c.targets[3], by=c.by,
            client_id=i.client_id),
        result=MatchResult,
        success=lambda c, done: ContactMatched(notification_id=done.notification_id,
                                               applied=done.applied,
                                               case=_case_of(c, c.target)),
        on=lambda i: [case(i.case_no), an_id(i.person_id, "person"),
                      household(i.household_id), an_id(i.resident_id, "resident")])

    confirm_match = _step(
        "确认匹配 confirm a proposed match: it applies now (the tag and the measure).",
        ConfirmMatchInput, lambda c, i: c.app.confirm_match(
            c.target, _uuid(i.person_id), by=c.by, client_id=i.client_id))

    reject_match = _step(
        "驳回匹配 reject a proposed match: the contact stays to be located.",
        RejectMatchInput, lambda c, i: c.app.reject_match(
            c.target, _uuid(i.person_id), i.reason, by=c.by, client_id=i.client_id))

    confirm_case = _step(
        "确诊 the index is a confirmed case: the secondary contacts exposed to them in the case "
        "they came from become close contacts (doctors).", ConfirmCaseInput,
        lambda c, i: c.app.confirm_case(c.target, by=c.by, reason=i.reason,
                                        client_id=i.client_id))

    rule_out_case = _step(
        "排除 the index is no case: its contacts are released as the policy says (doctors).",
        RuleOutCaseInput, lambda c, i: c.app.rule_out_case(c.target, i.reason, by=c.by,
                                                           client_id=i.client_id))


def _uuid(raw: str) -> UUID:
    try:
        return UUID(str(raw))
    except ValueError:
        raise errors.InvalidInput(f"{str(raw)[:60]!r} is not a person id.",
                                  "Give the contact's personId as the API returned it.") \
            from None
