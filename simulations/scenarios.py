"""Named simulation scenarios from the seeds (DOMAIN.md), each with staffing variants compared
side by side.

- ``712``: the Wuhan 712 community, 946 households, 11 zones, 10 staff with 4 grid workers, a
  24-member party squad and 12 volunteers, a 3-day window. Can it be swept in 3 days, and how
  long does it take without the party squad and the volunteers?
- ``qingdao``: the Qingdao West Coast village pair, 2 villages of 4 micro-grids of about 100
  residents, one grid worker per village; households with smartphones report in the
  micro-grid's chat group, those without get a door visit (vulnerable) or a call.
- ``chengdu``: Chengdu Tianfu enterprise resumption inspections, about 40 specialists, 2,865
  enterprises, 4 inspection rounds, against half the specialists (``simulations.enterprises``).

Each variant runs on its own fresh store (in memory by default, or a temporary SQLite file),
so a simulation never touches the user's data.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from adapters.bootstrap import bootstrap
from adapters.settings import memory_env, sqlite_env
from adapters.spreadsheet import csv_writer
from gridcore.application import GridcoreApp
from gridcore.staff import Role
from simulations.city import WUHAN_712, CitySpec, StaffMix, build_city
from simulations.enterprises import (
    EnterpriseReport,
    EnterpriseScenario,
    chengdu,
    enterprise_shortfalls,
    enterprise_table,
    run_enterprise_scenario,
)
from simulations.plots import compare_variants, coverage_by_zone
from simulations.sweep import SimClock, SweepParams, SweepResult, run_sweep, write_csv


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    spec: CitySpec
    params: SweepParams


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    variants: list[Variant]
    scope: str  # the sweep's scope (a community, or the street of a village pair)


def wuhan_712(seed: int = 712) -> Scenario:
    spec = replace(WUHAN_712, seed=seed)
    p = SweepParams(seed=seed)
    no_squad = spec.with_staff(party_members=0, volunteers=0)
    return Scenario("712", "武汉712社区 3天拉网式排查 3-day sweep", [
        Variant("full", "全员 10 staff + 24 party + 12 volunteers", spec, p),
        Variant("no-volunteers", "无志愿者 without the 12 volunteers",
                spec.with_staff(volunteers=0), p),
        Variant("no-squad", "无党员突击队和志愿者 10 staff only", no_squad, p),
        Variant("full-illness", "全员, 5%/day fall ill 每天5%生病", spec,
                replace(p, illness_per_day=0.05)),
    ], spec.communities()[0])


QINGDAO = CitySpec(
    seed=266, city_code="3702", city_name="青岛市", districts=1, streets_per_district=1,
    communities_per_street=2, grids_per_community=4, households_per_community=144,
    households_per_building=9, floors=2, size_weights=(15, 33, 25, 17, 10),
    elderly_share=0.28, middle_aged_share=0.40, elderly_without_smartphone=0.55,
    staff=StaffMix(grid_workers=1, officials=0, duty_leads=0, family_doctors=0,
                   community_police=0, property_managers=0, party_members=0, volunteers=0,
                   reference_households=144))


def qingdao(seed: int = 266) -> Scenario:
    spec = replace(QINGDAO, seed=seed)
    p = SweepParams(seed=seed, window_days=3, chat_report_share=0.9)
    return Scenario("qingdao", "青岛西海岸 村居微网格 village pair sweep", [
        Variant("chat", "群内自报 + 上门 chat self-reports, door for the vulnerable", spec, p),
        Variant("no-chat", "无微信群 no chat group: all called or visited", spec,
                replace(p, chat_report_share=0.0)),
        Variant("two-workers", "每村2名网格员 two grid workers per village",
                spec.with_staff(grid_workers=2), p),
    ], spec.street_code(0, 0))


SCENARIOS: dict[str, Callable[..., Scenario | EnterpriseScenario]] = {
    "712": wuhan_712, "qingdao": qingdao, "chengdu": chengdu}


@dataclass
class VariantOutcome:
    variant: Variant
    result: SweepResult
    staff: dict[Role, int]
    files: list[Path] = field(default_factory=list)
    app: GridcoreApp | None = None  # kept open with run_scenario(keep_apps=True)

    @property
    def missing_zones(self) -> list[str]:
        return [z.code for z in self.result.zones.values()
                if z.covered_at_window < z.households]


@dataclass
class ScenarioReport:
    scenario: Scenario
    outcomes: list[VariantOutcome]
    out: Path
    files: list[Path]


def run_variant(variant: Variant, scope: str, store: str = "memory",
                tmp: Path | None = None, progress: bool = False) -> tuple[GridcoreApp,
                                                                           SweepResult]:
    """Build the variant's city on a fresh store and sweep it."""
    clock = SimClock()
    if store == "sqlite":
        assert tmp is not None
        env = sqlite_env(tmp / f"{variant.name}.sqlite")
    else:
        env = memory_env()
    app = bootstrap(env, clock=clock).app
    build_city(app, variant.spec, progress=progress)
    return app, run_sweep(app, clock, scope, variant.params)


