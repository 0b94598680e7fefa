"""A parametric city generator: districts x streets x communities x micro-grids, buildings,
households (size distribution, elderly share, vulnerabilities, smartphone ownership) and the
staff of each community in the proportions of the Wuhan 712 community.

Deterministic from a seed: every community draws from its own random stream (seeded by the
city seed and the community code), so a community's rows never depend on which communities
were generated before. Streamed into the application in batches through the public commands,
each with a client id; a batch whose last household already exists is skipped, so an
interrupted run resumes where it stopped and gives the same city as an uninterrupted one.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date

from adapters.layout import JIANG_AN, Layout, Node, lay_out
from gridcore.application import BuildingRow, GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.errors import NotFound
from gridcore.geo import Crs
from gridcore.household import Vulnerability
from gridcore.staff import Role, StaffRow, staff_id

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "建国秀英桂兰志强丽华明德玉兰红梅海燕国强淑珍凤英文杰晓东春花立新永平金凤小龙"

# The 712 community's staff (DOMAIN.md), per 946 households: role, count, daily capacity.
REFERENCE_HOUSEHOLDS = 946


@dataclass(frozen=True)
class StaffMix:
    """Staff of a community of ``reference_households`` households; scaled to each
    community's size (at least one grid worker and one duty lead)."""

    grid_workers: int = 4
    officials: int = 2
    duty_leads: int = 1
    family_doctors: int = 1
    community_police: int = 1
    property_managers: int = 1
    party_members: int = 24
    volunteers: int = 12
    reference_households: int = REFERENCE_HOUSEHOLDS

    def counts(self, households: int) -> list[tuple[Role, str, int, int]]:
        """(role, staff-number tag, count, daily capacity) for a community of that size."""
        scale = households / self.reference_households

        def n(base: int, at_least: int = 0) -> int:
            return max(at_least if base else 0, round(base * scale))

        return [
            (Role.GRID_WORKER, "GW", n(self.grid_workers, 1), 40),
            (Role.OFFICIAL, "OF", n(self.officials), 10),
            (Role.DUTY_LEAD, "DL", n(self.duty_leads, 1), 0),
            (Role.FAMILY_DOCTOR, "DOC", n(self.family_doctors), 20),
            (Role.COMMUNITY_POLICE, "POL", n(self.community_police), 20),
            (Role.PROPERTY_MANAGER, "PMG", n(self.property_managers), 0),
            (Role.PARTY_MEMBER, "PM", n(self.party_members), 25),
            (Role.VOLUNTEER, "VOL", n(self.volunteers), 25),
        ]


@dataclass(frozen=True)
class CitySpec:
    """The shape of a generated city. Codes follow the national scheme the demo uses: city
    4 digits, district +2, street +3, community +3, micro-grid '-NN'."""

    seed: int = 1
    city_code: str = "4201"
    city_name: str = "武汉市"
    districts: int = 1
    streets_per_district: int = 1
    communities_per_street: int = 1
    grids_per_community: int = 11
    households_per_community: int = REFERENCE_HOUSEHOLDS
    community_jitter: float = 0.0  # +- share of households_per_community, per community
    households_per_building: int = 41
    floors: int = 7
    size_weights: tuple[float, ...] = (18, 38, 22, 15, 7)  # sizes 1, 2, 3...
    elderly_share: float = 0.30  # residents aged 65+
    middle_aged_share: float = 0.40  # residents aged 45-64
    elderly_without_smartphone: float = 0.45
    others_without_smartphone: float = 0.03
    chronic_illness_55_plus: float = 0.20
    disability: float = 0.01
    year: int = 2020
    staff: StaffMix = field(default_factory=StaffMix)
    batch: int = 2_000
    geography: bool = True
    """Lay out the city (``adapters.layout``): draw every node's boundary, a batch per level
    and community, and locate every building (off for the big benchmarks)."""

    def district_code(self, d: int) -> str:
        return f"{self.city_code}{d + 1:02d}"

    def street_code(self, d: int, s: int) -> str:
        return f"{self.district_code(d)}{s + 1:03d}"

    def community_code(self, d: int, s: int, c: int) -> str:
        return f"{self.street_code(d, s)}{c + 1:03d}"

    def communities(self) -> list[str]:
        return [self.community_code(d, s, c) for d in range(self.districts)
                for s in range(self.streets_per_district)
                for c in range(self.communities_per_street)]

    def grid_code(self, community: str, g: int) -> str:
        return f"{community}-{g + 1:02d}"

    def households_of(self, community: str) -> int:
        if not self.community_jitter:
            return self.households_per_community
        rng = random.Random(f"{self.seed}:{community}:size")
        j = rng.uniform(-self.community_jitter, self.community_jitter)
        return max(1, round(self.households_per_community * (1 + j)))

    @property
    def total_households(self) -> int:
        return sum(self.households_of(c) for c in self.communities())

    def with_staff(self, **changes: int) -> CitySpec:
        return replace(self, staff=replace(self.staff, **changes))


