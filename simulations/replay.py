"""Replays (复盘): re-run a recorded sweep campaign under another staffing or policy.

``extract`` reads a campaign from a store's event log (through the public application, read
only): the grid of its scope, its households (their members' ids, birth years and
vulnerabilities; no names, phones or addresses leave the store), the staff and who was
responsible for which micro-grid, the policy in force, and what each household asked of the
field (``Demand``: the attempts that found nobody, a self-report in the chat group and when,
what was found). It also computes the recorded outcome.

``replay`` rebuilds that scope on a fresh in-memory store with a variant's staffing and policy
and plays the same demand with the field model (``simulations.sweep``): the same households
answer on the same attempt, report in the chat at the same time, show the same findings; only
who does the work, and with what plan, differs. The comparison puts the recorded outcome and
each variant side by side: time to full coverage, zones that missed the window, utilisation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.utils import get_topic

from adapters.bootstrap import bootstrap
from adapters.settings import memory_env
from adapters.spreadsheet import csv_writer
from gridcore.app_base import fold
from gridcore.application import GridcoreApp, HouseholdRow
from gridcore.authority import System
from gridcore.base import Aggregate, Event
from gridcore.geo import Area, Crs, Point
from gridcore.grid import GridNode, Level
from gridcore.household import Member
from gridcore.identity import ResidentIdentity
from gridcore.policy import Policy
from gridcore.staff import Role, StaffMember
from gridcore.sweep import Campaign, Outcome, Visit
from simulations.sweep import Demand, SimClock, SweepParams, SweepResult, run_sweep

LAUNCHED = get_topic(Campaign.Launched)
SQUAD_ROLES = (Role.PARTY_MEMBER, Role.VOLUNTEER)


@dataclass(frozen=True)
class StaffSpec:
    staff_no: str
    name: str
    role: Role
    jurisdiction: str | tuple[str, ...]  # a node, or several (a grid worker's zones)
    daily_capacity: int
    available: bool = True  # on duty and active when the campaign was launched


@dataclass
class RecordedOutcome:
    households: int
    covered: int
    covered_at_window: int
    full_at_hours: float | None
    missing_zones: list[str]
    visits: int
    staff_visits: dict[str, int]


@dataclass
class RecordedCampaign:
    """What a replay needs of a recorded campaign, read from its store."""

    scope: str
    round_no: int
    name: str
    starts: datetime
    days: int
    nodes: list[tuple[str, str, Level, str | None]]  # code, name, level, parent (top down)
    households: list[HouseholdRow]
    staff: list[StaffSpec]
    workers: dict[str, str]  # micro-grid -> staff number of its responsible grid worker
    squads: dict[str, list[str]]  # micro-grid -> staff numbers of its squad
    policy: Policy
    demand: dict[UUID, Demand]
    recorded: RecordedOutcome
    buildings: list[tuple[str, str, str, int]] = field(default_factory=list)
    """The buildings the households name: community, number, name, floors."""
    points: dict[tuple[str, str], Point] = field(default_factory=dict)
    """Where those buildings stood at the launch, by (community, number): the field model
    walks the distances between them."""
    boundaries: dict[str, Area] = field(default_factory=dict)
    """The nodes' boundaries at the launch (a community's centre is its staff's base)."""


def recorded_campaigns(app: GridcoreApp) -> list[tuple[str, int, str]]:
    """(scope, round, name) of every campaign launched in the store, from its log."""
    found = []
    start = 1
    while notes := app.recorder.select_notifications(start=start, limit=1000,
                                                     topics=[LAUNCHED]):
        for n in notes:
            e = cast(Campaign.Launched, app.mapper.to_domain_event(n))
            found.append((e.scope, e.round_no, e.name))
        start = notes[-1].id + 1
    return found


A = TypeVar("A", bound=Aggregate)


def as_of(app: GridcoreApp, current: A, when: datetime) -> A | None:
    """``current`` as it stood at ``when`` (time travel): the version in force then, rebuilt
    from its events up to that time (None if it did not exist yet). A replay takes the
    campaign's world as it was, not as it is today."""
    if current.modified_on <= when:
        return current
    version = None
    for e in cast(Iterable[Event], app.events.get(current.id)):
        if e.timestamp > when:
            break
        version = e.originator_version
    if version is None:
        return None
    return cast(A, app.repository.get(current.id, version=version, projector_func=fold))


def _node_at(app: GridcoreApp, code: str, when: datetime) -> GridNode:
    node = as_of(app, app.node(code), when)
    if node is None:
        raise LookupError(f"Grid node {code} did not exist at {when:%Y-%m-%d %H:%M}.")
    return node


