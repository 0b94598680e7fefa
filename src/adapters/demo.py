"""The Wuhan 712 community demo (DOMAIN.md): 946 households in 23 buildings, 11 zones,
10 staff with 4 grid workers (each limited to their zones), a 24-member party squad and 12
volunteers.

Built through the public application API only. Every command carries a client id, so running
the demo again applies nothing twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from gridcore.application import GridcoreApp, HouseholdRow, new_member
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.household import Vulnerability
from gridcore.staff import Role

CITY, DISTRICT, STREET = "4201", "420102", "420102014"
COMMUNITY = "420102014712"
ZONES = 11
BUILDINGS = 23
HOUSEHOLDS = 946
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "建国秀英桂兰志强丽华明德玉兰红梅海燕国强淑珍凤英文杰晓东春花立新永平金凤小龙"


SWEEP_START = datetime(2020, 2, 17, 8, 0, tzinfo=timezone(timedelta(hours=8)))


class ScenarioClock:
    """The demo's time: it starts the morning the 3-day sweep began (17 Feb 2020, Wuhan time)
    and moves as the scenario's days pass. ``scenario``: the API and the dashboard say the
    time is the scenario's (情景时间)."""

    scenario = True

    def __init__(self, start: datetime = SWEEP_START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: int, hour: int = 8, minute: int = 0) -> datetime:
        self.now = SWEEP_START + timedelta(days=day, hours=hour - 8, minutes=minute)
        return self.now


clock = ScenarioClock()


def zone_code(n: int) -> str:
    return f"{COMMUNITY}-{n:02d}"


GRID_WORKERS = 4


def worker_zones(worker: int) -> list[str]:
    """The zones grid worker ``worker`` (1-4) is responsible for, and their whole
    jurisdiction: zones worker, worker + 4, worker + 8 (712-GW-1: zones 1, 5 and 9)."""
    return [zone_code(z) for z in range(worker, ZONES + 1, GRID_WORKERS)]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3589')}{rng.randrange(10**9):09d}"


