"""The 712 community's screening after the case (DOMAIN.md: 协查, 全员核酸检测), after the
field operations of ``demo_field``.

Day 6 (23 Feb 2020): the district's epidemic command (区疫情防控指挥部) receives an assistance
list (协查名单) of arrivals from the communications big-data itinerary check (通信大数据行程卡):
twelve people seen in 孝感 or 黄冈 in the last 14 days, now in 江岸区. Three are matched to the
register by phone and name (the register holds no ID numbers: one listed with his ID number
is routed by address), eight are routed by their address to the 712 community's zones
(落地排查), one has only a district and stays at the district with the reason (无法落地) until
the district's official reaches them by phone and forwards them. The community reports each:
found with the measure taken (a matched resident's home quarantine recorded by the family
doctor), not found, moved back to 孝感 (forwarded to that city), wrong data; one is left
unreported, so the next day's tick escalates it to the street, and later ticks on up.

Days 7-10 (24-27 Feb): a testing round over the community (全员核酸检测): two sampling sites
with their hours and capacity, every household scheduled to a half-hour slot or sampled at
home (65+, disabled, under home observation or quarantine: the policy's rule), samples pooled
10-in-1 (the policy's pool size). Those in centralized quarantine, the confirmed case and a
few no-shows are not sampled, and coverage says who. Every pool is negative but one: its
members' households go under temporary control, each member gets a single-tube retest
(单采单检) at home, one is positive and becomes a case (核酸-<tube>), which the family doctor
traces (流调): their household members become close contacts; the other households'
retests are negative and their control is released.

Every command carries a client id, so running the demo again applies nothing twice; what is
derived from the register (whom to sample, into which tube) is derived again the same way
from what the campaign recorded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from adapters import demo_geography
from adapters.demo import COMMUNITY, DISTRICT, STREET, SWEEP_START, ScenarioClock, zone_code
from gridcore.application import GridcoreApp
from gridcore.assistance import AssistanceRow, ItemStatus, RouteBasis, Source
from gridcore.authority import System
from gridcore.household import Household
from gridcore.identity import id_number_checksum_ok
from gridcore.mass_testing import SamplingSite, TestingCampaign, TubeResult
from gridcore.mass_testing_commands import SampleRow
from gridcore.staff import Role
from gridcore.status import Health, Measure
from gridcore.tracing import Generation


def cid(what: str) -> str:
    return f"demo712:{what}"


def at_day(day: int, hour: int = 8, minute: int = 0) -> datetime:
    return SWEEP_START + timedelta(days=day, hours=hour - 8, minutes=minute)


# ---- the assistance list (协查) ----------------------------------------------------------------

DISTRICT_OFFICIAL = "JA-ZHB-01"
LIST_REFERENCE = "江岸协查〔2020〕23号"
ITINERARY = "通信大数据行程卡 · 湖北省通信管理局"
OVERDUE_ITEM = 10
"""The item the community leaves unreported (its deadline passes: escalated to the street)."""


def _id_number(first17: str) -> str:
    """An ID number with its GB 11643 check character."""
    return next(first17 + c for c in "0123456789X" if id_number_checksum_ok(first17 + c))


ARRIVAL_ID = _id_number("42090219920315003")
"""The ID number of an arrival (孝感 area code, born 1992) whom the register does not know:
routed by his address, found at his parents' home."""


def _untouched(app: GridcoreApp, zone: int, skip: set[UUID]) -> Household:
    """The first household of a zone (by number) whose members nobody has marked: no tag,
    no measure, normal health; not in ``skip`` (it is added)."""
    grid = next(g for g in app.micro_grids(COMMUNITY) if g.code == zone_code(zone))
    for h in sorted((app.household(h) for h in grid.households), key=lambda h: h.household_no):
        if h.id in skip:
            continue
        if all(not r.tags and r.measure is Measure.NONE and r.health is Health.NORMAL
               for r in h.residents.values()):
            skip.add(h.id)
            return h
    raise LookupError(f"no untouched household in zone {zone}")


def _address(h: Household) -> str:
    return f"武汉市江岸区后湖街道712社区{h.address.text}"


def _who(h: Household) -> tuple[str, str]:
    r = next(iter(h.residents.values()))
    phone = r.identity.phone
    return r.identity.name or "", str.__str__(phone) if phone else ""


def _reason(place: str, day: int) -> str:
    return f"2月{day}日前14天内到访{place}，行程卡显示现位于江岸区 seen in {place}, now in 江岸区"


