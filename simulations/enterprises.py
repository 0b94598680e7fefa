"""Enterprise resumption inspections (复工复产巡查), Chengdu Tianfu: rounds of inspections by the
enterprise specialists (企业服务专员), driven through the real application.

Enterprises are generated from a seed (size, industry department, community, the round by which
they resume). Before its first round an enterprise is registered with its one specialist
(对口负责, the least-loaded one), files for resumption (复工备案) against the checklist, declares
its employees' health and is reviewed (a share is sent back once and files again). Each round
then inspects every resumed enterprise (洗手, 开会间距, 就餐); a failed item opens a rectification
(整改) with the policy's deadline. A specialist follows up (复查) a rectification first thing
on the day it is due for follow-up; a fixed item is closed then, an unfixed one is marked overdue
by the daily tick and decided by the next round's inspection. Specialists work shifts on
working days; an inspection takes minutes by enterprise size plus travel. The application's
clock is the model's clock (``SimClock``), so every event carries simulated time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

from adapters.bootstrap import bootstrap
from adapters.spreadsheet import csv_writer
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.enterprise import enterprise_id
from gridcore.staff import Role
from simulations.sweep import SimClock

START = datetime(2020, 2, 10, 0, 0, tzinfo=timezone(timedelta(hours=8)))  # a Monday
CITY, DISTRICT = "5101", "510199"
STREETS = ["华阳街道", "正兴街道", "万安街道"]
DEPARTMENTS = ["经济运行局", "商务局", "建设局", "文旅局", "科技局", "农业局"]
INDUSTRIES = ["科技", "制造", "建材", "商贸", "餐饮", "物流", "文化", "农业"]
SIZES = ("small", "medium", "large")
SIZE_LABELS = {"small": "小微", "medium": "中型", "large": "大型"}


@dataclass(frozen=True)
class EnterpriseParams:
    """The inspection model's numbers."""

    seed: int = 2865
    enterprises: int = 2865
    specialists: int = 40
    rounds: int = 4
    communities_per_street: int = 4
    size_weights: tuple[float, float, float] = (0.70, 0.25, 0.05)
    resume_by_round: tuple[float, ...] = (0.70, 0.15, 0.10, 0.05)  # share resuming before r
    reject_share: float = 0.05  # filings sent back once
    fail_rates: tuple[float, ...] = (0.30, 0.18, 0.10, 0.06)  # enterprises failing, per round
    fixed_at_follow_up: float = 0.80  # of rectifications, fixed when followed up
    fixed_by_next_round: float = 0.85  # of those still open, passing at the next round
    inspect_minutes: dict[str, float] = field(default_factory=lambda: {
        "small": 25.0, "medium": 35.0, "large": 50.0})
    travel_minutes: float = 15.0
    follow_up_minutes: float = 20.0
    follow_up_after_days: int = 2
    shift_start_hour: float = 8.5
    shift_hours: float = 9.0
    working_weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5)  # Monday-Saturday
    horizon_days: int = 365


@dataclass(frozen=True)
class Firm:
    no: int
    credit_code: str
    name: str
    department: str
    community: str
    size: str
    employees: int
    resume_round: int  # 1-based: the first round that inspects it
    rejected_once: bool


@dataclass
class Rect:
    eid: UUID
    item: str
    round_no: int
    opened: datetime
    deadline: datetime
    follow_up_day: int
    overdue: bool = False


@dataclass
class RoundResult:
    round_no: int
    due: int
    inspected: int = 0
    passed: int = 0
    newly_resumed: int = 0
    rect_opened: int = 0
    rect_closed: int = 0  # closed in the round's period (follow-ups and inspections)
    rect_overdue: int = 0  # marked overdue in the round's period
    follow_ups: int = 0
    follow_ups_closed: int = 0
    start_day: int = 0
    end_day: int = 0
    working_days: int = 0
    busy_minutes: float = 0.0
    shift_minutes: float = 0.0
    curve: list[int] = field(default_factory=list)  # cumulative inspected at each day's end

    @property
    def days(self) -> int:
        return self.end_day - self.start_day + 1

    @property
    def utilisation(self) -> float:
        return self.busy_minutes / self.shift_minutes if self.shift_minutes else 0.0


