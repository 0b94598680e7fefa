"""The referral lifecycle (转介): open, persuade, accept, dispatch transport, admit, discharge,
close, cancel; and registering the quarantine sites (集中隔离点) referrals are admitted to.
Each acts as the signed-in staff member on a referral of a household (or a site run by a node)
in their jurisdiction (one elsewhere is answered as if it did not exist), is applied once per
``clientId``, and returns the referral (or site) as the pipeline shows it, or typed problems."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api import boards
from graphql_api.commands import Done, nodes_in_reach, not_an_id, on_household, run_command
from graphql_api.context import Context
from graphql_api.enums import Measure, ReferralKind
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
from graphql_api.referrals.types import QuarantineSite, Referral, RegisterQuarantineSiteInput
from graphql_api.scope import household_visible
from gridcore import errors


@strawberry.type(description="The referral's new state (or the state a retried clientId left).")
class ReferralUpdated:
    notification_id: int | None
    referral: Referral | None


ReferralResult = Annotated[
    ReferralUpdated | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("ReferralResult"),
]

@strawberry.type(description="The site as the pipeline shows it (or as a retried clientId left "
                             "it).")
class QuarantineSiteRegistered:
    notification_id: int | None
    site: QuarantineSite | None


SiteResult = Annotated[
    QuarantineSiteRegistered | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("QuarantineSiteResult"),
]

ClientId = Annotated[str | None, strawberry.argument(
    description="The device's id for this command: a retry is applied once.")]


@strawberry.input
class OpenReferralInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    kind: ReferralKind
    reason: str
    client_id: str | None = None


def _missing(raw: str) -> NotFoundProblem:
    return NotFoundProblem(code=errors.NotFound.code, problem=f"No referral {raw[:60]}.",
                           remedy="Check the referral id (referrals).")


def _updated(ctx: Context, nid: int | None, rid: str) -> ReferralUpdated:
    row = boards.referral_by_id(ctx.views, rid)
    return ReferralUpdated(notification_id=nid, referral=Referral.from_row(row) if row else None)


async def _on_referral(ctx: Context, raw: str,
                       command: Callable[[Any, UUID, UUID], int | None]) -> ReferralResult:
    if ctx.caller is None:
        return not_signed_in()
    rid = canonical(raw)
    if rid is None:
        return _missing(raw)
    try:
        found = await asyncio.to_thread(ctx.app.referral, UUID(rid))
    except errors.NotFound:
        return _missing(raw)
    if not await household_visible(ctx, str(found.household_id)):
        return _missing(raw)
    by = ctx.caller.staff_id
    nid = await run_command(ctx, lambda app: command(app, UUID(rid), by))
    if isinstance(nid, Problem):
        return nid
    return _updated(ctx, nid, rid)


@strawberry.type
class ReferralMutation:
    @strawberry.mutation(description="集中隔离点 register a quarantine site run by a district or "
                                     "street of your jurisdiction.")
    async def register_quarantine_site(self, info: Info[Context, None],
                                       input: RegisterQuarantineSiteInput) -> SiteResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        if (outside := await nodes_in_reach(ctx, input.node_code)) is not None:
            return outside

        by = ctx.caller.staff_id
        nid = await run_command(ctx, lambda app: app.register_quarantine_site(
            input.code, input.name, input.node_code, input.capacity, by=by,
            client_id=input.client_id))
        if isinstance(nid, Problem):
            return nid
        site = next((QuarantineSite.from_row(r) for r in boards.sites_under(
            ctx.views, input.node_code) if r.code == input.code), None)
        return QuarantineSiteRegistered(notification_id=nid, site=site)

    @strawberry.mutation(description="开转介 refer a resident (集中隔离, 发热门诊, 医院); a second "
                                     "referral of the same kind answers the open one.")
    async def open_referral(self, info: Info[Context, None],
                            input: OpenReferralInput) -> ReferralResult:
        ctx = info.context
        resident = canonical(input.resident_id)
        if resident is None:
            return not_an_id(input.resident_id, "resident")
        opened: list[str] = []

        def command(app: Any, hid: UUID, by: UUID) -> int | None:
            done = app.open_referral(hid, UUID(resident), input.kind.value, input.reason, by,
                                     client_id=input.client_id)
            opened.append(str(done.referral_id))
            return done.notification_id

        done = await on_household(ctx, input.household_id, command)
        if not isinstance(done, Done):
            return done
        return _updated(ctx, done.notification_id, opened[0])

    @strawberry.mutation(description="劝导 a persuasion the resident refused, and its minutes.")
    async def record_persuasion(self, info: Info[Context, None], id: strawberry.ID,
                                minutes: int, refused_reason: str,
                                client_id: ClientId = None) -> ReferralResult:
        return await _on_referral(info.context, id, lambda app, rid, by: app.record_persuasion(
            rid, by, minutes, refused_reason, client_id=client_id))

    @strawberry.mutation(description="同意 the resident agreed to go.")
    async def accept_referral(self, info: Info[Context, None], id: strawberry.ID,
                              minutes: int = 0, note: str = "",
                              client_id: ClientId = None) -> ReferralResult:
        return await _on_referral(info.context, id, lambda app, rid, by: app.accept_referral(
            rid, by, minutes, note, client_id=client_id))

    @strawberry.mutation(description="转运 send the vehicle; the transport deadline stops.")
    async def dispatch_transport(self, info: Info[Context, None], id: strawberry.ID,
                                 vehicle: str, escort: str = "",
                                 client_id: ClientId = None) -> ReferralResult:
        return await _on_referral(info.context, id, lambda app, rid, by: app.dispatch_transport(
            rid, by, vehicle, escort, client_id=client_id))

    @strawberry.mutation(description="收治 admit to a quarantine site (siteCode) or a named "
                                     "clinic or hospital (destination).")
    async def admit_referral(self, info: Info[Context, None], id: strawberry.ID,
                             site_code: str | None = None, destination: str | None = None,
                             client_id: ClientId = None) -> ReferralResult:
        return await _on_referral(info.context, id, lambda app, rid, by: app.admit(
            rid, by, site_code, destination, client_id=client_id))

    @strawberry.mutation(description="解除 discharge; the measure is released as the policy "
                                     "allows (or with a doctor's override reason).")
    async def discharge_referral(self, info: Info[Context, None], id: strawberry.ID,
                                 reason: str, release_to: Measure = Measure.NONE,  # type: ignore[attr-defined]
                                 override_reason: str = "",
                                 client_id: ClientId = None) -> ReferralResult:
        return await _on_referral(info.context, id, lambda app, rid, by: app.discharge(
            rid, by, reason, release_to.value, override_reason, client_id=client_id))

    @strawberry.mutation(description="办结 close a fever-clinic referral with its outcome.")
    async def close_referral(self, info: Info[Context, None], id: strawberry.ID, outcome: str,
                             client_id: ClientId = None) -> ReferralResult:
        return await _on_referral(info.context, id, lambda app, rid, by: app.close_referral(
            rid, by, outcome, client_id=client_id))

    @strawberry.mutation(description="取消 cancel a referral before admission.")
    async def cancel_referral(self, info: Info[Context, None], id: strawberry.ID, reason: str,
                              client_id: ClientId = None) -> ReferralResult:
        return await _on_referral(info.context, id, lambda app, rid, by: app.cancel_referral(
            rid, by, reason, client_id=client_id))

