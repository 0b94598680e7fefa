"""The referral lifecycle (转介): open, persuade, accept, dispatch transport, admit, discharge,
close, cancel; and registering the quarantine sites (集中隔离点) referrals are admitted to.
Each acts as the signed-in staff member on a referral of a household (or a site run by a node)
in their jurisdiction (one elsewhere is answered as if it did not exist), is applied once per
``clientId``, and returns the referral (or site) as the pipeline shows it, or typed problems."""

from __future__ import annotations

from functools import partial
from uuid import UUID

import strawberry

from graphql_api.enums import Measure, ReferralKind
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import not_found, result
from graphql_api.reach import an_id, household, located, nodes, stored
from graphql_api.referrals.types import QuarantineSite, Referral, RegisterQuarantineSiteInput
from graphql_api.scope import household_visible
from projections.queries import sites_under
from projections.referral_pipeline import referral_by_id


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
    release_to: Measure = Measure.NONE
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
    row = referral_by_id(c.ctx.views, str(rid or c.target))
    return ReferralUpdated(notification_id=nid, referral=Referral.from_row(row) if row else None)


def _site(c: Call, nid: int | None) -> QuarantineSiteRegistered:
    site = next((QuarantineSite.from_row(r) for r in sites_under(
        c.ctx.views, c.input.node_code) if r.code == c.input.code), None)
    return QuarantineSiteRegistered(notification_id=nid, site=site)


_step = partial(mutation, result=ReferralResult, success=_updated,
                on=lambda i: [referral(i.id)])
"""A step of a referral of the caller's jurisdiction, answering it as the pipeline shows it."""


@strawberry.type
class ReferralMutation:
    register_quarantine_site = mutation(
        "集中隔离点 register a quarantine site run by a district or street of your jurisdiction.",
        RegisterQuarantineSiteInput, lambda c, i: c.app.register_quarantine_site(
            i.code, i.name, i.node_code, i.capacity, by=c.by, client_id=i.client_id),
        result=SiteResult, success=_site, on=lambda i: [nodes(i.node_code)])

    open_referral = mutation(
        "开转介 refer a resident (集中隔离, 发热门诊, 医院); a second referral of the same kind "
        "answers the open one.", OpenReferralInput, lambda c, i: c.app.open_referral(
            c.target, c.targets[1], i.kind.value, i.reason, by=c.by, client_id=i.client_id),
        result=ReferralResult,
        success=lambda c, done: _updated(c, done.notification_id, done.referral_id),
        on=lambda i: [household(i.household_id), an_id(i.resident_id, "resident")])

    record_persuasion = _step(
        "劝导 a persuasion the resident refused, and its minutes.", RecordPersuasionInput,
        lambda c, i: c.app.record_persuasion(c.target, c.by, i.minutes, i.refused_reason,
                                             client_id=i.client_id))

    accept_referral = _step(
        "同意 the resident agreed to go.", AcceptReferralInput,
        lambda c, i: c.app.accept_referral(c.target, c.by, i.minutes, i.note,
                                           client_id=i.client_id))

    dispatch_transport = _step(
        "转运 send the vehicle; the transport deadline stops.", DispatchTransportInput,
        lambda c, i: c.app.dispatch_transport(c.target, c.by, i.vehicle, i.escort,
                                              client_id=i.client_id))

    admit_referral = _step(
        "收治 admit to a quarantine site (siteCode) or a named clinic or hospital "
        "(destination).", AdmitReferralInput,
        lambda c, i: c.app.admit(c.target, c.by, i.site_code, i.destination,
                                 client_id=i.client_id))

    discharge_referral = _step(
        "解除 discharge; the measure is released as the policy allows (or with a doctor's "
        "override reason).", DischargeReferralInput,
        lambda c, i: c.app.discharge(c.target, c.by, i.reason, i.release_to.value,
                                     i.override_reason, client_id=i.client_id))

    close_referral = _step(
        "办结 close a fever-clinic referral with its outcome.", CloseReferralInput,
        lambda c, i: c.app.close_referral(c.target, c.by, i.outcome, client_id=i.client_id))

    cancel_referral = _step(
        "取消 cancel a referral before admission.", CancelReferralInput,
        lambda c, i: c.app.cancel_referral(c.target, c.by, i.reason, client_id=i.client_id))