@dataclass
class EnterpriseResult:
    params: EnterpriseParams
    rounds: list[RoundResult]
    firms: list[Firm]
    specialist_load: dict[str, int]  # staff number -> enterprises
    specialist_inspections: dict[str, int]
    days: int  # calendar days simulated
    open_at_end: int
    inspected_events: int = 0  # from the model: round inspections + follow-ups that closed

    @property
    def total_days(self) -> int:
        return self.rounds[-1].end_day + 1 if self.rounds else 0

    @property
    def inspected(self) -> int:
        return sum(r.inspected for r in self.rounds)


def credit_code(seed: int, no: int) -> str:
    """An 18-character unified social credit code (统一社会信用代码), unique per number."""
    tail = "".join(random.Random(f"{seed}:{no}:code").choices("0123456789ABCDEFGHJKLMNPQRTUWXY",
                                                             k=2))
    return f"91510100MA{no:06X}{tail}"


def community_codes(p: EnterpriseParams) -> list[str]:
    return [f"{DISTRICT}{s + 1:03d}{c + 1:03d}" for s in range(len(STREETS))
            for c in range(p.communities_per_street)]


def generate(p: EnterpriseParams) -> list[Firm]:
    """The enterprises, deterministic from the seed."""
    rng = random.Random(f"{p.seed}:enterprises")
    communities = community_codes(p)
    cum = [sum(p.resume_by_round[:i + 1]) for i in range(len(p.resume_by_round))]
    firms = []
    for no in range(1, p.enterprises + 1):
        size = rng.choices(SIZES, weights=p.size_weights)[0]
        employees = {"small": rng.randint(5, 49), "medium": rng.randint(50, 299),
                     "large": rng.randint(300, 2000)}[size]
        x = rng.random() * cum[-1]
        resume = min(next(i for i, c in enumerate(cum) if x <= c) + 1, p.rounds)
        industry = rng.choice(INDUSTRIES)
        firms.append(Firm(no, credit_code(p.seed, no), f"天府{industry}{no:04d}有限公司",
                          rng.choice(DEPARTMENTS), rng.choice(communities), size, employees,
                          resume, rng.random() < p.reject_share))
    return firms


def build_bureau(app: GridcoreApp, p: EnterpriseParams) -> list[UUID]:
    """The grid (city, 天府新区, its streets and communities) and the specialists' bureau."""
    app.establish_city(CITY, "成都市", by=System.OPERATOR)
    app.create_node(DISTRICT, "天府新区", CITY, by=System.OPERATOR)
    for s, street in enumerate(STREETS):
        app.create_node(f"{DISTRICT}{s + 1:03d}", street, DISTRICT, by=System.OPERATOR)
    for code in community_codes(p):
        app.create_node(code, f"{code[-3:]}社区", code[:-3], by=System.OPERATOR)
    rng = random.Random(f"{p.seed}:specialists")
    ids = []
    for i in range(1, p.specialists + 1):
        no = f"{DISTRICT}-ES-{i:02d}"
        app.enrol_staff(no, "专员" + rng.choice("王李张刘陈杨黄赵吴周") + rng.choice("明华强丽军"),
                        Role.ENTERPRISE_SPECIALIST, DISTRICT, 0, by=System.OPERATOR)
        ids.append(app.staff_by_no(no).id)
    return ids


