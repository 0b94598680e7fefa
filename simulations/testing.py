"""A city-wide mass-testing campaign (全员核酸检测) as a slot-by-slot model, checked against the
real application on a small city.

The city is ``simulations.city``'s generated city. Every community has its sampling sites
(采样点, ``sites_per_community`` at the community, ``capacity_per_hour`` each, open
``opens_hour``-``closes_hour``); the policy in force decides who is sampled at home
(``door_to_door_reason``: by default every household with a member 65+ or disabled; the CLI
uses ``AT_HOME``), the slot length and the pool size (混检 ``pool_size``: 10-in-1, or 1 for
single tubes, 单采单检). Each resident is infected with probability ``prevalence``.

Two resolutions, chosen by the city's size (``auto``: household by household up to
``EXACT_UP_TO`` households):

- ``household``: the generator's own rows (``household_draws``, one infection draw per
  resident in the generator's order) and the domain's own ``schedule`` (each household to the
  earliest slot of its community's sites with room for all its members, ordered by micro-grid
  and id; slots from ``site_slots``, room from ``slot_capacity``). This is what
  ``run_in_library`` plays through the real application, and the tests hold the two equal.
- ``micro_grid`` (a city of millions): each community's households drawn in bulk from the
  generator's distributions (``draw_community_bulk``, numpy), their vulnerabilities by the
  domain's ``derived_vulnerabilities``; the same slots filled by the community's residents as
  a flow, micro-grid by micro-grid, without keeping a household whole in a slot. The tests hold
  it within a few per cent of the household resolution on the same spec (residents, door
  households, tubes, days). 9.9 million residents take about a minute for four variants.

Then, per community and for the city:

1. **Door to door.** The households the policy samples at home are shared round-robin among
   the community's door teams (one per medical staff member of the generated staff, times
   ``door_staff_share``), ``door_minutes`` each, during the opening hours (``door_hours``).
2. **Pooling.** The samples of one site slot, or of one community's door teams in one hour, fill
   tubes in order, ``pool_size`` to a tube; each batch's last tube may be short. A batch is
   sealed at its end: tubes = the sum over batches of ceil(people / pool size) (``tubes_for``).
3. **Lab.** Tubes reach the lab ``transport_hours`` after sealing and are run first come first
   served at ``lab_tubes_per_day`` (default ``lab_per_10k`` per 10,000 residents, an
   assumption, not a figure of Wuhan's); a result is out ``pcr_hours`` after its turn. A
   positive pool puts its households under control at its result (``control_hours``) and its
   members are swabbed again into single tubes (单采单检) ``retest_after_hours`` later (never
   later than the policy's ``retest_hours``); retest tubes jump the queue. A positive single
   tube (first round with single tubes, or a retest) opens a case; the person is isolated
   ``transfer_hours`` later (``isolate_hours``, from the first swab). ``sensitivity`` is the
   chance a tube holding a positive reads positive.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

from adapters.bootstrap import bootstrap
from adapters.settings import memory_env
from adapters.spreadsheet import csv_writer
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.household import Vulnerability, derived_vulnerabilities, household_id, resident_id
from gridcore.mass_testing import (
    Assignment,
    HouseholdToSchedule,
    SamplingSite,
    door_to_door_reason,
    schedule,
    site_slots,
    slot_capacity,
)
from gridcore.mass_testing_commands import SampleRow
from gridcore.policy import DEFAULT_POLICY, Policy
from gridcore.staff import Role
from simulations.city import CitySpec, build_city, household_draws
from simulations.citywide import city_spec
from simulations.sweep import SimClock

CST = timezone(timedelta(hours=8))
START = datetime(2020, 5, 14, 8, 0, tzinfo=CST)
"""Wuhan's campaign began on 14 May 2020 (about 9.9 million sampled by 1 June)."""
AT_HOME = ("disability", "lives_alone")
"""Who the CLI's policy samples at home by default: those who cannot come out (the disabled,
the 65+ living alone). The default policy sends every household with a member 65+ or
disabled (about 57% of the generated households), which makes door-to-door the bottleneck;
``--door-to-door`` sets it."""
EXACT_UP_TO = 200_000
"""Households up to which ``auto`` resolution schedules household by household."""