def assistance_rows(app: GridcoreApp) -> list[AssistanceRow]:
    """The list as the itinerary check sends it: phones and names, an ID number, addresses
    in the community's zones, one with only a district."""
    skip: set[UUID] = set()
    matched = [_who(_untouched(app, z, skip)) for z in (1, 2, 5)]
    homes = {z: _untouched(app, z, skip) for z in (3, 4, 8, 9, 10)}
    rows = [AssistanceRow(name=n, phone=p, reason=_reason("孝感", 20)) for n, p in matched[:2]]
    rows.append(AssistanceRow(name="周晓东", id_number=ARRIVAL_ID, address=_address(homes[9]),
                              reason=_reason("孝感", 19)))
    rows += [
        AssistanceRow(name="吴海燕", phone="13871230415", address=_address(homes[3]),
                      reason=_reason("黄冈", 18)),
        AssistanceRow(name="郑立新", phone="13907156622", address="江岸区712社区第6片区",
                      reason=_reason("黄冈", 17)),
        AssistanceRow(name="冯春花", phone="15927348801", address=_address(homes[8]),
                      reason=_reason("孝感", 16)),
        AssistanceRow(name="曹志强", phone="13545112790", address="后湖街道712社区5栋",
                      reason=_reason("孝感", 15)),
        AssistanceRow(name="彭玉兰", phone="18986020377", address=_address(homes[10]),
                      reason=_reason("黄冈", 19)),
        AssistanceRow(name="袁国强", phone="13329915064", district="江岸区",
                      reason=_reason("孝感", 20)),
        AssistanceRow(name="潘小龙", phone="15071381126", address=_address(homes[4]),
                      reason=_reason("黄冈", 20)),
        AssistanceRow(name=matched[2][0], phone=matched[2][1], reason=_reason("黄冈", 18)),
        AssistanceRow(name="许凤英", phone="13720387745", address="江岸区后湖街道712社区第11片区",
                      reason=_reason("孝感", 17)),
    ]
    return rows


FOUND, NOT_FOUND, WRONG = ItemStatus.FOUND, ItemStatus.NOT_FOUND, ItemStatus.WRONG_DATA
QUARANTINE = "居家隔离14天，纳入健康监测 home quarantine for 14 days"
ANSWERS: dict[int, tuple[ItemStatus, str | None, str | None]] = {
    1: (FOUND, QUARANTINE, None),
    2: (FOUND, QUARANTINE, None),
    3: (FOUND, QUARANTINE, "2月19日自孝感返回父母家，已登记 back at his parents' since 19 Feb"),
    4: (FOUND, QUARANTINE, "借住亲戚家 staying with relatives"),
    5: (FOUND, "居家健康监测 health monitoring at home", None),
    6: (NOT_FOUND, None, "该户称无此人，电话无人接听 unknown at the address, no answer"),
    8: (WRONG, None, "号码为空号，该户无此人 the number does not exist"),
    9: (FOUND, QUARANTINE, "区指挥部电话联系后转办 forwarded by the district"),
    11: (FOUND, QUARANTINE, None),
    12: (FOUND, QUARANTINE, None),
}
"""The community's answer per item: found (with the measure taken), not found, wrong data.
Item 7 moved back to 孝感 (forwarded to that city); item 10 is left to escalate."""


def _reporter(app: GridcoreApp, place: str) -> UUID:
    """The zone's responsible grid worker; the community police for the community itself."""
    if place == COMMUNITY:
        return app.staff_by_no("712-POL").id
    worker = app.node(place).responsible_worker
    return worker or app.staff_by_no("712-DUTY").id