def run_inspections(app: GridcoreApp, clock: SimClock, p: EnterpriseParams) -> EnterpriseResult:
    """Register, resume and inspect the enterprises in rounds; returns the per-round numbers."""
    rng = random.Random(f"{p.seed}:inspections")
    specialists = build_bureau(app, p)
    nos = {sid: app.staff(sid).staff_no for sid in specialists}
    firms = generate(p)
    policy = app.policy_at(clock())
    checklist, items = list(policy.resumption_checklist), list(policy.inspection_items)
    weights = [3.0 if i == "就餐" else 1.0 for i in items]  # dining fails most often
    owner: dict[UUID, UUID] = {}
    load: dict[UUID, float] = dict.fromkeys(specialists, 0.0)
    by_id = {enterprise_id(f.credit_code): f for f in firms}
    open_rects: dict[tuple[UUID, str], Rect] = {}
    rounds: list[RoundResult] = []
    inspected_by: dict[UUID, int] = dict.fromkeys(specialists, 0)
    events = 0

    def at(day: int, minutes: float = 0.0) -> datetime:
        return clock.set(START + timedelta(days=day, hours=p.shift_start_hour,
                                           minutes=minutes))

    def resume(f: Firm, day: int) -> None:
        """Register with the least-loaded specialist, file, declare, review (once sent back)."""
        at(day, -60)
        sid = min(specialists, key=lambda s: (load[s], nos[s]))
        load[sid] += p.inspect_minutes[f.size]
        eid = enterprise_id(f.credit_code)
        owner[eid] = sid
        app.register_enterprise(f.credit_code, f.name, f.department, f.community, sid,
                                by=System.OPERATOR)
        if f.rejected_once:
            app.file_resumption(eid, checklist, employees=f.employees, note="首次备案",
                                by=System.OPERATOR)
            app.review_resumption(eid, sid, approved=False, reasons=["口罩储备不足 too few masks"])
        app.file_resumption(eid, checklist, employees=f.employees, by=System.OPERATOR)
        app.declare_employee_health(eid, f.employees, by=System.OPERATOR)
        app.review_resumption(eid, sid, approved=True)

    def tick(day: int, minutes: float, current: RoundResult | None) -> None:
        now = at(day, minutes)
        app.tick_enterprises(now)
        for r in open_rects.values():
            if not r.overdue and r.deadline <= now:
                r.overdue = True
                if current is not None:
                    current.rect_overdue += 1

    def inspect(eid: UUID, sid: UUID, when: float, day: int, rr: RoundResult) -> None:
        nonlocal events
        at(day, when)
        failed: set[str] = set()
        if rng.random() < p.fail_rates[min(rr.round_no, len(p.fail_rates)) - 1]:
            failed |= set(rng.choices(items, weights=weights, k=1 if rng.random() < 0.7 else 2))
        for item in items:
            if (eid, item) in open_rects and rng.random() >= p.fixed_by_next_round:
                failed.add(item)
        results = {i: i not in failed for i in items}
        deadline = clock() + timedelta(days=policy.rectification_days)
        app.inspect_enterprise(eid, sid, results, note=f"第{rr.round_no}轮 round {rr.round_no}")
        events += 1
        rr.inspected += 1
        rr.passed += not failed
        inspected_by[sid] += 1
        for item in sorted(failed):
            if (eid, item) not in open_rects:
                open_rects[(eid, item)] = Rect(eid, item, rr.round_no, clock(), deadline,
                                               day + p.follow_up_after_days)
                rr.rect_opened += 1
        for item in items:
            if item not in failed and open_rects.pop((eid, item), None) is not None:
                rr.rect_closed += 1

    def follow_up(r: Rect, sid: UUID, when: float, day: int, rr: RoundResult) -> None:
        nonlocal events
        at(day, when)
        rr.follow_ups += 1
        if clock() < r.deadline and rng.random() < p.fixed_at_follow_up:
            app.close_rectification(r.eid, r.item, sid, note="复查 follow-up")
            events += 1
            inspected_by[sid] += 1
            del open_rects[(r.eid, r.item)]
            rr.rect_closed += 1
            rr.follow_ups_closed += 1
        else:
            r.follow_up_day = -1  # not fixed in time: the next round decides

    shift = p.shift_hours * 60
    day = 0
    queues: dict[UUID, list[UUID]] = {}
    current: RoundResult | None = None
    last: RoundResult | None = None
    while day < p.horizon_days:
        working = (START + timedelta(days=day)).weekday() in p.working_weekdays
        tick(day, 0, current or last)
        if current is None and len(rounds) < p.rounds and working:
            no = len(rounds) + 1
            newcomers = [f for f in firms if f.resume_round == no]
            for f in newcomers:
                resume(f, day)
            due = sorted(owner, key=lambda e: (by_id[e].community, by_id[e].no))
            current = RoundResult(no, len(due), newly_resumed=len(newcomers), start_day=day)
            queues = {s: [e for e in due if owner[e] == s] for s in specialists}
            rounds.append(current)
        rr = current or last
        if working and rr is not None:
            if current is not None:
                current.working_days += 1
            for sid in specialists:
                t = 0.0
                mine = sorted((r for r in open_rects.values()
                               if owner[r.eid] == sid and 0 <= r.follow_up_day <= day),
                              key=lambda r: (r.deadline, str(r.eid), r.item))
                for r in mine:
                    if t + p.follow_up_minutes + p.travel_minutes > shift:
                        break
                    follow_up(r, sid, t + p.travel_minutes, day, rr)
                    t += p.follow_up_minutes + p.travel_minutes
                q = queues.get(sid, []) if current is not None else []
                while q:
                    need = p.inspect_minutes[by_id[q[0]].size] + p.travel_minutes
                    if t + need > shift:
                        break
                    inspect(q.pop(0), sid, t + p.travel_minutes, day, rr)
                    t += need
                if current is not None:  # utilisation over the rounds' working days
                    current.busy_minutes += t
                    current.shift_minutes += shift
        if current is not None:
            current.curve.append(current.inspected)
            if current.inspected >= current.due:
                current.end_day = day
                last, current = current, None
        tick(day, shift, current or last)
        day += 1
        pending = [r for r in open_rects.values() if not r.overdue]
        if current is None and len(rounds) >= p.rounds and not pending:
            break
    load_by_no = {nos[s]: sum(1 for o in owner.values() if o == s) for s in specialists}
    return EnterpriseResult(p, rounds, firms, load_by_no,
                            {nos[s]: n for s, n in inspected_by.items()}, day, len(open_rects),
                            events)