@dataclass(frozen=True)
class TestingParams:
    """The field's and the lab's numbers (the policy holds pool size, slots, door rules)."""

    __test__ = False  # not a pytest class

    sites_per_community: int = 2
    capacity_per_hour: int = 60
    opens_hour: int = 8
    closes_hour: int = 20
    door_staff_share: float = 1.0
    door_minutes: float = 20.0
    prevalence: float = 3e-5  # Wuhan: about 300 asymptomatic positives in 9.9 million
    sensitivity: float = 1.0
    lab_tubes_per_day: int = 0  # 0: lab_per_10k x residents / 10,000
    lab_per_10k: float = 100.0
    transport_hours: float = 2.0
    pcr_hours: float = 4.0
    retest_after_hours: float = 6.0
    transfer_hours: float = 3.0
    window_days: int = 30
    seed: int = 1
    resolution: str = "auto"  # household, micro_grid, or auto

    def lab_capacity(self, residents: int) -> int:
        return self.lab_tubes_per_day or max(1, round(self.lab_per_10k * residents / 10_000))


@dataclass(frozen=True)
class TestingVariant:
    __test__ = False
    name: str
    label: str
    policy: Policy
    params: TestingParams


@dataclass(slots=True)
class Household:
    """What the model reads of a generated household (``no`` is blank when not kept)."""

    no: str
    micro_grid: str
    size: int
    vulnerable: frozenset[str]  # every member's derived vulnerabilities, together
    infected: tuple[int, ...]  # member indexes (0-based)


@dataclass
class Batch:
    """Samples sealed together: a site's slot, or a community's door teams in one hour."""

    sampled_at: datetime
    sealed_at: datetime
    people: int
    infected: list[int]  # positions (0-based) in the batch
    at_home: bool = False


@dataclass
class TestingResult:
    __test__ = False
    variant: TestingVariant
    resolution: str
    households: int = 0
    residents: int = 0
    door_to_door: int = 0  # households sampled at home
    unsampled: int = 0  # residents no slot held in the window
    sites: int = 0
    door_teams: int = 0
    pooled_tubes: int = 0
    retest_tubes: int = 0
    infected: int = 0
    found: int = 0
    lab_per_day: int = 0
    sampled_days: float = 0.0  # last sample, days after the start
    site_days: float = 0.0  # last sample at a site
    door_days: float = 0.0  # last sample at home
    lab_days: float = 0.0  # last first-round result
    isolate_hours: list[float] = field(default_factory=list)  # per positive found
    control_hours: list[float] = field(default_factory=list)  # sample to household control
    sampled_by_day: list[int] = field(default_factory=list)
    resulted_by_day: list[int] = field(default_factory=list)  # tubes, first round
    cleared_by_day: list[int] = field(default_factory=list)  # residents with that result
    seconds: float = 0.0

    @property
    def tubes(self) -> int:
        return self.pooled_tubes + self.retest_tubes

    def median_isolate(self) -> float | None:
        return statistics.median(self.isolate_hours) if self.isolate_hours else None

    def max_isolate(self) -> float | None:
        return max(self.isolate_hours) if self.isolate_hours else None


# ---- the city -------------------------------------------------------------------------------

def spec_for(households: int | None = None, people: int | None = None,
             seed: int = 4201) -> CitySpec:
    """A city of about that many households (or people: 2.55 to a household on average)."""
    if households is None:
        base = CitySpec()
        mean = sum((i + 1) * w for i, w in enumerate(base.size_weights)) / sum(base.size_weights)
        households = max(1, round((people or 9_900_000) / mean))
    return city_spec(households, seed)


_KINDS: dict[frozenset[str], frozenset[str]] = {}


def draw(spec: CitySpec, community: str, p: TestingParams,
         resolution: str) -> list[Household]:
    """Household by household: the generator's rows; per micro-grid: drawn in bulk."""
    if resolution == "household":
        return draw_community(spec, community, p.seed, p.prevalence)
    return draw_community_bulk(spec, community, p.seed, p.prevalence)


