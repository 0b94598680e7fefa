"""Mutations of risk zoning (三区划分): draw the zones around cases, apply their measures, sweep
a zone, lift them. Each acts as the signed-in staff member on a community of their
jurisdiction (one outside reads as missing), is applied once per ``clientId`` and answers
the zoning as ``riskZones`` shows it, or typed problems. Who may is the domain's rule
(``gridcore.authority.ZONERS``: an official of the community's street or above)."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Any
from uuid import UUID

import strawberry

from graphql_api.enums import Crs
from graphql_api.geo.types import PointInput
from graphql_api.ids import canonical
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import Problem, not_found, result
from graphql_api.reach import located, nodes, stored
from graphql_api.zoning.types import RiskZoning, ZoneKind, read_zoning
from gridcore import geo
from gridcore.tracing import case_id
from gridcore.zoning_commands import ZoneMeasuresReport, ZoneSweep, ZoningReport
from gridcore.zoning_index import RISK_ZONINGS_ID, RiskZonings

if TYPE_CHECKING:
    from graphql_api.context import Context
    from gridcore.application import GridcoreApp


@strawberry.type(description="措施 what applying the zones' measures did to the residents.")
class ZoneMeasuresOutcome:
    imposed: int = strawberry.field(description="put under their zone's measure")
    left: int = strawberry.field(description="left as they were: already under a measure as "
                                             "strict (centralized quarantine, hospital)")
    refused: int = strawberry.field(description="refused by the measure rules")


@strawberry.type(description="排查 the sweep launched over a zone.")
class ZoneSweepLaunched:
    campaign_id: strawberry.ID
    round_no: int | None = strawberry.field(description="the community's round (null on a "
                                                        "retry under the same clientId)")


@strawberry.type(description="The zoning as it is after the change (or had been, under this "
                             "clientId).")
class ZoningChanged:
    notification_id: int | None
    zoning: RiskZoning
    note: str | None = strawberry.field(
        default=None, description="what to do next (e.g. locate the households with no point)")
    measures: ZoneMeasuresOutcome | None = None
    sweep: ZoneSweepLaunched | None = None


ZoningResult = result("ZoningResult", ZoningChanged)


@strawberry.input(description="三区划分 draw the zones around cases (each by its id or case "
                              "number; its index's household located) and/or points given "
                              "directly in `crs`.")
class DrawRiskZonesInput:
    community: str
    case_ids: list[str] = strawberry.field(default_factory=list)
    points: list[PointInput] = strawberry.field(default_factory=list)
    crs: Crs = Crs.WGS84
    reason: str = ""
    client_id: ClientId = None


@strawberry.input
class ZoningInput:
    zoning_id: strawberry.ID
    client_id: ClientId = None


@strawberry.input(description="排查 a sweep over one zone's households, for `days` (1-366).")
class LaunchZoneSweepInput:
    zoning_id: strawberry.ID
    zone: ZoneKind
    days: int = 1
    client_id: ClientId = None


@strawberry.input(description="解除 lift the zones before the rule would, saying why.")
class LiftRiskZonesInput:
    zoning_id: strawberry.ID
    reason: str
    client_id: ClientId = None


def a_zoning(raw: str) -> Reach:
    """A zoning of a community of the caller's jurisdiction, by id."""
    return located(raw, not_found(f"No risk zoning {raw[:60]}.",
                                  "Check the id: drawRiskZones and riskZones give it."),
                   lambda ctx, k: stored(ctx.app.risk_zoning, UUID(k), "community"))


def cases(raw: list[str]) -> Reach:
    """Cases followed up in the caller's jurisdiction, each by id or case number, as ids."""
    async def reach(ctx: Context) -> list[UUID] | Problem:
        out = []
        for value in raw:
            key = canonical(value)
            cid = UUID(key) if key else case_id(value.strip())
            found = await located(str(cid), not_found(
                f"No case {value[:60]}.", "Give the id or number of a case of your "
                "jurisdiction (openCase), or give the address as a point."),
                lambda c, k: stored(c.app.case, UUID(k), "scope"))(ctx)
            if isinstance(found, Problem):
                return found
            out.append(found)
        return out
    return reach