def _subtree_at(app: GridcoreApp, scope: str, when: datetime) -> list[GridNode]:
    """The subtree of ``scope`` as it was at ``when`` (root first)."""
    out, stack = [], [_node_at(app, scope, when)]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(_node_at(app, c, when) for c in reversed(node.children))
    return out


def _nodes(app: GridcoreApp, tree: list[GridNode],
           when: datetime) -> list[tuple[str, str, Level, str | None]]:
    above = []
    node = tree[0]
    while node.parent_code is not None:
        node = _node_at(app, node.parent_code, when)
        above.append((node.code, node.name, node.level, node.parent_code))
    below = [(n.code, n.name, n.level, n.parent_code) for n in tree]
    return [*reversed(above), *below]


def _staff_at(app: GridcoreApp, tree: list[GridNode], when: datetime) -> list[StaffMember]:
    """The staff of the subtree at ``when``: its nodes' staff then, each as they were then
    (role, availability, capacity, jurisdiction), not as they are today; a member whose
    jurisdiction is several of the nodes (a worker's zones) once."""
    out, seen = [], set()
    for node in tree:
        for sid in node.staff:
            if sid in seen:
                continue
            seen.add(sid)
            member = as_of(app, app.staff(sid), when)
            if member is not None:
                out.append(member)
    return out


def _demand(visit: Visit | None, start: datetime) -> Demand:
    """What the household asked of the field: the attempts that found nobody before it was
    seen, a chat self-report's time, the findings of the visit that saw it."""
    if visit is None:
        return Demand()
    no_answers = 0
    for a in sorted(visit.attempts, key=lambda a: a.at):
        if a.outcome is Outcome.SEEN:
            chat = a.at - start if a.staff_id is None else None
            found: dict[str, object] = {k: v for k, v in (
                ("temperatures", dict(a.temperatures)), ("close_contacts",
                                                         list(a.close_contacts)),
                ("arrivals", list(a.arrivals))) if v}
            return Demand(no_answers, chat, found)
        if a.staff_id is not None:
            no_answers += 1
    return Demand(no_answers=10_000)  # never seen: nobody ever answers


def _cover_time(visit: Visit | None, members: set[UUID]) -> datetime | None:
    accounted: set[UUID] = set()
    for a in sorted(visit.attempts if visit else [], key=lambda a: a.at):
        accounted |= set(a.accounted)
        if members and members <= accounted:
            return a.at
    return None


def extract(app: GridcoreApp, scope: str, round_no: int) -> RecordedCampaign:
    """Read a recorded campaign and everything its replay needs (read only)."""
    c = app.campaign_of(scope, round_no)
    launched = c.created_on  # the plan was made with the grid and staff on hand then
    tree = _subtree_at(app, scope, launched)
    rows, demand, covered_at, zone_of = [], {}, {}, {}
    visits = 0
    staff_visits: dict[UUID, int] = {}
    for hid in c.households:
        h = app.household(hid)
        members = [Member(resident_id=r.resident_id,
                          identity=ResidentIdentity(subject_id=r.resident_id, name="居民"),
                          birth_year=r.birth_year, vulnerabilities=sorted(r.vulnerabilities))
                   for r in h.residents.values()]
        grid = h.micro_grid_at(launched) or h.micro_grid
        rows.append(HouseholdRow(h.household_no, grid, "复盘 replay", members, h.building_id))
        v = app.visit(c.id, hid)
        demand[hid] = _demand(v, c.starts)
        zone_of[hid] = grid
        for a in v.attempts if v else []:
            visits += 1
            if a.staff_id is not None:
                staff_visits[a.staff_id] = staff_visits.get(a.staff_id, 0) + 1
        if (t := _cover_time(v, set(h.residents))) is not None:
            covered_at[hid] = t
    staff = _staff_at(app, tree, launched)
    number = {s.id: s.staff_no for s in staff}
    grids = [n for n in tree if n.level is Level.MICRO_GRID]
    missing = sorted({zone_of[h] for h in c.households
                      if h not in covered_at or covered_at[h] >= c.ends})
    full = (max(covered_at.values()) - c.starts).total_seconds() / 3600 \
        if len(covered_at) == len(c.households) and covered_at else None
    recorded = RecordedOutcome(
        len(c.households), len(covered_at), sum(1 for t in covered_at.values() if t < c.ends),
        full, missing, visits, {number.get(s, str(s)): n for s, n in staff_visits.items()})
    buildings = [as_of(app, b, launched) or b for b in map(app.building, sorted(
        {r.building_id for r in rows if r.building_id}, key=str))]  # as they stood then
    nodes = _nodes(app, tree, launched)
    boundaries = {code: area for code, *_ in nodes
                  if (area := _node_at(app, code, launched).boundary) is not None}
    return RecordedCampaign(
        scope, round_no, c.name, c.starts, max(1, round((c.ends - c.starts) / timedelta(days=1))),
        nodes, rows,
        [StaffSpec(s.staff_no, s.name, s.role, s.jurisdictions, s.daily_capacity, s.available)
         for s in staff],
        {g.code: number[g.responsible_worker] for g in grids
         if g.responsible_worker in number},
        {g.code: [number[s] for s in g.squad if s in number] for g in grids if g.squad},
        app.policy_at(c.starts), demand, recorded,
        [(b.community, b.number, b.name, b.floors) for b in buildings],
        {(b.community, b.number): b.point for b in buildings if b.point is not None},
        boundaries)


