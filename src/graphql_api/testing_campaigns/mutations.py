"""Mass-testing campaigns (全员核酸检测): launch a round over a scope with its sampling sites,
record a batch of samples into pooled tubes (one bad row refuses the batch, naming it), seal a
tube, record a tube's lab result. Each acts as the signed-in staff member on a node, a campaign
or a tube of their jurisdiction (one elsewhere is answered as if it did not exist), is applied
once per ``clientId``, and answers with the campaign or the tube as it stands after, or typed
problems. Who may do what is the domain's rule (``gridcore.authority``: officials launch; field
and medical staff sample and seal; medical staff record results)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from graphql_api.ids import canonical
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import not_found, result
from graphql_api.reach import located, nodes
from graphql_api.testing_campaigns.types import (
    SamplingSiteInput,
    TestingCampaign,
    Tube,
    TubeResult,
)
from gridcore import errors
from gridcore.mass_testing import SamplingSite, mass_testing_id
from gridcore.mass_testing_commands import SampleBatchReport, SampleRow


@strawberry.type(description="The campaign as it stands after the change.")
class TestingCampaignUpdated:
    notification_id: int | None
    campaign: TestingCampaign | None


CampaignResult = result("TestingCampaignResult", TestingCampaignUpdated)


@strawberry.type(description="The batch was recorded (or had been, under this clientId).")
class SamplesRecorded:
    notification_id: int | None
    recorded: int
    campaign: TestingCampaign | None


SamplesResult = result("SamplesResult", SamplesRecorded)


@strawberry.type(description="The tube as it stands after the change.")
class TubeUpdated:
    notification_id: int | None
    tube: Tube | None


TubeUpdateResult = result("TubeUpdateResult", TubeUpdated)


@strawberry.input(description="全员核酸检测 launch a round over a node of your jurisdiction: "
                              "every household scheduled to a site's slot, or door-to-door.")
class LaunchTestingCampaignInput:
    scope: str
    round: int
    sites: list[SamplingSiteInput]
    starts: datetime | None = strawberry.field(default=None, description="With a time zone "
                                                                         "(default now).")
    days: int = 2
    name: str = ""
    follow_up_of_round: int | None = strawberry.field(
        default=None, description="A second round: the earlier round (of the same scope) "
                                  "whose unsampled residents it covers.")
    client_id: ClientId = None


@strawberry.input(description="One sample: a resident of the campaign into a tube.")
class SampleInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    tube_code: str
    taken_at: datetime | None = strawberry.field(default=None, description="With a time zone "
                                                                           "(default now).")


@strawberry.input(description="采样 a batch of samples of one campaign (a site's hour, a "
                              "door-to-door round).")
class RecordSamplesInput:
    scope: str
    round: int
    samples: list[SampleInput]
    client_id: ClientId = None


@strawberry.input(description="封管 seal a tube: no more samples go in.")
class SealTubeInput:
    tube_code: str
    client_id: ClientId = None


@strawberry.input(description="核酸结果 a tube's lab result.")
class RecordTubeResultInput:
    tube_code: str
    result: TubeResult
    client_id: ClientId = None


def campaign(scope: str, round_no: int) -> Reach:
    """A campaign over a scope of the caller's jurisdiction, as its id."""
    def place(ctx: Any, key: str) -> Any:
        def read() -> str | None:
            try:
                return ctx.app.testing_campaign_of(key, round_no).scope  # type: ignore[no-any-return]
            except errors.GridcoreError:
                return None
        return asyncio.to_thread(read)
    return located(scope, not_found(f"No testing round {round_no} of {scope.strip()[:60]}.",
                                    "Check the scope and round, or launch it first "
                                    "(launchTestingCampaign)."),
                   place, key=lambda r: r.strip() or None,
                   as_id=lambda k: mass_testing_id(k, round_no))


def tube(code: str) -> Reach:
    """A tube of a campaign of the caller's jurisdiction, as its code."""
    def place(ctx: Any, key: str) -> Any:
        def read() -> str | None:
            try:
                return ctx.app.testing_campaign_of_tube(key).scope  # type: ignore[no-any-return]
            except errors.GridcoreError:
                return None
        return asyncio.to_thread(read)
    return located(code, not_found(f"No sample was put into tube {code.strip()[:40]}.",
                                   "Check the tube code."),
                   place, key=lambda r: r.strip() or None, as_id=str)