def draw_community(spec: CitySpec, community: str, seed: int,
                   prevalence: float) -> list[Household]:
    """The community's households as the generator draws them (``household_draws``), each
    with who of them is infected (one draw per resident, in the generator's order)."""
    today = START.date()
    rng = random.Random(f"{seed}:{community}:infected")
    out = []
    for d in household_draws(spec, community):
        size = len(d.members)
        found = frozenset(v.value for m in d.members for v in derived_vulnerabilities(
            m.born, set(m.marks), size, today))
        vulnerable = _KINDS.setdefault(found, found)
        infected = tuple(i for i in range(size) if rng.random() < prevalence)
        out.append(Household(d.household_no, d.micro_grid, size, vulnerable, infected))
    return out


def draw_community_bulk(spec: CitySpec, community: str, seed: int,
                        prevalence: float) -> list[Household]:
    """The community's households drawn in bulk (numpy) from the generator's distributions
    (``CitySpec``: household sizes, age shares, smartphones, chronic illness, disability;
    buildings to micro-grids as the generator places them), not row by row: a city of
    millions in seconds. The same distributions as ``draw_community``, not the same rows;
    each household's vulnerabilities are the domain's ``derived_vulnerabilities``."""
    import numpy as np

    g = np.random.default_rng([seed, int(community.replace("-", "")), 7])
    n = spec.households_of(community)
    w = np.array(spec.size_weights, dtype=float)
    sizes = g.choice(np.arange(1, len(w) + 1), size=n, p=w / w.sum())
    owner = np.repeat(np.arange(n), sizes)
    u = g.random(len(owner))
    elderly, middle = u < spec.elderly_share, u < spec.elderly_share + spec.middle_aged_share
    age = np.where(elderly, g.integers(65, 93, len(owner)),
                   np.where(middle, g.integers(45, 65, len(owner)),
                            g.integers(0, 45, len(owner))))
    no_phone = (age < 12) | (g.random(len(owner)) < np.where(
        age >= 65, spec.elderly_without_smartphone, spec.others_without_smartphone))
    chronic = (age >= 55) & (g.random(len(owner)) < spec.chronic_illness_55_plus)
    disabled = g.random(len(owner)) < spec.disability
    infected = np.flatnonzero(g.random(len(owner)) < prevalence)

    def anyone(mask: np.ndarray) -> np.ndarray:
        return np.bincount(owner[mask], minlength=n) > 0

    code = (anyone(age >= 65) * 1 + anyone(no_phone) * 2 + anyone(chronic) * 4
            + anyone(disabled) * 8 + (sizes == 1) * 16)
    first = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    hit: dict[int, list[int]] = {}
    for i in infected.tolist():
        hit.setdefault(int(owner[i]), []).append(i - int(first[owner[i]]))
    today = START.date()
    kinds = {}
    marks = [Vulnerability.NO_SMARTPHONE, Vulnerability.CHRONIC_ILLNESS,
             Vulnerability.DISABILITY]
    for k in range(32):  # a household's vulnerabilities: derived as for one member holding all
        found = frozenset(v.value for v in derived_vulnerabilities(
            spec.year - (70 if k & 1 else 30), {m for i, m in enumerate(marks) if k & 2 << i},
            1 if k & 16 else 2, today))
        kinds[k] = _KINDS.setdefault(found, found)
    buildings = max(1, math.ceil(n / spec.households_per_building))
    grids = spec.grids_per_community
    codes = [spec.grid_code(community, min(grids, 1 + b * grids // buildings) - 1)
             for b in range(buildings)]
    per = math.ceil(n / buildings)
    return [Household("", codes[min(i // per, buildings - 1)], s, kinds[c], tuple(hit.get(i, ())))
            for i, (s, c) in enumerate(zip(sizes.tolist(), code.tolist(), strict=True))]


def sites_of(community: str, p: TestingParams) -> list[SamplingSite]:
    return [SamplingSite(site_id=f"{community}-S{i + 1}", name=f"第{i + 1}采样点",
                         place=community, opens_hour=p.opens_hour, closes_hour=p.closes_hour,
                         capacity_per_hour=p.capacity_per_hour)
            for i in range(p.sites_per_community)]


def door_teams(spec: CitySpec, community: str, policy: Policy, p: TestingParams) -> int:
    """One team per medical staff member of the community (at least one), times the share."""
    medical = sum(n for role, _, n, _ in spec.staff.counts(spec.households_of(community))
                  if role in policy.medical_roles)
    return max(1, round(max(1, medical) * p.door_staff_share))


# ---- the rules of the model: pure ------------------------------------------------------------

def tubes_for(people: int, pool_size: int) -> int:
    """Tubes a batch of people fills, ``pool_size`` to a tube (the last may be short)."""
    return math.ceil(people / pool_size)


def door_hours(households: int, teams: int, p: TestingParams) -> list[int]:
    """The hour (counted from the start's midnight) each household sampled at home is done
    in: round-robin among the teams, ``door_minutes`` each, inside the opening hours (work
    that would run past closing starts at the next day's opening)."""
    opens, closes, step = p.opens_hour * 60, p.closes_hour * 60, p.door_minutes
    first = START.hour * 60 + START.minute
    clocks = [float(first)] * teams
    out = []
    for i in range(households):
        t = clocks[i % teams]
        day = t // 1440
        if t - day * 1440 < opens:
            t = day * 1440 + opens
        if t - day * 1440 + step > closes:
            t = (day + 1) * 1440 + opens
        clocks[i % teams] = t + step
        out.append(int((t + step) // 60))
    return out


def door_batches(households: Sequence[Household], teams: int,
                 p: TestingParams) -> list[Batch]:
    """Households sampled at home (``door_hours``), batched by the hour they are done in
    (sealed at its end)."""
    midnight = START.replace(hour=0, minute=0)
    batches: dict[int, Batch] = {}
    for h, hour in zip(households, door_hours(len(households), teams, p), strict=True):
        b = batches.get(hour)
        if b is None:
            at = midnight + timedelta(hours=hour)
            b = batches[hour] = Batch(at, at + timedelta(hours=1), 0, [], True)
        if h.infected:
            b.infected.extend(b.people + j for j in h.infected)
        b.people += h.size
    return list(batches.values())


def site_batches_exact(households: Sequence[Household], community: str,
                       sites: Sequence[SamplingSite], policy: Policy,
                       p: TestingParams) -> tuple[list[Batch], int]:
    """The domain's ``schedule`` household by household; a batch per site slot used. Returns
    the batches and the residents left unplaced."""
    ends = START + timedelta(days=p.window_days)
    by_id = {household_id(h.no): h for h in households}
    todo = [HouseholdToSchedule(hid, h.micro_grid, community, h.size) for hid, h in
            by_id.items()]
    plan = schedule(todo, sites, START, ends, policy.testing_slot_minutes)
    batches: dict[tuple[str, datetime], Batch] = {}
    step = timedelta(minutes=policy.testing_slot_minutes)
    for hid, a in plan.assignments.items():  # in the schedule's order
        assert a.site_id is not None and a.slot is not None
        h = by_id[hid]
        b = batches.setdefault((a.site_id, a.slot), Batch(a.slot, a.slot + step, 0, []))
        b.infected.extend(b.people + j for j in h.infected)
        b.people += h.size
    return list(batches.values()), sum(by_id[hid].size for hid in plan.unplaced)


def site_batches_flow(households: Sequence[Household], sites: Sequence[SamplingSite],
                      policy: Policy, p: TestingParams) -> tuple[list[Batch], int]:
    """The same slots filled by the community's residents as a flow, in the generator's
    order (micro-grid by micro-grid), earliest slot first (ties: the site by id)."""
    minutes = policy.testing_slot_minutes
    ends = START + timedelta(days=p.window_days)
    slots = sorted((t, s.site_id, slot_capacity(s, minutes)) for s in sites
                   for t in site_slots(s, START, ends, minutes))
    step = timedelta(minutes=minutes)
    batches: list[Batch] = []
    k, room = -1, 0
    left = 0
    for h in households:
        need = h.size
        taken = 0
        while need:
            if room == 0:
                k += 1
                if k >= len(slots):
                    left += need
                    break
                t, _, room = slots[k]
                batches.append(Batch(t, t + step, 0, []))
            b = batches[-1]
            n = min(need, room)
            b.infected.extend(b.people + j - taken for j in h.infected if taken <= j < taken + n)
            b.people += n
            room, need, taken = room - n, need - n, taken + n
    return batches, left


# ---- the run --------------------------------------------------------------------------------

def resolution_of(spec: CitySpec, p: TestingParams) -> str:
    if p.resolution != "auto":
        return p.resolution
    return "household" if spec.total_households <= EXACT_UP_TO else "micro_grid"


def community_batches(spec: CitySpec, community: str, households: Sequence[Household],
                      v: TestingVariant, resolution: str, result: TestingResult) -> list[Batch]:
    policy, p = v.policy, v.params
    home: list[Household] = []
    out: list[Household] = []
    reasons: dict[frozenset[str], bool] = {}
    for h in households:
        at_home = reasons.get(h.vulnerable)
        if at_home is None:
            at_home = reasons[h.vulnerable] = bool(door_to_door_reason(
                [h.vulnerable], ["none"], policy))
        (home if at_home else out).append(h)
    if resolution == "household":
        home.sort(key=lambda h: (h.micro_grid, str(household_id(h.no))))
    sites = sites_of(community, p)
    teams = door_teams(spec, community, policy, p)
    if resolution == "household":
        batches, left = site_batches_exact(out, community, sites, policy, p)
    else:
        batches, left = site_batches_flow(out, sites, policy, p)
    result.door_to_door += len(home)
    result.unsampled += left
    result.sites += len(sites)
    result.door_teams += teams
    return batches + door_batches(home, teams, p)


def run_model(spec: CitySpec, v: TestingVariant,
              city: dict[str, list[Household]] | None = None,
              say: Callable[[str], None] | None = None) -> TestingResult:
    """The campaign over the whole city under one variant. ``city`` (community -> drawn
    households) is drawn when not given; pass it to share one drawing among variants."""
    began = time.perf_counter()
    p = v.params
    result = TestingResult(v, resolution_of(spec, p))
    batches: list[Batch] = []
    for i, community in enumerate(spec.communities()):
        households = (city[community] if city is not None else
                      draw(spec, community, p, result.resolution))
        result.households += len(households)
        result.residents += sum(h.size for h in households)
        result.infected += sum(len(h.infected) for h in households)
        batches.extend(community_batches(spec, community, households, v, result.resolution,
                                         result))
        if say is not None and i % 100 == 99:
            say(f"{v.label}: {i + 1} communities")
    _lab(batches, v, result)
    result.seconds = time.perf_counter() - began
    return result


def draw_city(spec: CitySpec, p: TestingParams,
              say: Callable[[str], None] | None = None) -> dict[str, list[Household]]:
    """The city drawn once, to share among variants of the same seed and prevalence."""
    city = {}
    resolution = resolution_of(spec, p)
    for i, c in enumerate(spec.communities()):
        city[c] = draw(spec, c, p, resolution)
        if say is not None and i % 100 == 99:
            say(f"生成城市 drawing the city: {i + 1}/{len(spec.communities())} communities")
    return city


def _hours(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 3600


def _lab(batches: list[Batch], v: TestingVariant, r: TestingResult) -> None:
    """First come first served at the lab's rate; positives retested (pools) and isolated."""
    p, pool = v.params, v.policy.pool_size
    rng = random.Random(f"{p.seed}:lab")
    r.lab_per_day = p.lab_capacity(r.residents)
    per_hour = r.lab_per_day / 24
    retest_after = min(p.retest_after_hours, v.policy.retest_hours)
    free = 0.0  # hours after START the lab is next free
    last_sample = last_result = 0.0
    sampled: dict[int, int] = {}
    resulted: dict[int, int] = {}
    cleared: dict[int, int] = {}
    batches.sort(key=lambda b: b.sealed_at)
    for b in batches:
        tubes = tubes_for(b.people, pool)
        r.pooled_tubes += tubes
        at = _hours(START, b.sampled_at)
        day = int(at // 24)
        sampled[day] = sampled.get(day, 0) + b.people
        last_sample = max(last_sample, _hours(START, b.sealed_at))
        if b.at_home:
            r.door_days = max(r.door_days, _hours(START, b.sealed_at) / 24)
        else:
            r.site_days = max(r.site_days, _hours(START, b.sealed_at) / 24)
        start = max(free, _hours(START, b.sealed_at) + p.transport_hours)
        free = start + tubes / per_hour
        done = free + p.pcr_hours
        resulted[int(done // 24)] = resulted.get(int(done // 24), 0) + tubes
        cleared[int(done // 24)] = cleared.get(int(done // 24), 0) + b.people
        last_result = max(last_result, done)
        for k in sorted({i // pool for i in b.infected}):
            if rng.random() >= p.sensitivity:
                continue  # the tube reads negative: its positives are missed
            result_at = start + (k + 1) / per_hour + p.pcr_hours
            inside = [i for i in b.infected if i // pool == k]
            if pool == 1:
                r.found += 1
                r.isolate_hours.append(result_at + p.transfer_hours - at)
                continue
            members = min(pool, b.people - k * pool)
            r.retest_tubes += members
            r.control_hours.append(result_at - at)
            retest_done = result_at + retest_after + p.transport_hours + p.pcr_hours
            for _ in inside:
                if rng.random() < p.sensitivity:
                    r.found += 1
                    r.isolate_hours.append(retest_done + p.transfer_hours - at)
    r.sampled_days = last_sample / 24
    r.lab_days = last_result / 24
    days = max([*resulted, 0]) + 1
    r.sampled_by_day = [sampled.get(d, 0) for d in range(max([*sampled, 0]) + 1)]
    r.resulted_by_day = [resulted.get(d, 0) for d in range(days)]
    r.cleared_by_day = [cleared.get(d, 0) for d in range(days)]


# ---- variants, files ------------------------------------------------------------------------

def variants(pool_sizes: Iterable[int] = (10, 1), sites: Iterable[int] = (2,),
             base: TestingParams = TestingParams(),
             policy: Policy = DEFAULT_POLICY) -> list[TestingVariant]:
    """One variant per pool size and number of sites per community."""
    out = []
    for n in sites:
        for size in pool_sizes:
            kind = "单采单检 single tubes" if size == 1 else f"{size}合1混检 {size}-in-1"
            name = ("single" if size == 1 else f"{size}-in-1") + f"-{n}-sites"
            out.append(TestingVariant(name, f"{kind}, 每社区{n}个采样点 {n} sites/community",
                                      policy.with_changes(pool_size=size),
                                      replace(base, sites_per_community=n)))
    return out


def write_csv(results: Sequence[TestingResult], out: Path) -> list[Path]:
    """variants.csv (one row per variant) and days.csv (per variant and day)."""
    out.mkdir(parents=True, exist_ok=True)
    summary, days = out / "variants.csv", out / "days.csv"
    with summary.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(["variant", "resolution", "pool_size", "sites", "door_teams", "households",
                    "residents", "door_to_door_households", "unsampled", "sampled_days",
                    "pooled_tubes", "retest_tubes", "lab_tubes", "lab_tubes_per_day",
                    "lab_days", "infected", "found", "median_isolate_hours",
                    "max_isolate_hours", "median_control_hours", "seconds"])
        for r in results:
            med = r.median_isolate()
            top = r.max_isolate()
            ctl = statistics.median(r.control_hours) if r.control_hours else None
            w.writerow([r.variant.name, r.resolution, r.variant.policy.pool_size, r.sites,
                        r.door_teams, r.households, r.residents, r.door_to_door, r.unsampled,
                        round(r.sampled_days, 2), r.pooled_tubes, r.retest_tubes, r.tubes,
                        r.lab_per_day, round(r.lab_days, 2), r.infected, r.found,
                        "" if med is None else round(med, 1),
                        "" if top is None else round(top, 1),
                        "" if ctl is None else round(ctl, 1), round(r.seconds, 1)])
    with days.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(["variant", "day", "date", "sampled", "sampled_total", "tubes_resulted",
                    "tubes_resulted_total", "residents_resulted_total"])
        for r in results:
            s = t = c = 0
            for d in range(max(len(r.sampled_by_day), len(r.resulted_by_day))):
                a = r.sampled_by_day[d] if d < len(r.sampled_by_day) else 0
                b = r.resulted_by_day[d] if d < len(r.resulted_by_day) else 0
                s, t = s + a, t + b
                c += r.cleared_by_day[d] if d < len(r.cleared_by_day) else 0
                w.writerow([r.variant.name, d, (START + timedelta(days=d)).date().isoformat(),
                            a, s, b, t, c])
    return [summary, days]


# ---- the same small city through the library --------------------------------------------------

@dataclass
class LibraryResult:
    """What the real campaigns recorded: tubes (first round and retests), the retests they
    scheduled, the cases they opened, the residents sampled."""

    pooled_tubes: int = 0
    retest_tubes: int = 0
    retests: int = 0
    cases: int = 0
    sampled: int = 0
    door_to_door: int = 0

    @property
    def tubes(self) -> int:
        return self.pooled_tubes + self.retest_tubes


def run_in_library(spec: CitySpec, v: TestingVariant) -> LibraryResult:
    """Build the city in a memory store, launch a campaign per community (its official) with
    the variant's sites under its policy, and play it: each batch's samples (a site slot of the
    real schedule, or the door teams' hour) into tubes of the pool size by a grid worker, the
    tubes sealed, results by the family doctor (positive when a tube holds an infected
    resident), the retests the campaign schedules sampled and resulted."""
    p, policy = v.params, v.policy
    clock = SimClock(START - timedelta(days=1))
    app = bootstrap(memory_env(), clock=clock).app
    out = LibraryResult()
    try:
        build_city(app, spec)
        app.adopt_policy(policy, clock.now, "全员核酸检测 simulation", by=System.OPERATOR)
        for community in spec.communities():
            official = next(s.id for s in app.staff_in(community) if s.role is Role.OFFICIAL)
            app.launch_testing_campaign(community, 1, sites_of(community, p), by=official,
                                        starts=START, days=p.window_days)
        for community in spec.communities():
            _play(app, clock, spec, community, v, out)
    finally:
        app.close()
    return out


def _play(app: GridcoreApp, clock: SimClock, spec: CitySpec, community: str,
          v: TestingVariant, out: LibraryResult) -> None:
    """One community's campaign played through the library."""
    p, policy = v.params, v.policy
    staff = app.staff_in(community)
    worker = next(s.id for s in staff if s.role is Role.GRID_WORKER)
    doctor = next(s.id for s in staff if s.role is Role.FAMILY_DOCTOR)
    medical = sum(s.role in policy.medical_roles for s in staff)
    teams = max(1, round(max(1, medical) * p.door_staff_share))
    c = app.testing_campaign_of(community, 1)
    infected = {resident_id(h.no, i + 1) for h in draw_community(
        spec, community, p.seed, p.prevalence) for i in h.infected}
    order = sorted(c.assignments.values(), key=lambda a: (a.micro_grid, str(a.household_id)))
    groups: dict[tuple[str, datetime], list[Assignment]] = {}
    for a in order:
        if a.slot is not None and a.site_id is not None:
            groups.setdefault((a.site_id, a.slot), []).append(a)
    home = [a for a in order if a.door_to_door]
    out.door_to_door += len(home)
    midnight = START.replace(hour=0, minute=0)
    for a, hour in zip(home, door_hours(len(home), teams, p), strict=True):
        groups.setdefault((f"{community}-D", midnight + timedelta(hours=hour)), []).append(a)
    seal = timedelta(minutes=policy.testing_slot_minutes)
    for (where, at), batch in sorted(groups.items(), key=lambda g: g[0][1]):
        rows: list[SampleRow] = []
        for a in batch:
            for rid in c.members[a.household_id]:
                code = f"{where}-{at:%m%d%H%M}-{len(rows) // policy.pool_size + 1}"
                rows.append(SampleRow(a.household_id, rid, code, at, worker))
        clock.set(at + seal)
        app.record_samples(c.id, rows, by=worker)
        out.sampled += len(rows)
        for code in dict.fromkeys(r.tube_code for r in rows):
            app.seal_tube(code, by=worker)
    clock.set(clock.now + timedelta(hours=6))
    c = app.testing_campaign(c.id)
    out.pooled_tubes += len(c.tubes)
    for code, tube in list(c.tubes.items()):
        hit = any(rid in infected for rid in tube.members)
        app.record_tube_result(code, "positive" if hit else "negative", by=doctor)
    due = app.retests_due(c.id)
    out.retests += len(due)
    if due:
        clock.set(clock.now + timedelta(hours=6))
        app.record_samples(c.id, [SampleRow(r.household_id, r.resident_id,
                                            f"{community}-R{n}", by=doctor)
                                  for n, r in enumerate(due)], by=doctor)
        clock.set(clock.now + timedelta(hours=6))
        for n, r in enumerate(due):
            app.record_tube_result(f"{community}-R{n}", "positive" if r.resident_id
                                   in infected else "negative", by=doctor)
    c = app.testing_campaign(c.id)
    out.retest_tubes += sum(t.retest for t in c.tubes.values())
    out.cases += len(c.cases)


# ---- the scenario: variants side by side ------------------------------------------------------

@dataclass
class TestingReport:
    title: str
    spec: CitySpec
    results: list[TestingResult]
    out: Path
    files: list[Path]
    seconds: float = 0.0


def run_testing(spec: CitySpec, chosen: Sequence[TestingVariant], out: Path,
                say: Callable[[str], None] | None = None) -> TestingReport:
    """Every variant over one drawing of the city (variants of the same seed and prevalence
    share it); variants.csv, days.csv and testing.png into ``out``."""
    from simulations.plots import compare_testing

    began = time.perf_counter()
    drawn: dict[tuple[int, float], dict[str, list[Household]]] = {}
    results = []
    for v in chosen:
        key = (v.params.seed, v.params.prevalence)
        if key not in drawn:
            drawn[key] = draw_city(spec, v.params, say)
        if say is not None:
            say(f"模拟 simulating {v.label}…")
        results.append(run_model(spec, v, drawn[key], say))
    title = (f"{spec.city_name} 全员核酸检测 mass testing: {results[0].residents:,} residents, "
             f"{len(spec.communities()):,} communities")
    files = write_csv(results, out)
    files.append(compare_testing(results, out / "testing.png", title))
    return TestingReport(title, spec, results, out, files, time.perf_counter() - began)


def _h(hours: float | None) -> str:
    return "—" if hours is None else f"{hours:.0f}"


def _n(x: int) -> str:
    """A count short enough for a narrow table: 9.90M, 305k, 2,673."""
    return f"{x / 1e6:.2f}M" if x >= 1_000_000 else f"{x / 1e3:.0f}k" if x >= 100_000 \
        else f"{x:,}"


def table(report: TestingReport) -> object:
    """The variants side by side (a rich Table)."""
    from rich.table import Table

    first = report.results[0]
    t = Table(title=f"{report.title}; lab 实验室 {first.lab_per_day:,} tubes/day")
    legend = ["上门户 households sampled at home", "采样天数 days to sample everyone",
              "检测管 lab tubes (first round + retests)", "单采单检 single-tube retests",
              "实验室天数 days until the last first-round result",
              "阳性 positives found / infected", "隔离 hours from swab to isolation "
              "(median / max)", "管控 hours from swab to the household's control (median)"]
    t.caption = ("; ".join(f"{r.variant.name}: {r.variant.label}" for r in report.results)
                 + "\n" + " · ".join(legend))
    for col in ("variant", "上门户", "采样天数", "检测管", "单采单检", "实验室天数", "阳性",
                "隔离 h", "管控 h", "秒 s"):
        t.add_column(col, justify="left" if col == "variant" else "right",
                     no_wrap=col in ("variant", "隔离 h"))
    for r in report.results:
        ctl = statistics.median(r.control_hours) if r.control_hours else None
        t.add_row(r.variant.name, _n(r.door_to_door),
                  f"{r.sampled_days:.1f}" + (f" ({_n(r.unsampled)} left)" if r.unsampled else ""),
                  _n(r.tubes), _n(r.retest_tubes), f"{r.lab_days:.1f}",
                  f"{r.found}/{r.infected}",
                  f"{_h(r.median_isolate())}/{_h(r.max_isolate())}", _h(ctl),
                  f"{r.seconds:.0f}")
    return t