# ---- variants ---------------------------------------------------------------------------------

Staffing = Callable[[RecordedCampaign], list[StaffSpec]]


@dataclass(frozen=True)
class ReplayVariant:
    name: str
    label: str
    staffing: Staffing = lambda r: list(r.staff)
    policy: Callable[[Policy], Policy] = lambda p: p
    params: dict[str, Any] = field(default_factory=dict)
    slower: dict[str, float] = field(default_factory=dict)
    """Field time multiplied per kind (door, phone, walk): the work itself takes longer; the
    plan, and who does what in which order, are the recorded ones, as the planners did not
    know it in advance (``SweepParams.slower``: dearer work never finishes sooner)."""

    def field_params(self, p: SweepParams) -> SweepParams:
        return replace(p, slower=dict(self.slower), **self.params)


def _without_squad(r: RecordedCampaign) -> list[StaffSpec]:
    return [s for s in r.staff if s.role not in SQUAD_ROLES]


def _extra_workers(r: RecordedCampaign) -> list[StaffSpec]:
    communities = sorted({code for code, _, level, _ in r.nodes if level is Level.COMMUNITY})
    extra = [StaffSpec(f"{c}-GW-R{i}", f"增援网格员{i}", Role.GRID_WORKER, c, 40)
             for c in communities for i in (1, 2)]
    return [*r.staff, *extra]