def assistance(app: GridcoreApp, clock: ScenarioClock) -> None:
    """23 Feb: the list arrives at the district, is matched and routed, and the community
    answers it; 24 Feb: the tick escalates the item nobody reported."""
    doctor = app.staff_by_no("712-DOC").id
    clock.at(6, 7, 30)
    app.enrol_staff(DISTRICT_OFFICIAL, "刘建华", Role.OFFICIAL, DISTRICT, 0, "13986101752",
                    client_id=cid(DISTRICT_OFFICIAL), by=System.OPERATOR)
    official = app.staff_by_no(DISTRICT_OFFICIAL).id
    clock.at(6, 9)
    app.receive_assistance_list(Source.ITINERARY_CHECK, LIST_REFERENCE, assistance_rows(app),
                                DISTRICT, source_name=ITINERARY, list_format="csv",
                                client_id=cid("assistance-list"), by=official)
    listed = app.assistance_list(LIST_REFERENCE)
    clock.at(6, 10)  # the district reaches item 9 by phone: lives in zone 11
    app.forward_assistance_item(listed.id, 9, to_community=zone_code(11), by=official,
                                note="电话联系：现住712社区第11片区",
                                client_id=cid("assistance-9-forward"))
    for n, item in enumerate(app.assistance_list(LIST_REFERENCE).items):
        clock.at(6, 11 + n // 2, (n % 2) * 30)
        key = f"assistance-{item.no}"
        by = _reporter(app, item.place)
        if item.no == 7:
            app.forward_assistance_item(listed.id, 7, to_city="孝感市", by=by,
                                        note="2月21日已返回孝感 went back to 孝感 on 21 Feb",
                                        client_id=cid(f"{key}-forward"))
        elif item.no in ANSWERS:
            status, measure, note = ANSWERS[item.no]
            app.report_assistance_item(listed.id, item.no, status, measure=measure, note=note,
                                       by=by, client_id=cid(f"{key}-report"))
            if (status is FOUND and item.resident_id is not None
                    and item.household_id is not None and measure == QUARANTINE):
                app.change_measure(item.household_id, item.resident_id,
                                   Measure.HOME_QUARANTINE, doctor,
                                   f"协查 {LIST_REFERENCE}: 外地来返",
                                   client_id=cid(f"{key}-measure"))
    app.tick(clock.at(7, 10))


# ---- the testing round (全员核酸检测) -----------------------------------------------------------

SITES = [
    SamplingSite(site_id="HB712-S1", name="712社区广场采样点", place=COMMUNITY, opens_hour=8,
                 closes_hour=18, capacity_per_hour=40),
    SamplingSite(site_id="HB712-S2", name="712社区服务中心采样点", place=COMMUNITY,
                 opens_hour=8, closes_hour=18, capacity_per_hour=40),
]
ROUND = 1
TESTING_DAY = 8  # 25 Feb: the first of the two sampling days
POSITIVE_HOME = "712-06-1-403"
"""The household of the resident whose pool is positive and who is positive on retest: in
zone 3, sampled at a site (nobody 65+ or under a measure), untouched before the round."""
NOT_AT_HOME = (Measure.CENTRALIZED_QUARANTINE, Measure.HOSPITALIZED)


def _campaign(app: GridcoreApp) -> TestingCampaign:
    return app.testing_campaign_of(COMMUNITY, ROUND)


def _to_sample(app: GridcoreApp, c: TestingCampaign, hid: UUID, rng: random.Random
               ) -> list[UUID]:
    """The members of a household sampled: not those in centralized quarantine or hospital
    (sampled where they are), not a confirmed case, and about 1 in 200 not at home. A
    resident the campaign has sampled is always in, so a second run derives the same tubes
    whatever happened to them since."""
    h = app.household(hid)
    out = []
    for rid in c.members.get(hid, []):
        r = h.residents[rid]
        absent = rng.random() < 0.005
        if rid in c.samples or not (absent or r.measure in NOT_AT_HOME
                                    or (r.health is Health.CONFIRMED and rid not in c.cases)):
            out.append(rid)
    return out


class _Tubes:
    """Samples into 10-in-1 tubes (the campaign's pool size), one code after another."""

    def __init__(self, prefix: str, size: int) -> None:
        self.prefix, self.size, self.n, self.held = prefix, size, 0, 0

    def next(self) -> str:
        if self.held == self.size:
            self.n, self.held = self.n + 1, 0
        self.held += 1
        return f"{self.prefix}-{self.n + 1:04d}"

    def full(self) -> list[str]:
        """The tubes full so far (all but the open one, or all if it is full)."""
        last = self.n + 1 if self.held == self.size else self.n
        return [f"{self.prefix}-{i:04d}" for i in range(1, last + 1)]

    def all(self) -> list[str]:
        return [f"{self.prefix}-{i:04d}" for i in range(1, self.n + 2)] if self.held else []


def _record(app: GridcoreApp, c: TestingCampaign, rows: list[SampleRow], by: UUID,
            key: str) -> None:
    if rows:
        app.record_samples(c.id, rows, by=by, client_id=cid(key))


def _seal(app: GridcoreApp, codes: list[str], by: UUID, sealed: set[str]) -> None:
    for code in codes:
        if code not in sealed:
            app.seal_tube(code, by=by, client_id=cid(f"seal-{code}"))
            sealed.add(code)


def testing(app: GridcoreApp, clock: ScenarioClock) -> None:
    """24 Feb: the round is launched; 25-26 Feb: sampling; results the next mornings; the
    positive pool followed to its case and the release of the others."""
    official = app.staff_by_no("712-DIR").id
    doctor = app.staff_by_no("712-DOC").id
    clock.at(7, 15)
    app.launch_testing_campaign(COMMUNITY, ROUND, SITES, starts=at_day(TESTING_DAY), days=2,
                                name="712社区 第1轮全员核酸检测", by=official,
                                client_id=cid("testing-round-1"))
    demo_geography.locate_sampling_sites(app, _campaign(app).id, [s.site_id for s in SITES])
    rng = random.Random(225)
    sealed: set[str] = set()
    done: dict[int, list[str]] = {}
    for day in (TESTING_DAY, TESTING_DAY + 1):
        done[day] = _sampling_day(app, clock, day, rng, sealed)
        if day == TESTING_DAY:  # the first day's tubes come back overnight
            _results(app, clock, done[day], day + 1, doctor)
    _retests(app, clock, doctor)
    _results(app, clock, done[TESTING_DAY + 1], TESTING_DAY + 2, doctor, hour=6)
    _trace_case(app, clock, doctor)
    app.tick(clock.at(TESTING_DAY + 2, 20))


def _sampling_day(app: GridcoreApp, clock: ScenarioClock, day: int, rng: random.Random,
                  sealed: set[str]) -> list[str]:
    """A day's sampling: the sites slot by slot (a volunteer registers each sample), then the
    zones' squads door to door (half the households each day); every tube sealed by night."""
    c = _campaign(app)
    start, end = at_day(day, 0), at_day(day + 1, 0)
    recorders = {s.site_id: app.staff_by_no(f"712-VOL{i + 1:02d}").id
                 for i, s in enumerate(SITES)}
    codes: list[str] = []
    tubes = {s.site_id: _Tubes(f"{s.site_id}-{day - TESTING_DAY + 1}", c.pool_size)
             for s in SITES}
    slots = sorted({(a.slot, a.site_id) for a in c.assignments.values()
                    if a.site_id and a.slot and start <= a.slot < end})
    for slot, site in slots:
        here = sorted((a for a in c.assignments.values()
                       if a.site_id == site and a.slot == slot),
                      key=lambda a: app.household(a.household_id).household_no)
        rows = [SampleRow(a.household_id, rid, tubes[site].next())
                for a in here for rid in _to_sample(app, c, a.household_id, rng)]
        clock.now = slot + timedelta(minutes=c.slot_minutes)
        _record(app, c, rows, recorders[site], f"samples-{site}-{slot:%m%d%H%M}")
        _seal(app, tubes[site].full(), recorders[site], sealed)
    clock.at(day, 18, 30)
    for s in SITES:
        _seal(app, tubes[s.site_id].all(), recorders[s.site_id], sealed)
        codes += tubes[s.site_id].all()
    for z in range(1, 12):
        grid = next(g for g in app.micro_grids(COMMUNITY) if g.code == zone_code(z))
        homes = sorted((a for a in c.assignments.values()
                        if a.door_to_door and a.micro_grid == grid.code),
                       key=lambda a: app.household(a.household_id).household_no)
        half = homes[: (len(homes) + 1) // 2] if day == TESTING_DAY else homes[
            (len(homes) + 1) // 2:]
        door = _Tubes(f"HB712-D{z:02d}-{day - TESTING_DAY + 1}", c.pool_size)
        taken = at_day(day, 9, z * 25)  # the squad's round; entered in the evening
        rows = [SampleRow(a.household_id, rid, door.next(), taken)
                for a in half for rid in _to_sample(app, c, a.household_id, rng)]
        by = grid.squad[0] if grid.squad else app.staff_by_no("712-DOC").id
        clock.at(day, 19, z * 2)
        _record(app, c, rows, by, f"samples-door-{z:02d}-{day}")
        _seal(app, door.all(), by, sealed)
        codes += door.all()
    return codes


def positive_resident(app: GridcoreApp) -> UUID:
    """The resident of ``POSITIVE_HOME`` who is positive: its first member."""
    return next(iter(app.household_by_no(POSITIVE_HOME).residents))


def _results(app: GridcoreApp, clock: ScenarioClock, codes: list[str], day: int, doctor: UUID,
             hour: int = 6) -> None:
    """The lab's results for the tubes of a day, the next morning: negative but for the pool
    holding the positive resident."""
    c = _campaign(app)
    positive = c.samples.get(positive_resident(app))
    clock.at(day, hour)
    for code in codes:
        if code not in c.tubes:
            continue
        result = TubeResult.POSITIVE if positive and positive.tube_code == code else (
            TubeResult.NEGATIVE)
        app.record_tube_result(code, result, by=doctor, client_id=cid(f"result-{code}"))


def _retests(app: GridcoreApp, clock: ScenarioClock, doctor: UUID) -> None:
    """单采单检: the doctor takes a single tube from each member of the positive pool at home,
    the evening after the pool's result; results the next morning at 5."""
    c = _campaign(app)
    retests = sorted(c.retests.values(), key=lambda r: (
        app.household(r.household_id).household_no, list(c.members[r.household_id]).index(
            r.resident_id)))
    clock.at(TESTING_DAY + 1, 20)
    rows = [SampleRow(r.household_id, r.resident_id, f"HB712-R-{n + 1:02d}")
            for n, r in enumerate(retests) if r.tube_code is None]
    _record(app, c, rows, doctor, "retests")
    clock.at(TESTING_DAY + 2, 5)
    positive = positive_resident(app)
    for n, r in enumerate(retests):
        result = TubeResult.POSITIVE if r.resident_id == positive else TubeResult.NEGATIVE
        code = f"HB712-R-{n + 1:02d}"
        app.record_tube_result(code, result, by=doctor, client_id=cid(f"result-{code}"))


def _trace_case(app: GridcoreApp, clock: ScenarioClock, doctor: UUID) -> None:
    """The case the retest opened is traced: the household members, who shared the flat with
    the index until the pool's control, are close contacts (密接)."""
    c = _campaign(app)
    rid = positive_resident(app)
    case = app.case_by_no(c.cases[rid])
    home = app.household_by_no(POSITIVE_HOME)
    clock.at(TESTING_DAY + 2, 9)
    for n, other in enumerate(r for r in home.residents if r != rid):
        app.record_exposure(case.id, at_day(TESTING_DAY + 1, 20), "household", "家中 at home",
                            "shared_living", by=doctor, hid=home.id, rid=other,
                            client_id=cid(f"testing-case-contact-{n}"))


# ---- what it produced ---------------------------------------------------------------------

@dataclass
class AssistanceStory:
    """The list: its persons, how they were routed, and completion per level (district,
    street, community) with where the overdue item stands now."""

    reference: str
    items: int
    matched: int
    routed: int
    unrouted: int
    """left at the district on receipt (无法落地), then routed by the district by hand"""
    completion: dict[str, tuple[str, int, int, int, int, int, int, int]]
    """level name -> (code, total, found, not found, moved away, wrong data, pending,
    overdue)"""
    overdue_at: str


def assistance_story(app: GridcoreApp) -> AssistanceStory:
    a = app.assistance_list(LIST_REFERENCE)
    counts = app.assistance_completion(DISTRICT, a.id)
    levels = {}
    for code in (DISTRICT, STREET, COMMUNITY):
        x = counts[code]
        levels[app.node(code).name] = (code, x.total, x.found, x.not_found, x.moved_away,
                                       x.wrong_data, x.pending, x.overdue)
    overdue = a.item(OVERDUE_ITEM)
    matched = sum(1 for i in a.items if i.basis is RouteBasis.REGISTER)
    by_hand = sum(1 for i in a.items if i.basis is RouteBasis.FORWARDED)
    return AssistanceStory(a.reference, len(a.items), matched, len(a.items) - matched - by_hand,
                           by_hand, levels, app.node(overdue.owner).name)


@dataclass
class TestingStory:
    """The round: residents expected and sampled, households sampled at home, tubes, and
    the positive pool followed to its case."""

    residents: int
    sampled: int
    unsampled_households: int
    door_households: int
    site_households: int
    tubes: int
    pool: str
    pool_members: int
    controlled: int
    released: int
    still_controlled: int
    case_no: str
    case_close_contacts: int


def testing_story(app: GridcoreApp) -> TestingStory:
    c = _campaign(app)
    cov = app.testing_coverage(c.id)[COMMUNITY]
    rid = positive_resident(app)
    pool = c.samples[rid].tube_code
    case = app.case_by_no(c.cases[rid])
    door = sum(1 for a in c.assignments.values() if a.door_to_door)
    return TestingStory(
        cov.residents, cov.sampled, len(cov.unsampled), door, len(c.assignments) - door,
        sum(1 for t in c.tubes.values() if not t.retest), pool, len(c.tubes[pool].members),
        len(c.controls), sum(1 for x in c.controls.values() if x.released),
        sum(1 for x in c.controls.values() if not x.released), case.case_no,
        len(case.by_generation()[Generation.CLOSE]))