def _drawn_id(app: GridcoreApp, c: Call, out: Any) -> UUID:
    """The zoning a draw made: the report's, or on a retry under the same clientId (the
    command is not run again) the community's newest one drawn by the caller around these
    cases."""
    if isinstance(out, ZoningReport):
        return out.zoning_id
    index = app._find(RiskZonings, RISK_ZONINGS_ID, for_reading=True)
    for zid in reversed(index.of(c.target) if index is not None else []):
        z = app.risk_zoning(zid)
        if z.drawn_by == c.by and z.case_ids[:len(c.targets[1])] == list(c.targets[1]):
            return zid
    raise LookupError("the zoning drawn under this clientId was not found")


async def _drawn(c: Call, out: Any) -> ZoningChanged:
    def read() -> ZoningChanged:
        zid = _drawn_id(c.app, c, out)
        note = out.note if isinstance(out, ZoningReport) and out.note else None
        nid = out.notification_id if isinstance(out, ZoningReport) else out
        return ZoningChanged(notification_id=nid, zoning=read_zoning(c.app, zid), note=note)
    return await asyncio.to_thread(read)


async def _changed(c: Call, out: Any) -> ZoningChanged:
    def read() -> ZoningChanged:
        zid = c.target
        zoning = read_zoning(c.app, zid)
        changed = ZoningChanged(notification_id=out if isinstance(out, int) else None,
                                zoning=zoning)
        if isinstance(out, ZoneMeasuresReport):
            changed.notification_id = out.notification_id
            changed.measures = ZoneMeasuresOutcome(imposed=out.imposed, left=out.left,
                                                   refused=out.refused)
        elif isinstance(out, ZoneSweep):
            changed.sweep = ZoneSweepLaunched(campaign_id=strawberry.ID(str(out.campaign_id)),
                                              round_no=out.round_no)
        elif isinstance(c.input, LaunchZoneSweepInput):  # a retry: the zone's last sweep
            swept = c.app.risk_zoning(zid).sweeps.get(c.input.zone.domain, [])
            if swept:
                changed.sweep = ZoneSweepLaunched(campaign_id=strawberry.ID(str(swept[-1])),
                                                  round_no=None)
        return changed
    return await asyncio.to_thread(read)


def _draw(c: Call, i: DrawRiskZonesInput) -> Any:
    system = geo.Crs(i.crs.value)
    points = [geo.Point.given(p.lng, p.lat, system) for p in i.points]
    return c.app.draw_risk_zones(c.target, list(c.targets[1]), points, i.reason, by=c.by,
                                 client_id=i.client_id)


_on_zoning = partial(mutation, result=ZoningResult, success=_changed,
                     on=lambda i: [a_zoning(i.zoning_id)])


@strawberry.type
class ZoningMutation:
    draw_risk_zones = mutation(
        "三区划分 draw the sealed (封控区), controlled (管控区) and precaution (防范区) zones "
        "around cases of a community of your jurisdiction and/or points (officials of its "
        "street or above); households with no point are listed by micro-grid.",
        DrawRiskZonesInput, _draw, result=ZoningResult, success=_drawn,
        on=lambda i: [nodes(i.community.strip()), cases(i.case_ids)],
        personal=lambda i: [i.reason])

    apply_zone_measures = _on_zoning(
        "措施 impose each zone's measure on its households' residents (those already under a "
        "measure as strict are left as is).", ZoningInput,
        lambda c, i: c.app.apply_zone_measures(c.target, by=c.by, client_id=i.client_id))

    launch_zone_sweep = _on_zoning(
        "排查 launch a sweep over one zone's households.", LaunchZoneSweepInput,
        lambda c, i: c.app.launch_zone_sweep(c.target, i.zone.domain, i.days, by=c.by,
                                             client_id=i.client_id))

    lift_risk_zones = _on_zoning(
        "解除 lift the zones before the rule would, saying why; the residents' measures end "
        "through the measure rules.", LiftRiskZonesInput,
        lambda c, i: c.app.lift_risk_zones(c.target, i.reason, by=c.by,
                                           client_id=i.client_id),
        personal=lambda i: [i.reason])
