"""The referral lifecycle (转介): open, persuade, accept, dispatch transport, admit, discharge,
close, cancel; and registering the quarantine sites (集中隔离点) referrals are admitted to.
Each acts as the signed-in staff member on a referral of a household (or a site run by a node)
in their jurisdiction (one elsewhere is answered as if it did not exist), is applied once per
``clientId``, and returns the referral (or site) as the pipeline shows it, or typed problems."""

from __future__ import annotations

from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.context import Context
from graphql_api.enums import Measure, ReferralKind
from graphql_api.pipeline import Call, ClientId, Reach, run_mutation
from graphql_api.problems import not_found, result
from graphql_api.reach import an_id, household, located, nodes, stored
from graphql_api.referrals.types import QuarantineSite, Referral, RegisterQuarantineSiteInput
from graphql_api.scope import household_visible


@strawberry.type(description="The referral's new state (or the state a retried clientId left).")
class ReferralUpdated:
    notification_id: int | None
    referral: Referral | None


ReferralResult = result("ReferralResult", ReferralUpdated)


@strawberry.type(description="The site as the pipeline shows it (or as a retried clientId left "
                             "it).")
class QuarantineSiteRegistered:
    notification_id: int | None
    site: QuarantineSite | None


SiteResult = result("QuarantineSiteResult", QuarantineSiteRegistered)


@strawberry.input
class OpenReferralInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    kind: ReferralKind
    reason: str
    client_id: ClientId = None


@strawberry.input(description="劝导 a persuasion the resident refused.")
class RecordPersuasionInput:
    id: strawberry.ID
    minutes: int
    refused_reason: str
    client_id: ClientId = None


@strawberry.input(description="同意 the resident agreed to go.")
class AcceptReferralInput:
    id: strawberry.ID
    minutes: int = 0
    note: str = ""
    client_id: ClientId = None


@strawberry.input(description="转运 the vehicle sent.")
class DispatchTransportInput:
    id: strawberry.ID
    vehicle: str
    escort: str = ""
    client_id: ClientId = None


@strawberry.input(description="收治 where the resident was admitted.")
class AdmitReferralInput:
    id: strawberry.ID
    site_code: str | None = None
    destination: str | None = None
    client_id: ClientId = None


@strawberry.input(description="解除 the discharge and the measure released to.")
class DischargeReferralInput:
    id: strawberry.ID
    reason: str
    release_to: Measure = Measure.NONE  # type: ignore[attr-defined]
    override_reason: str = ""
    client_id: ClientId = None


@strawberry.input(description="办结 a fever-clinic referral's outcome.")
class CloseReferralInput:
    id: strawberry.ID
    outcome: str
    client_id: ClientId = None


@strawberry.input(description="取消 why the referral is cancelled.")
class CancelReferralInput:
    id: strawberry.ID
    reason: str
    client_id: ClientId = None


def referral(raw: str) -> Reach:
    """A referral of a household of the caller's jurisdiction (its id)."""
    return located(raw, not_found(f"No referral {raw[:60]}.",
                                  "Check the referral id (referrals)."),
                   lambda ctx, k: stored(ctx.app.referral, UUID(k), "household_id"),
                   visible=household_visible)


def _updated(c: Call, nid: int | None, rid: object = None) -> ReferralUpdated:
    row = boards.referral_by_id(c.ctx.views, str(rid or c.target))
    return ReferralUpdated(notification_id=nid, referral=Referral.from_row(row) if row else None)


@strawberry.type
class ReferralMutation:
    @strawberry.mutation(description="集中隔离点 register a quarantine site run by a district or "
                                     "street of your jurisdiction.")
    async def register_quarantine_site(self, info: Info[Context, None],
                                       input: RegisterQuarantineSiteInput) -> SiteResult:
        def registered(c: Call, nid: int | None) -> QuarantineSiteRegistered:
            site = next((QuarantineSite.from_row(r) for r in boards.sites_under(
                c.ctx.views, input.node_code) if r.code == input.code), None)
            return QuarantineSiteRegistered(notification_id=nid, site=site)

        return await run_mutation(info, lambda c: c.app.register_quarantine_site(
            input.code, input.name, input.node_code, input.capacity, by=c.by,
            client_id=input.client_id), registered, on=[nodes(input.node_code)])

    @strawberry.mutation(description="开转介 refer a resident (集中隔离, 发热门诊, 医院); a second "
                                     "referral of the same kind answers the open one.")
    async def open_referral(self, info: Info[Context, None],
                            input: OpenReferralInput) -> ReferralResult:
        return await run_mutation(info, lambda c: c.app.open_referral(
            c.target, c.targets[1], input.kind.value, input.reason, c.by,
            client_id=input.client_id),
            lambda c, done: _updated(c, done.notification_id, done.referral_id),
            on=[household(input.household_id), an_id(input.resident_id, "resident")])

    @strawberry.mutation(description="劝导 a persuasion the resident refused, and its minutes.")
    async def record_persuasion(self, info: Info[Context, None],
                                input: RecordPersuasionInput) -> ReferralResult:
        return await run_mutation(info, lambda c: c.app.record_persuasion(
            c.target, c.by, input.minutes, input.refused_reason, client_id=input.client_id),
            _updated, on=[referral(input.id)])

    @strawberry.mutation(description="同意 the resident agreed to go.")
    async def accept_referral(self, info: Info[Context, None],
                              input: AcceptReferralInput) -> ReferralResult:
        return await run_mutation(info, lambda c: c.app.accept_referral(
            c.target, c.by, input.minutes, input.note, client_id=input.client_id),
            _updated, on=[referral(input.id)])

    @strawberry.mutation(description="转运 send the vehicle; the transport deadline stops.")
    async def dispatch_transport(self, info: Info[Context, None],
                                 input: DispatchTransportInput) -> ReferralResult:
        return await run_mutation(info, lambda c: c.app.dispatch_transport(
            c.target, c.by, input.vehicle, input.escort, client_id=input.client_id),
            _updated, on=[referral(input.id)])

    @strawberry.mutation(description="收治 admit to a quarantine site (siteCode) or a named "
                                     "clinic or hospital (destination).")
    async def admit_referral(self, info: Info[Context, None],
                             input: AdmitReferralInput) -> ReferralResult:
        return await run_mutation(info, lambda c: c.app.admit(
            c.target, c.by, input.site_code, input.destination, client_id=input.client_id),
            _updated, on=[referral(input.id)])

    @strawberry.mutation(description="解除 discharge; the measure is released as the policy "
                                     "allows (or with a doctor's override reason).")
    async def discharge_referral(self, info: Info[Context, None],
                                 input: DischargeReferralInput) -> ReferralResult:
        return await run_mutation(info, lambda c: c.app.discharge(
            c.target, c.by, input.reason, input.release_to.value, input.override_reason,
            client_id=input.client_id), _updated, on=[referral(input.id)])

    @strawberry.mutation(description="办结 close a fever-clinic referral with its outcome.")
    async def close_referral(self, info: Info[Context, None],
                             input: CloseReferralInput) -> ReferralResult:
        return await run_mutation(info, lambda c: c.app.close_referral(
            c.target, c.by, input.outcome, client_id=input.client_id), _updated,
            on=[referral(input.id)])

    @strawberry.mutation(description="取消 cancel a referral before admission.")
    async def cancel_referral(self, info: Info[Context, None],
                              input: CancelReferralInput) -> ReferralResult:
        return await run_mutation(info, lambda c: c.app.cancel_referral(
            c.target, c.by, input.reason, client_id=input.client_id), _updated,
            on=[referral(input.id)])