def _half_workers(r: RecordedCampaign) -> list[StaffSpec]:
    workers = [s for s in r.staff if s.role is Role.GRID_WORKER]
    keep = {s.staff_no for s in workers[:max(1, len(workers) // 2)]}
    return [s for s in r.staff if s.role is not Role.GRID_WORKER or s.staff_no in keep]


VARIANTS: dict[str, ReplayVariant] = {v.name: v for v in [
    ReplayVariant("as-recorded", "按记录 the recorded staffing and policy"),
    ReplayVariant("no-squad", "无党员突击队和志愿者 without the squad", _without_squad),
    ReplayVariant("half-workers", "网格员减半 half the grid workers", _half_workers),
    ReplayVariant("two-more-workers", "每社区增援2名网格员 two more grid workers per community",
                  _extra_workers),
    ReplayVariant("door-visit-1.5x", "上门耗时1.5倍 a door visit takes half as long again",
                  slower={"door": 1.5}),
]}


# ---- the replay --------------------------------------------------------------------------------

@dataclass
class ReplayOutcome:
    variant: ReplayVariant
    result: SweepResult

    @property
    def missing_zones(self) -> list[str]:
        return sorted(z.code for z in self.result.zones.values()
                      if z.covered_at_window < z.households)


def rebuild(recorded: RecordedCampaign, variant: ReplayVariant,
            clock: SimClock) -> GridcoreApp:
    """The recorded scope on a fresh in-memory store, with the variant's staff and policy."""
    app = bootstrap(memory_env(), clock=clock).app
    for code, name, level, parent in recorded.nodes:
        if level is Level.CITY or parent is None:
            app.establish_city(code, name, by=System.OPERATOR)
        else:
            app.create_node(code, name, parent, by=System.OPERATOR)
    app.adopt_policy(variant.policy(recorded.policy), clock.now, f"复盘 replay: {variant.name}",
                     by=System.OPERATOR)
    if recorded.boundaries:  # parents first, as the nodes are listed
        app.draw_boundaries([(code, recorded.boundaries[code]) for code, *_ in recorded.nodes
                             if code in recorded.boundaries], Crs.WGS84, "复盘 replay",
                            by=System.OPERATOR)
    for community, number, name, floors in recorded.buildings:
        app.register_building(community, number, name, floors, by=System.OPERATOR)
        if (point := recorded.points.get((community, number))) is not None:
            app.locate_building(community, number, point.lng, point.lat, by=System.OPERATOR)
    for i in range(0, len(recorded.households), 5_000):
        app.register_households(recorded.households[i:i + 5_000], by=System.OPERATOR)
    staff = variant.staffing(recorded)
    for s in staff:
        app.enrol_staff(s.staff_no, s.name, s.role, s.jurisdiction, s.daily_capacity,
                        by=System.OPERATOR)
    kept = {s.staff_no for s in staff}
    for grid, worker in recorded.workers.items():
        if worker in kept:
            app.assign_responsible_worker(grid, app.staff_by_no(worker).id, by=System.OPERATOR)
    for grid, members in recorded.squads.items():
        if squad := [app.staff_by_no(m).id for m in members if m in kept]:
            app.form_squad(grid, squad, by=System.OPERATOR)
    for s in staff:  # after the posts above, which take only members on duty
        if not s.available:
            app.set_staff_availability(app.staff_by_no(s.staff_no).id, False,
                                       "复盘 off duty at the launch", by=System.OPERATOR)
    return app


def replay(recorded: RecordedCampaign, variant: ReplayVariant,
           params: SweepParams | None = None) -> ReplayOutcome:
    clock = SimClock(recorded.starts - timedelta(hours=1))
    app = rebuild(recorded, variant, clock)
    clock.set(recorded.starts)
    p = variant.field_params(replace(params or SweepParams(), round_no=recorded.round_no,
                                     window_days=recorded.days))
    try:
        result = run_sweep(app, clock, recorded.scope, p, demand=recorded.demand)
    finally:
        app.close()
    return ReplayOutcome(variant, result)


@dataclass
class ReplayReport:
    recorded: RecordedCampaign
    outcomes: list[ReplayOutcome]
    files: list[Path] = field(default_factory=list)


def run_replay(source: GridcoreApp, scope: str | None = None, round_no: int | None = None,
               variants: list[str] | None = None, out: Path | None = None,
               on_variant: Callable[[ReplayVariant], None] | None = None) -> ReplayReport:
    """Replay a recorded campaign of ``source`` (the last launched when no scope is given)
    under the named variants (all when none); write ``replay.csv`` into ``out`` if given."""
    campaigns = recorded_campaigns(source)
    if not campaigns:
        raise LookupError("The store holds no sweep campaign to replay; record one first "
                          "(gridcore demo, or a simulation on a SQLite store).")
    chosen = [c for c in campaigns if (scope is None or c[0] == scope)
              and (round_no is None or c[1] == round_no)]
    if not chosen:
        known = ", ".join(f"{s} round {r}" for s, r, _ in campaigns)
        raise LookupError(f"No campaign of {scope} round {round_no} in the store; it holds "
                          f"{known}.")
    unknown = [v for v in variants or [] if v not in VARIANTS]
    if unknown:
        raise LookupError(f"Unknown replay variant(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(VARIANTS)}.")
    recorded = extract(source, chosen[-1][0], chosen[-1][1])
    outcomes = []
    for name in variants or list(VARIANTS):
        if on_variant is not None:
            on_variant(VARIANTS[name])
        outcomes.append(replay(recorded, VARIANTS[name]))
    report = ReplayReport(recorded, outcomes)
    if out is not None:
        report.files = [write_csv(report, out / "replay.csv")]
    return report


def _hours(h: float | None) -> str:
    return "—" if h is None else f"{h:.1f} h ({h / 24:.1f} days)"


def rows(report: ReplayReport) -> list[list[str]]:
    """The comparison: the recorded outcome, then each variant."""
    r = report.recorded.recorded
    out = [["recorded 记录", str(len(report.recorded.staff)),
            f"{r.covered_at_window}/{r.households}", _hours(r.full_at_hours),
            str(len(r.missing_zones)), "—", str(r.visits)]]
    for o in report.outcomes:
        res = o.result
        staffed = len({s.staff_id for s in res.staff})
        out.append([o.variant.name, str(staffed),
                    f"{sum(z.covered_at_window for z in res.zones.values())}/{res.households}",
                    _hours(res.full_at_hours), str(len(o.missing_zones)),
                    f"{res.utilisation():.0%}", str(res.visits_recorded)])
    return out


HEADER = ["run", "staff 人员", "covered in window 窗口内", "time to full coverage 全覆盖",
          "zones missing the window 未达标片区", "utilisation 利用率", "visits 走访次数"]


def write_csv(report: ReplayReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(HEADER)
        w.writerows(rows(report))
    return path


def table(report: ReplayReport) -> Any:
    from rich.table import Table

    rec = report.recorded
    t = Table(title=f"复盘 replay of {rec.name} ({rec.scope} round {rec.round_no}, "
                    f"{len(rec.households)} households, {rec.days}-day window)")
    for i, col in enumerate(HEADER):
        t.add_column(col, justify="left" if i == 0 else "right", no_wrap=i == 0)
    for row in rows(report):
        t.add_row(*row)
    t.caption = "; ".join(f"{o.variant.name}: {o.variant.label}" for o in report.outcomes)
    return t