def run_scenario(name: str, out: Path, seed: int | None = None, store: str = "memory",
                 variants: list[str] | None = None,
                 on_variant: Callable[[Variant], None] | None = None,
                 keep_apps: bool = False) -> ScenarioReport | EnterpriseReport:
    """Run every variant (or those named), write each variant's CSV files and coverage plot,
    and the comparison (variants.csv, variants.png) into ``out``. With ``keep_apps`` each
    outcome keeps its (in-memory) application open for inspection."""
    factory = SCENARIOS[name]
    scenario = factory() if seed is None else factory(seed)
    if isinstance(scenario, EnterpriseScenario):  # enterprise inspections, not a sweep
        return run_enterprise_scenario(scenario, out, store, variants,
                                       on_variant,  # type: ignore[arg-type]
                                       keep_apps)
    chosen = [v for v in scenario.variants if variants is None or v.name in variants]
    out.mkdir(parents=True, exist_ok=True)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="gridcore-sim-") as tmp:
        for v in chosen:
            if on_variant is not None:
                on_variant(v)
            app, result = run_variant(v, scenario.scope, store, Path(tmp))
            staff: dict[Role, int] = {}
            for s in app.staff_in(scenario.scope):
                staff[s.role] = staff.get(s.role, 0) + 1
            files = write_csv(result, out, prefix=f"{v.name}-")
            files.append(coverage_by_zone(result, out / f"{v.name}-coverage.png",
                                          f"{scenario.title}: {v.label}"))
            outcomes.append(VariantOutcome(v, result, staff, files,
                                           app if keep_apps and store == "memory" else None))
            if not (keep_apps and store == "memory"):
                app.close()
    files = [write_variants_csv(outcomes, out / "variants.csv"),
             compare_variants({o.variant.label: o.result for o in outcomes},
                              out / "variants.png", scenario.title)]
    return ScenarioReport(scenario, outcomes, out, files)


def days(hours: float | None) -> str:
    return "—" if hours is None else f"{hours / 24:.1f}"


def write_variants_csv(outcomes: list[VariantOutcome], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(["variant", "staff", "squad", "households", "covered_at_window",
                    "in_window", "full_at_hours", "zones_missing_window", "utilisation",
                    "walking_share", "referrals", "deliveries_ordered", "visits_recorded"])
        for o in outcomes:
            r = o.result
            squad = o.staff.get(Role.PARTY_MEMBER, 0) + o.staff.get(Role.VOLUNTEER, 0)
            w.writerow([o.variant.name, sum(o.staff.values()) - squad, squad, r.households,
                        sum(z.covered_at_window for z in r.zones.values()), r.in_window,
                        "" if r.full_at_hours is None else round(r.full_at_hours, 2),
                        len(o.missing_zones), round(r.utilisation(), 3),
                        round(r.walking_share(), 3), sum(r.referrals.values()),
                        sum(r.deliveries_by_day.values()), r.visits_recorded])
    return path


def table(report: ScenarioReport | EnterpriseReport) -> object:
    """The variants side by side (a rich Table)."""
    from rich.table import Table

    if isinstance(report, EnterpriseReport):
        return enterprise_table(report)

    t = Table(title=report.scenario.title)
    legend = ["人员 staff (excl. squad)", "小分队 party members + volunteers",
              "窗口内 covered within the window", "全覆盖 time to full coverage",
              "未达标片区 zones missing the window", "利用率 staff utilisation",
              "步行 share of the busy time spent walking between buildings",
              "转介 referrals", "配送 deliveries ordered"]
    t.caption = ("; ".join(f"{o.variant.name}: {o.variant.label}" for o in report.outcomes)
                 + "\n" + " · ".join(legend))
    for col in ("variant", "人员", "小分队", "户", "窗口内", "全覆盖 days", "未达标片区",
                "利用率", "步行", "转介", "配送"):
        t.add_column(col, justify="left" if col == "variant" else "right",
                     no_wrap=col == "variant")
    for o in report.outcomes:
        r = o.result
        squad = o.staff.get(Role.PARTY_MEMBER, 0) + o.staff.get(Role.VOLUNTEER, 0)
        at_window = sum(z.covered_at_window for z in r.zones.values())
        t.add_row(o.variant.name, str(sum(o.staff.values()) - squad), str(squad),
                  str(r.households), f"{at_window} ({at_window / max(1, r.households):.0%})",
                  days(r.full_at_hours) + ("" if r.full_at_hours is not None else " (>horizon)"),
                  str(len(o.missing_zones)), f"{r.utilisation():.0%}",
                  f"{r.walking_share():.0%}", str(sum(r.referrals.values())),
                  str(sum(r.deliveries_by_day.values())))
    return t


def shortfalls(report: ScenarioReport | EnterpriseReport) -> list[str]:
    """One line per zone that missed the window, with why."""
    if isinstance(report, EnterpriseReport):
        return enterprise_shortfalls(report)
    lines = []
    for o in report.outcomes:
        for z in o.result.zones.values():
            if z.covered_at_window < z.households:
                lines.append(f"{o.variant.name}: {z.code} {z.covered_at_window}/{z.households} "
                             f"at window end — {z.reason}")
    return lines