# ---- output ------------------------------------------------------------------------------------

def write_csv(result: EnterpriseResult, out: Path, prefix: str = "") -> list[Path]:
    """rounds.csv (per round), progress.csv (cumulative inspected per round and day),
    specialists.csv (enterprises and inspections per specialist)."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    def write(name: str, header: list[str], rows: list[list[object]]) -> None:
        path = out / f"{prefix}{name}"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv_writer(f)
            w.writerow(header)
            w.writerows(rows)
        paths.append(path)

    write("rounds.csv", ["round", "due", "newly_resumed", "inspected", "passed",
                         "rect_opened", "rect_closed", "rect_overdue", "follow_ups",
                         "follow_ups_closed", "start_day", "end_day", "days", "working_days",
                         "utilisation"],
          [[r.round_no, r.due, r.newly_resumed, r.inspected, r.passed, r.rect_opened,
            r.rect_closed, r.rect_overdue, r.follow_ups, r.follow_ups_closed, r.start_day,
            r.end_day, r.days, r.working_days, round(r.utilisation, 3)] for r in result.rounds])
    write("progress.csv", ["round", "day", "inspected_cumulative", "due"],
          [[r.round_no, r.start_day + i, c, r.due] for r in result.rounds
           for i, c in enumerate(r.curve)])
    write("specialists.csv", ["staff_no", "enterprises", "inspections"],
          [[s, n, result.specialist_inspections.get(s, 0)]
           for s, n in sorted(result.specialist_load.items())])
    return paths


# ---- the scenario: staffing variants side by side ------------------------------------------------

@dataclass(frozen=True)
class EnterpriseVariant:
    name: str
    label: str
    params: EnterpriseParams


@dataclass(frozen=True)
class EnterpriseScenario:
    name: str
    title: str
    variants: list[EnterpriseVariant]


@dataclass
class EnterpriseOutcome:
    variant: EnterpriseVariant
    result: EnterpriseResult
    files: list[Path] = field(default_factory=list)
    app: GridcoreApp | None = None  # kept open with keep_apps=True (in memory only)


@dataclass
class EnterpriseReport:
    scenario: EnterpriseScenario
    outcomes: list[EnterpriseOutcome]
    out: Path
    files: list[Path]


def chengdu(seed: int = 2865, enterprises: int = 2865,
            staffing: tuple[int, int] = (40, 20)) -> EnterpriseScenario:
    """Chengdu Tianfu: about 40 specialists, 2,865 enterprises, 4 inspection rounds; and the
    same with half the specialists."""
    full, half = staffing
    base = EnterpriseParams(seed=seed, enterprises=enterprises, specialists=full)
    return EnterpriseScenario("chengdu", "成都天府新区 复工复产巡查 resumption inspections", [
        EnterpriseVariant(f"{full}-specialists", f"{full}名企业服务专员 {full} specialists",
                          base),
        EnterpriseVariant(f"{half}-specialists", f"{half}名企业服务专员 {half} specialists",
                          replace(base, specialists=half)),
    ])


def run_enterprise_variant(variant: EnterpriseVariant, store: str = "memory",
                           tmp: Path | None = None) -> tuple[GridcoreApp, EnterpriseResult]:
    """Run one variant on a fresh store (in memory, or a temporary SQLite file)."""
    from adapters.settings import memory_env, sqlite_env

    clock = SimClock(START)
    env = sqlite_env(tmp / f"{variant.name}.sqlite") if store == "sqlite" and tmp else \
        memory_env()
    app = bootstrap(env, clock=clock).app
    return app, run_inspections(app, clock, variant.params)


def run_enterprise_scenario(scenario: EnterpriseScenario, out: Path, store: str = "memory",
                            variants: list[str] | None = None,
                            on_variant: Callable[[EnterpriseVariant], None] | None = None,
                            keep_apps: bool = False) -> EnterpriseReport:
    """Every variant (or those named): its CSV files and plot, then variants.csv and
    variants.png comparing them, in ``out``."""
    import tempfile

    from simulations.plots import compare_inspections, inspections_by_round

    chosen = [v for v in scenario.variants if variants is None or v.name in variants]
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="gridcore-sim-") as tmp:
        for v in chosen:
            if on_variant is not None:
                on_variant(v)
            app, result = run_enterprise_variant(v, store, Path(tmp))
            files = write_csv(result, out, prefix=f"{v.name}-")
            files.append(inspections_by_round(result, out / f"{v.name}-inspections.png",
                                              f"{scenario.title}: {v.label}"))
            keep = keep_apps and store == "memory"
            outcomes.append(EnterpriseOutcome(v, result, files, app if keep else None))
            if not keep:
                app.close()
    files = [write_variants_csv(outcomes, out / "variants.csv"),
             compare_inspections({o.variant.label: o.result for o in outcomes},
                                 out / "variants.png", scenario.title)]
    return EnterpriseReport(scenario, outcomes, out, files)


def write_variants_csv(outcomes: list[EnterpriseOutcome], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(["variant", "specialists", "enterprises", "rounds", "inspected",
                    "passed", "rect_opened", "rect_closed", "rect_overdue", "open_at_end",
                    "total_days", "days_per_round", "utilisation"])
        for o in outcomes:
            r = o.result
            w.writerow([o.variant.name, r.params.specialists, len(r.firms), len(r.rounds),
                        r.inspected, sum(x.passed for x in r.rounds),
                        sum(x.rect_opened for x in r.rounds),
                        sum(x.rect_closed for x in r.rounds),
                        sum(x.rect_overdue for x in r.rounds), r.open_at_end, r.total_days,
                        "/".join(str(x.days) for x in r.rounds), round(utilisation(r), 3)])
    return path


def utilisation(r: EnterpriseResult) -> float:
    shift = sum(x.shift_minutes for x in r.rounds)
    return sum(x.busy_minutes for x in r.rounds) / shift if shift else 0.0


def enterprise_table(report: EnterpriseReport) -> object:
    """The variants side by side, one row per variant and round (a rich Table)."""
    from rich.table import Table

    t = Table(title=report.scenario.title)
    t.caption = ("; ".join(f"{o.variant.name}: {o.variant.label}" for o in report.outcomes)
                 + "\n检查 enterprises inspected (all due) · 通过 passed · 整改 rectifications "
                 "opened/closed/overdue · 天数 days taken (working days) · 利用率 utilisation")
    for col in ("variant", "轮次", "检查", "通过", "整改", "天数", "利用率"):
        t.add_column(col, justify="left" if col == "variant" else "right", no_wrap=True)
    for o in report.outcomes:
        for x in o.result.rounds:
            t.add_row(o.variant.name, str(x.round_no), f"{x.inspected}/{x.due}",
                      f"{x.passed / max(1, x.inspected):.0%}",
                      f"{x.rect_opened}/{x.rect_closed}/{x.rect_overdue}",
                      f"{x.days} ({x.working_days})", f"{x.utilisation:.0%}")
        t.add_row(o.variant.name, "all", str(o.result.inspected), "",
                  f"{o.result.open_at_end} open", f"{o.result.total_days}",
                  f"{utilisation(o.result):.0%}", end_section=True)
    return t


def enterprise_shortfalls(report: EnterpriseReport) -> list[str]:
    """Per variant, the rectifications still open when the simulation ended (all overdue:
    no later round decides them)."""
    return [f"{o.variant.name}: {o.result.open_at_end} rectifications (整改) still open and "
            "overdue after the last round" for o in report.outcomes if o.result.open_at_end]