def _sites(i: LaunchTestingCampaignInput) -> list[SamplingSite]:
    return [SamplingSite(site_id=s.site_id, name=s.name, place=s.place,
                         opens_hour=s.opens_hour, closes_hour=s.closes_hour,
                         capacity_per_hour=s.capacity_per_hour) for s in i.sites]


def _launch(c: Call, i: LaunchTestingCampaignInput) -> int | None:
    if i.starts is not None and (i.starts.tzinfo is None or i.starts.utcoffset() is None):
        raise errors.InvalidInput("starts has no time zone.",
                                  "Give one, e.g. 2020-05-14T08:00:00+08:00.")
    earlier = (mass_testing_id(c.target, i.follow_up_of_round)
               if i.follow_up_of_round is not None else None)
    return c.app.launch_testing_campaign(c.target, i.round, _sites(i), by=c.by, starts=i.starts,
                                         days=i.days, name=i.name, follow_up_of=earlier,
                                         client_id=i.client_id)


def _rows(i: RecordSamplesInput) -> list[SampleRow]:
    rows = []
    for n, s in enumerate(i.samples, start=1):
        hid, rid = canonical(s.household_id), canonical(s.resident_id)
        if hid is None or rid is None:
            raise errors.InvalidInput(f"Sample {n} of the batch: "
                                      f"{'householdId' if hid is None else 'residentId'} is "
                                      "not an id.", "Give ids as the API returned them.")
        if s.taken_at is not None and (s.taken_at.tzinfo is None
                                       or s.taken_at.utcoffset() is None):
            raise errors.InvalidInput(f"Sample {n} of the batch: takenAt has no time zone.",
                                      "Give one, e.g. 2020-05-14T08:00:00+08:00.")
        rows.append(SampleRow(UUID(hid), UUID(rid), s.tube_code, s.taken_at))
    return rows


def _campaign_now(c: Call, cid: UUID) -> TestingCampaign | None:
    try:
        found = c.app.testing_campaign(cid)
    except errors.GridcoreError:
        return None
    return TestingCampaign.of(found)


def _tube_now(c: Call, nid: int | None) -> TubeUpdated:
    try:
        t = c.app.testing_campaign_of_tube(c.target).tube(c.target)
    except errors.GridcoreError:
        return TubeUpdated(notification_id=nid, tube=None)
    return TubeUpdated(notification_id=nid, tube=Tube.of(t))


@strawberry.type
class TestingCampaignMutation:
    launch_testing_campaign = mutation(
        "全员核酸检测 launch a testing round over a node of your jurisdiction (officials): every "
        "household scheduled to a sampling site's slot within capacity, or door-to-door for "
        "the vulnerable and those under measures (the policy decides); the policy's pool size "
        "is fixed in the campaign.", LaunchTestingCampaignInput, _launch,
        result=CampaignResult,
        success=lambda c, nid: TestingCampaignUpdated(
            notification_id=nid,
            campaign=_campaign_now(c, mass_testing_id(c.target, c.input.round))),
        on=lambda i: [nodes(i.scope.strip())])

    record_samples = mutation(
        "采样 record a batch of samples of a campaign of your jurisdiction into pooled tubes "
        "(混检, up to the pool size; a retest due into a tube of its own), in one "
        "transaction: one bad row refuses the batch, naming it.", RecordSamplesInput,
        lambda c, i: c.app.record_samples(c.target, _rows(i), by=c.by, client_id=i.client_id),
        result=SamplesResult,
        success=lambda c, done: SamplesRecorded(
            notification_id=done.notification_id if isinstance(done, SampleBatchReport)
            else None, recorded=done.recorded if isinstance(done, SampleBatchReport) else 0,
            campaign=_campaign_now(c, c.target)),
        on=lambda i: [campaign(i.scope, i.round)])

    seal_tube = mutation(
        "封管 seal a tube of a campaign of your jurisdiction: no more samples go in; the lab "
        "may report its result.", SealTubeInput,
        lambda c, i: c.app.seal_tube(c.target, by=c.by, client_id=i.client_id),
        result=TubeUpdateResult, success=_tube_now, on=lambda i: [tube(i.tube_code)])

    record_tube_result = mutation(
        "核酸结果 record a tube's lab result (medical staff): negatives become tests; a "
        "positive pool puts its members' households under temporary control and schedules "
        "single-tube retests (单采单检); a positive single tube opens a confirmed case "
        "(核酸-<tube code>).", RecordTubeResultInput,
        lambda c, i: c.app.record_tube_result(c.target, i.result.value, by=c.by,
                                              client_id=i.client_id),
        result=TubeUpdateResult, success=_tube_now, on=lambda i: [tube(i.tube_code)])