def household_rows(rng: random.Random) -> list[HouseholdRow]:
    """946 households over 23 buildings; zone = a run of about two buildings. Residents are
    mostly middle-aged and elderly (the seeds), 1-5 per household."""
    rows = []
    per_building = [HOUSEHOLDS // BUILDINGS + (1 if b < HOUSEHOLDS % BUILDINGS else 0)
                    for b in range(BUILDINGS)]
    for b, count in enumerate(per_building, start=1):
        zone = zone_code(min(ZONES, 1 + (b - 1) * ZONES // BUILDINGS))
        for n in range(count):
            unit, floor, door = 1 + n // 24, 1 + (n % 24) // 4, 1 + n % 4
            no = f"712-{b:02d}-{unit}-{floor}{door:02d}"
            size = rng.choices((1, 2, 3, 4, 5), weights=(18, 38, 22, 15, 7))[0]
            members = []
            for m in range(1, size + 1):
                born = rng.choices((rng.randint(1930, 1954), rng.randint(1955, 1975),
                                    rng.randint(1976, 2015)), weights=(30, 40, 30))[0]
                marks = []
                if 2020 - born >= 65 and rng.random() < 0.45:
                    marks.append(Vulnerability.NO_SMARTPHONE)
                if 2020 - born >= 55 and rng.random() < 0.2:
                    marks.append(Vulnerability.CHRONIC_ILLNESS)
                members.append(new_member(no, m, _name(rng), _phone(rng), None, born, marks))
            rows.append(HouseholdRow(no, zone, f"{b}栋{unit}单元{floor}{door:02d}", members,
                                     building_id(COMMUNITY, str(b))))
    return rows


STAFF = (
    [(f"712-GW-{i}", Role.GRID_WORKER, 40) for i in range(1, GRID_WORKERS + 1)]
    + [("712-SEC", Role.OFFICIAL, 10), ("712-DIR", Role.OFFICIAL, 10),
       ("712-DUTY", Role.DUTY_LEAD, 0), ("712-DOC", Role.FAMILY_DOCTOR, 20),
       ("712-POL", Role.COMMUNITY_POLICE, 20), ("712-PM", Role.PROPERTY_MANAGER, 0)]
    + [(f"712-PM{i:02d}", Role.PARTY_MEMBER, 25) for i in range(1, 25)]
    + [(f"712-VOL{i:02d}", Role.VOLUNTEER, 25) for i in range(1, 13)]
)


def build(app: GridcoreApp, days: int = 3) -> None:
    """Create (or find again) the 712 community, its people and its first sweep campaign."""
    rng = random.Random(712)

    def cid(what: str) -> str:
        return f"demo712:{what}"

    app.establish_city(CITY, "武汉市", client_id=cid("city"), by=System.OPERATOR)
    app.create_node(DISTRICT, "江岸区", CITY, client_id=cid(DISTRICT), by=System.OPERATOR)
    app.create_node(STREET, "后湖街道", DISTRICT, client_id=cid(STREET), by=System.OPERATOR)
    app.create_node(COMMUNITY, "712社区", STREET, client_id=cid(COMMUNITY), by=System.OPERATOR)
    for z in range(1, ZONES + 1):
        app.create_node(zone_code(z), f"第{z}片区", COMMUNITY, client_id=cid(zone_code(z)),
                        by=System.OPERATOR)
    for b in range(1, BUILDINGS + 1):
        app.register_building(COMMUNITY, str(b), f"{b}栋", 7, client_id=cid(f"building-{b}"),
                              by=System.OPERATOR)
    app.register_households(household_rows(rng), client_id=cid("households"), by=System.OPERATOR)
    from adapters import demo_geography  # it reads this module's constants

    demo_geography.draw(app)  # the boundaries and the buildings' points, before the sweep
    # a grid worker's jurisdiction is exactly their zones; everyone else serves the community
    for staff_no, role, capacity in STAFF:
        where = (worker_zones(int(staff_no.rsplit("-", 1)[1])) if role is Role.GRID_WORKER
                 else COMMUNITY)
        app.enrol_staff(staff_no, _name(rng), role, where, capacity, _phone(rng),
                        client_id=cid(staff_no), by=System.OPERATOR)
    workers = [app.staff_by_no(f"712-GW-{i}").id for i in range(1, GRID_WORKERS + 1)]
    for z in range(1, ZONES + 1):
        app.assign_responsible_worker(zone_code(z), workers[(z - 1) % GRID_WORKERS],
                                      client_id=cid(f"worker-{z}"), by=System.OPERATOR)
    squad_members = [s for s, r, _ in STAFF if r in (Role.PARTY_MEMBER, Role.VOLUNTEER)]
    for z in range(1, ZONES + 1):
        ids = [app.staff_by_no(s).id for s in squad_members[z - 1::ZONES]]
        app.form_squad(zone_code(z), ids, client_id=cid(f"squad-{z}"), by=System.OPERATOR)
    app.launch_campaign(COMMUNITY, 1, days, "712社区 第1轮拉网式排查",
                        client_id=cid("campaign-round-1"), by=System.OPERATOR)


@dataclass
class ZoneSummary:
    code: str
    name: str
    households: int
    residents: int
    vulnerable: int
    worker: str
    squad: int
    door: int


def summarize(app: GridcoreApp) -> list[ZoneSummary]:
    """Per zone: households, residents, vulnerable households, responsible worker."""
    today = app.clock().date()
    assignment = app.assignment(COMMUNITY, 1)
    out = []
    for grid in app.micro_grids(COMMUNITY):
        households = [app.household(h) for h in grid.households]
        worker = app.staff(grid.responsible_worker).name if grid.responsible_worker else "—"
        door = sum(1 for h in households if assignment.method.get(h.id) is Method.DOOR)
        out.append(ZoneSummary(grid.code, grid.name, len(households), grid.residents,
                               sum(1 for h in households if h.is_vulnerable(today)),
                               worker, len(grid.squad), door))
    return out


def staff_counts(app: GridcoreApp) -> dict[Role, int]:
    counts: dict[Role, int] = {}
    for s in app.staff_in(COMMUNITY):
        counts[s.role] = counts.get(s.role, 0) + 1
    return counts