WUHAN_712 = CitySpec(seed=712, city_code="4201", districts=1, streets_per_district=1,
                     communities_per_street=1, grids_per_community=11,
                     households_per_community=946, households_per_building=42)


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def _birth_year(spec: CitySpec, rng: random.Random) -> int:
    u = rng.random()
    if u < spec.elderly_share:
        return spec.year - rng.randint(65, 92)
    if u < spec.elderly_share + spec.middle_aged_share:
        return spec.year - rng.randint(45, 64)
    return spec.year - rng.randint(0, 44)


def buildings_of(spec: CitySpec, community: str) -> int:
    return max(1, math.ceil(spec.households_of(community) / spec.households_per_building))


@dataclass(frozen=True)
class DrawnMember:
    """A member as the generator draws it, before it is built into a ``Member``."""

    name: str
    phone: str | None
    born: int
    marks: tuple[Vulnerability, ...]


@dataclass(frozen=True)
class DrawnHousehold:
    household_no: str
    micro_grid: str
    address: str
    building: int
    members: list[DrawnMember]


def household_draws(spec: CitySpec, community: str) -> Iterator[DrawnHousehold]:
    """Every household of one community as drawn (the same for the same spec and
    community), without building the members: what a model that only counts reads fast."""
    rng = random.Random(f"{spec.seed}:{community}")
    total = spec.households_of(community)
    buildings = buildings_of(spec, community)
    per_building = [total // buildings + (1 if b < total % buildings else 0)
                    for b in range(buildings)]
    grids = spec.grids_per_community
    sizes = range(1, len(spec.size_weights) + 1)
    for b, count in enumerate(per_building, start=1):
        grid = spec.grid_code(community, min(grids, 1 + (b - 1) * grids // buildings) - 1)
        for n in range(count):
            unit, floor, door = 1 + n // (spec.floors * 4), 1 + (n % (spec.floors * 4)) // 4, \
                1 + n % 4
            no = f"{community}-{b:03d}-{unit}-{floor}{door:02d}"
            members = []
            for _ in range(rng.choices(sizes, weights=spec.size_weights)[0]):
                born = _birth_year(spec, rng)
                age = spec.year - born
                marks = []
                no_phone = spec.elderly_without_smartphone if age >= 65 else \
                    spec.others_without_smartphone
                if age < 12 or rng.random() < no_phone:
                    marks.append(Vulnerability.NO_SMARTPHONE)
                if age >= 55 and rng.random() < spec.chronic_illness_55_plus:
                    marks.append(Vulnerability.CHRONIC_ILLNESS)
                if rng.random() < spec.disability:
                    marks.append(Vulnerability.DISABILITY)
                phone = _phone(rng) if age >= 16 else None
                members.append(DrawnMember(_name(rng), phone, born, tuple(marks)))
            yield DrawnHousehold(no, grid, f"{b}栋{unit}单元{floor}{door:02d}", b, members)


def household_rows(spec: CitySpec, community: str) -> list[HouseholdRow]:
    """Every household of one community, the same for the same spec and community."""
    return [HouseholdRow(d.household_no, d.micro_grid, d.address,
                         [new_member(d.household_no, m, x.name, x.phone, None, x.born,
                                     list(x.marks)) for m, x in enumerate(d.members, start=1)],
                         building_id(community, str(d.building)))
            for d in household_draws(spec, community)]


@dataclass
class BuildReport:
    communities: int = 0
    households: int = 0
    batches_written: int = 0
    batches_skipped: int = 0
    drawing: float = 0.0
    """Seconds spent drawing the households' rows and the rosters: the input a caller hands
    the application (a benchmark leaves it out of the application's time, as its raw baseline
    leaves out making its rows)."""


def _exists(app: GridcoreApp, household_no: str) -> bool:
    try:
        app.household_by_no(household_no)
    except NotFound:
        return False
    return True


def staff_numbers(spec: CitySpec, community: str) -> list[tuple[str, Role, int]]:
    out = []
    for role, tag, count, capacity in spec.staff.counts(spec.households_of(community)):
        out.extend((f"{community}-{tag}-{i:02d}", role, capacity) for i in range(1, count + 1))
    return out


def building_grids(spec: CitySpec, community: str) -> list[tuple[int, str, int]]:
    """(building, micro-grid, households) of each building of a community, as
    ``household_draws`` fills them."""
    total, buildings = spec.households_of(community), buildings_of(spec, community)
    grids = spec.grids_per_community
    return [(b, spec.grid_code(community, min(grids, 1 + (b - 1) * grids // buildings) - 1),
             total // buildings + (1 if b - 1 < total % buildings else 0))
            for b in range(1, buildings + 1)]


def city_tree(spec: CitySpec) -> Node:
    """The city as a tree to lay out: households per micro-grid, buildings per micro-grid."""
    def community(code: str) -> Node:
        placed = building_grids(spec, code)
        return Node(code, children=tuple(
            Node(gc, sum(n for _, g, n in placed if g == gc),
                 buildings=tuple((code, str(b)) for b, g, _ in placed if g == gc))
            for gc in (spec.grid_code(code, g) for g in range(spec.grids_per_community))))

    return Node(spec.city_code, children=tuple(
        Node(spec.district_code(d), children=tuple(
            Node(spec.street_code(d, s), children=tuple(
                community(spec.community_code(d, s, c))
                for c in range(spec.communities_per_street)))
            for s in range(spec.streets_per_district)))
        for d in range(spec.districts)))


def city_layout(spec: CitySpec) -> Layout:
    """The city's geography from 江岸区, Wuhan: the same for the same spec."""
    return lay_out(city_tree(spec), JIANG_AN)


GEO_SOURCE = "生成城市示意布局 generated layout (adapters.layout)"


def _steps(app: GridcoreApp, spec: CitySpec, report: BuildReport,
           ) -> Iterator[tuple[int, Callable[[], None] | None]]:
    """The city as a stream of (households, step) pairs; a step of None is skipped work."""
    def cid(what: str) -> str:
        return f"city:{spec.city_code}:{spec.seed}:{what}"

    geo = city_layout(spec) if spec.geography else None

    def node(code: str, name: str, parent: str) -> None:
        app.create_node(code, name, parent, client_id=cid(code), by=System.OPERATOR)
        draw(code)

    def draw(*codes: str) -> None:
        if geo is not None:
            app.draw_boundaries([(c, geo.rects[c].area()) for c in codes], Crs.WGS84,
                                GEO_SOURCE, client_id=cid(f"{codes[0]}:boundary"),
                                by=System.OPERATOR)

    def establish() -> None:
        app.establish_city(spec.city_code, spec.city_name, client_id=cid(spec.city_code),
                           by=System.OPERATOR)
        draw(spec.city_code)

    yield 0, establish
    for d in range(spec.districts):
        dc = spec.district_code(d)
        yield 0, lambda dc=dc, d=d: node(dc, f"第{d + 1}区", spec.city_code)
        for s in range(spec.streets_per_district):
            sc = spec.street_code(d, s)
            yield 0, lambda sc=sc, s=s, dc=dc: node(sc, f"第{s + 1}街道", dc)
            for c in range(spec.communities_per_street):
                yield from _community(app, spec, spec.community_code(d, s, c), c, sc, cid,
                                      report, geo)


def _community(app: GridcoreApp, spec: CitySpec, code: str, c: int, street: str,
               cid: Callable[[str], str], report: BuildReport, geo: Layout | None = None,
               ) -> Iterator[tuple[int, Callable[[], None] | None]]:
    report.communities += 1
    yield 0, lambda: app.create_node(code, f"第{c + 1}社区", street, client_id=cid(code),
                                     by=System.OPERATOR)
    grids = [spec.grid_code(code, g) for g in range(spec.grids_per_community)]
    # the community laid out in three commands: its micro-grids, their boundaries (and its
    # own), its buildings with their points
    yield 0, lambda: app.create_nodes(code, {gc: f"第{g + 1}片区" for g, gc in enumerate(grids)},
                                      client_id=cid(f"{code}:grids"), by=System.OPERATOR)
    if geo is not None:
        yield 0, lambda: app.draw_boundaries(
            [(c, geo.rects[c].area()) for c in (code, *grids)], Crs.WGS84, GEO_SOURCE,
            client_id=cid(f"{code}:boundaries"), by=System.OPERATOR)

    def building(b: int) -> BuildingRow:
        p = geo.buildings[(code, str(b))] if geo is not None else None
        return BuildingRow(str(b), f"{b}栋", spec.floors, p.lng if p else None,
                           p.lat if p else None)

    yield 0, lambda: app.register_buildings(
        code, [building(b) for b in range(1, buildings_of(spec, code) + 1)], Crs.WGS84,
        client_id=cid(f"{code}:buildings"), by=System.OPERATOR)
    started = time.perf_counter()
    rows = household_rows(spec, code)
    report.drawing += time.perf_counter() - started
    for i in range(0, len(rows), spec.batch):
        chunk = rows[i:i + spec.batch]
        report.households += len(chunk)
        if _exists(app, chunk[-1].household_no):
            report.batches_skipped += 1
            yield len(chunk), None
            continue
        report.batches_written += 1
        yield len(chunk), lambda chunk=chunk, i=i: app.register_households(
            chunk, client_id=cid(f"{code}:h{i}"), by=System.OPERATOR)
    started = time.perf_counter()
    staff = staff_numbers(spec, code)
    srng = random.Random(f"{spec.seed}:{code}:staff")
    roster = [StaffRow(s, _name(srng), r, code, k, _phone(srng)) for s, r, k in staff]
    report.drawing += time.perf_counter() - started
    if roster:  # the community's roster (花名册) in one command
        yield 0, lambda: app.enrol_staff_many(roster, client_id=cid(f"{code}:staff"),
                                              by=System.OPERATOR)
    # the community's responsible workers, then its squads, each in one command
    workers = [s for s, r, _ in staff if r is Role.GRID_WORKER]
    if workers:
        responsible = {gc: staff_id(workers[g % len(workers)]) for g, gc in enumerate(grids)}
        yield 0, lambda: app.assign_responsible_workers(
            responsible, client_id=cid(f"{code}:workers"), by=System.OPERATOR)
    squad = [s for s, r, _ in staff if r in (Role.PARTY_MEMBER, Role.VOLUNTEER)]
    squads = {gc: [staff_id(s) for s in squad[g::len(grids)]] for g, gc in enumerate(grids)}
    squads = {gc: members for gc, members in squads.items() if members}
    if squads:
        yield 0, lambda: app.form_squads(squads, client_id=cid(f"{code}:squads"),
                                         by=System.OPERATOR)


def build_city(app: GridcoreApp, spec: CitySpec, progress: bool = False,
               on_batch: Callable[[int], None] | None = None,
               report: BuildReport | None = None) -> BuildReport:
    """Create (or complete) the city of ``spec`` through the application's commands.

    ``on_batch(n)`` is called after the n-th household batch written or skipped (a test
    raises there to interrupt the run). With ``progress`` a rich progress bar counts
    households. ``report`` (a new one by default) is filled in as the city is built, so a
    caller reading it from ``on_batch`` sees the figures so far."""
    report = BuildReport() if report is None else report
    batches = 0

    def run(bar: Callable[[int], None]) -> None:
        nonlocal batches
        for households, step in _steps(app, spec, report):
            if step is not None:
                step()
            if households:
                batches += 1
                bar(households)
                if on_batch is not None:
                    on_batch(batches)

    if not progress:
        run(lambda _: None)
        return report
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task(f"生成城市 city {spec.city_name}", total=spec.total_households)
        run(lambda n: bar.advance(task, n))
    return report


def today(spec: CitySpec) -> date:
    return date(spec.year, 2, 17)
