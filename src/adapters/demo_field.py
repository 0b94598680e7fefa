"""The 712 community's field operations, as the seeds tell them (DOMAIN.md).

Days 0-2 (17-19 Feb 2020): the 3-day full sweep; every assigned household is checked by its
method, a few answer only on a retry, and a few findings (fever, close contacts, arrivals from
elsewhere) are followed up by the findings process into status changes and referrals, which the
community persuades, transports and admits. Day 4 (21 Feb): a resident is confirmed and the
family doctor traces their contacts (流调): two close contacts in the register, one outside it
to be located, one secondary contact, and one uncertain match left for a person to confirm.
Day 5 (22 Feb): the community is sealed and from then on every supply is delivered to the door:
donated vegetables (爱心菜) to every household and group-buy orders bought centrally by the duty
lead. A few residents' requests come in along the
way. Days 6-10 (23-27 Feb, ``demo_screening``): an assistance list of arrivals (协查) routed to
the zones and answered, and a testing round (全员核酸检测) with one positive pool followed to its
case. Days 11-12 (28-29 Feb, ``demo_monitoring``): the health monitoring (健康监测) of those
under measures: reports by chat, workers' calls, one missed, one fever followed up. Every
command carries a client id, so running the demo again applies nothing twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from uuid import UUID

from adapters import demo_geography, demo_monitoring, demo_screening
from adapters.demo import COMMUNITY, STREET, SWEEP_START, ScenarioClock
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.delivery import DeliveryKind, Item, delivery_id
from gridcore.referral import ReferralKind, ReferralState
from gridcore.sweep import Arrival, Outcome
from gridcore.tracing import Generation

SITE = "HB-01"
FEVER_CLINIC = "江岸区人民医院发热门诊"


def cid(what: str) -> str:
    return f"demo712:{what}"


def sweep(app: GridcoreApp, clock: ScenarioClock, rng: random.Random) -> None:
    """Three days of door visits, phone calls and chat self-reports, retries on day 2."""
    campaign = app.campaign_of(COMMUNITY, 1)
    assignment = app.assignment(COMMUNITY, 1)
    work = sorted(assignment.owner.items(), key=lambda i: str(i[0]))
    no_answer: list[tuple[UUID, UUID]] = []
    per_day = -(-len(work) // 2)
    for day in (0, 1):
        for n, (hid, staff) in enumerate(work[day * per_day:(day + 1) * per_day]):
            clock.at(day, 8 + n * 10 // per_day, n % 60)
            method = assignment.method[hid]
            if method is not Method.CHAT and rng.random() < 0.04:
                app.record_visit(campaign.id, hid, method, Outcome.NO_ANSWER, by=staff,
                                 client_id=cid(f"visit-{hid}-1"))
                no_answer.append((hid, staff))
                continue
            app.record_visit(campaign.id, hid, method, by=staff,
                             client_id=cid(f"visit-{hid}-1"), **findings(app, hid, rng))
        app.tick(clock.at(day, 20))
    for n, (hid, staff) in enumerate(no_answer):
        clock.at(2, 9, n % 60)
        app.record_visit(campaign.id, hid, Method.DOOR, by=staff, client_id=cid(f"visit-{hid}-2"))
    clock.at(2, 18)
    app.close_campaign(campaign.id, client_id=cid("close-round-1"),
                       by=app.staff_by_no("712-DIR").id)


def findings(app: GridcoreApp, hid: UUID, rng: random.Random) -> dict[str, object]:
    """Temperatures for everyone; about 1 in 150 households with a fever, 1 in 100 naming a
    close contact, 1 in 120 with a member back from elsewhere."""
    members = list(app.household(hid).residents)
    temps = {r: round(rng.uniform(36.0, 37.0), 1) for r in members}
    details: dict[str, object] = {"temperatures": temps}
    roll = rng.random()
    if roll < 1 / 150:
        temps[members[0]] = round(rng.uniform(37.5, 38.9), 1)
    elif roll < 1 / 150 + 1 / 100:
        details["close_contacts"] = [members[-1]]
    elif roll < 1 / 150 + 1 / 100 + 1 / 120:
        details["arrivals"] = [Arrival(resident_id=members[0], origin=rng.choice(
            ("云南", "孝感", "黄冈")), arrived_on=clock_date(app))]
    return details


def clock_date(app: GridcoreApp) -> date:
    return app.clock().date()


def referrals(app: GridcoreApp, clock: ScenarioClock) -> None:
    """Persuade (the first refusal took 3 hours), transport and admit every open referral."""
    doctor = app.staff_by_no("712-DOC").id
    police = app.staff_by_no("712-POL").id
    clock.at(2, 19)
    app.register_quarantine_site(SITE, "后湖宾馆集中隔离点", STREET, 60, client_id=cid("site"),
                                 by=System.OPERATOR)
    demo_geography.locate_quarantine_site(app, SITE)
    for n, r in enumerate(app.open_referrals(COMMUNITY)):
        clock.at(2, 20, n)
        if r.state is not ReferralState.OPENED:
            continue
        key = f"referral-{r.id}"
        if n == 0:
            app.record_persuasion(r.id, police, 180, "担心家中老人无人照顾",
                                  client_id=cid(f"{key}-persuade"))
        app.accept_referral(r.id, police, 30, "同意转运", client_id=cid(f"{key}-accept"))
        app.dispatch_transport(r.id, police, "120转运车", "社区民警陪同",
                               client_id=cid(f"{key}-transport"))
        if r.kind is ReferralKind.CENTRALIZED_QUARANTINE:
            app.admit(r.id, doctor, site_code=SITE, client_id=cid(f"{key}-admit"))
        else:
            app.admit(r.id, doctor, destination=FEVER_CLINIC, client_id=cid(f"{key}-admit"))
            if r.kind is ReferralKind.FEVER_CLINIC:
                app.close_referral(r.id, doctor, "排除新冠，居家观察",
                                   client_id=cid(f"{key}-close"))


def deliveries(app: GridcoreApp, clock: ScenarioClock, rng: random.Random) -> None:
    """From day 6 (22 Feb) every supply is delivered to the door."""
    lead = app.staff_by_no("712-DUTY").id
    clock.at(5, 8)
    app.seal_scope(COMMUNITY, clock(), client_id=cid("seal"), by=lead)
    zone = app.micro_grids(COMMUNITY)[0]
    taker = zone.responsible_worker or lead  # the zone's grid worker takes the orders
    households = sorted(zone.households, key=str)
    for n, hid in enumerate(households[:20]):
        app.place_order(hid, f"TG-{n + 1:03d}", [Item(name="大米", quantity=5, unit="kg"),
                                                 Item(name="食用油", quantity=1, unit="桶")],
                        client_id=cid(f"order-{n}"), by=taker)
    app.batch_purchase(COMMUNITY, lead, client_id=cid("purchase-1"))
    app.donate_to_scope(COMMUNITY, "AXC-0222", [Item(name="爱心菜", quantity=1, unit="份")],
                        "爱心企业捐赠", client_id=cid("donation-1"), by=lead)
    households = sorted((app.household(h) for g in app.micro_grids(COMMUNITY)
                         for h in g.households), key=lambda h: h.household_no)
    ids = [delivery_id(DeliveryKind.ORDER, f"TG-{n + 1:03d}") for n in range(20)]
    ids += [delivery_id(DeliveryKind.DONATION, f"AXC-0222/{h.household_no}")
            for h in households]
    clock.at(5, 9)
    app.dispatch_deliveries(COMMUNITY, client_id=cid("dispatch-1"), by=lead)
    failed = []
    for n, did in enumerate(ids):
        clock.at(5, 10 + n * 5 // len(ids), n % 60)
        d = app.delivery(did)
        by = d.staff[0] if d.staff else lead
        if rng.random() < 0.02:
            app.report_failed_delivery(did, "无人应答 no answer", by=by,
                                       client_id=cid(f"fail-{did}"))
            failed.append(did)
        else:
            app.confirm_delivery(did, by, client_id=cid(f"deliver-{did}"))
    clock.at(5, 15)
    for did in failed:
        app.redeliver(did, client_id=cid(f"redeliver-{did}"), by=lead)
    for n, did in enumerate(failed):
        clock.at(5, 17, n % 60)
        d = app.delivery(did)
        app.confirm_delivery(did, d.staff[0] if d.staff else lead,
                             client_id=cid(f"deliver-{did}-2"))
    app.tick(clock.at(5, 20))


REQUESTS = [
    ("online", "medical", "urgent", "家中老人需要降压药，能否代购"),
    ("hotline", "supplies", "normal", "想问团购蔬菜什么时候送到"),
    ("chat", "information", "normal", "隔离期满后需要做什么检测"),
    ("online", "complaint", "normal", "楼道消毒不及时"),
]


def requests(app: GridcoreApp, clock: ScenarioClock) -> None:
    """A few residents' requests: answered and rated, one left to escalate overnight. A
    request belongs to the community, so the duty lead (总值班) takes and answers it (a grid
    worker's jurisdiction is their zones)."""
    lead = app.staff_by_no("712-DUTY").id
    zone = app.micro_grids(COMMUNITY)[1]
    households = sorted(zone.households, key=str)
    for n, (channel, category, grade, text) in enumerate(REQUESTS):
        clock.at(3, 9 + n)
        filing = app.file_request(channel, category, grade, text, household=households[n],
                                  client_id=cid(f"request-{n}"), by=System.PUBLIC)
        if n < 3:
            clock.at(3, 10 + n)
            app.assign_request(filing.request_id, lead, client_id=cid(f"request-{n}-assign"),
                               by=lead)
            app.resolve_request(filing.request_id, lead, "已安排网格员上门处理",
                                client_id=cid(f"request-{n}-resolve"))
            app.rate_request(filing.reference, 5 - n % 2, client_id=cid(f"request-{n}-rate"),
                             by=System.PUBLIC)
    app.tick(clock.at(4, 8))


CASE_NO = "JA-20200221-01"
TRACING_ZONE = "420102014712-07"
# Households of zone 7 (buildings 14-15) nobody had marked before 21 Feb; fixed, so the story is
# the same on every run (a test holds them untouched until the case opens).
INDEX_HOME, NEIGHBOUR_HOME, YARD_HOME, WORKMATE_HOME = (
    "712-14-1-202", "712-14-1-203", "712-14-2-301", "712-15-1-203")


def tracing(app: GridcoreApp, clock: ScenarioClock) -> None:
    """21 Feb: a resident of zone 7 tests positive at the fever clinic; the family doctor
    opens the confirmed case (病例) and traces it: the spouse at home (a resident) and the
    neighbour across the landing named with a phone (matched to the register by the police),
    a relative from another district who came to dinner (outside the register, to be located
    where they live), the spouse's workmate in the next building (a secondary contact,
    次密接), and a neighbour known only by name and building (an uncertain match, proposed
    and left for a person to confirm)."""
    doctor = app.staff_by_no("712-DOC").id
    police = app.staff_by_no("712-POL").id
    home, neighbour_home, yard_home, work_home = (
        app.household_by_no(no) for no in (INDEX_HOME, NEIGHBOUR_HOME, YARD_HOME,
                                           WORKMATE_HOME))
    index, spouse = list(home.residents.values())[:2]
    neighbour = next(iter(neighbour_home.residents.values()))
    near = next(iter(yard_home.residents.values()))
    workmate = next(iter(work_home.residents.values()))
    clock.at(4, 9)
    app.open_case(CASE_NO, TRACING_ZONE, "发热门诊核酸检测阳性 positive at the fever clinic",
                  by=doctor, hid=home.id, rid=index.resident_id, confirmed=True,
                  client_id=cid("case-1"))
    case = app.case_by_no(CASE_NO)
    clock.at(4, 10)
    spouse_rec = app.record_exposure(
        case.id, scenario_time(3, 21), "household", "家中 at home", "shared_living", by=doctor,
        hid=home.id, rid=spouse.resident_id, client_id=cid("case-1-spouse"))
    clock.at(4, 10, 20)
    phone = neighbour.identity.phone
    known = app.record_exposure(
        case.id, scenario_time(2, 18, 30), "gathering", "楼道取菜时交谈 on the landing",
        "face_to_face", by=doctor, name=neighbour.identity.name,
        phone=str.__str__(phone) if phone else None, client_id=cid("case-1-neighbour"))
    clock.at(4, 10, 40)
    app.record_exposure(
        case.id, scenario_time(-1, 19), "gathering", "家中聚餐 family dinner", "face_to_face",
        by=doctor, name="陈志明", phone="13907150216", address="汉阳区四新街道江城大道88号",
        client_id=cid("case-1-relative"))
    clock.at(4, 11)
    app.record_exposure(
        case.id, scenario_time(1, 12), "workplace", "社区超市 the community shop", "face_to_face",
        by=doctor, via=spouse_rec.person_id, hid=work_home.id, rid=workmate.resident_id,
        client_id=cid("case-1-workmate"))
    clock.at(4, 11, 20)
    building = (yard_home.address.text or "").split("单元")[0] + "单元"  # "14栋2单元": no door
    yard = app.record_exposure(
        case.id, scenario_time(2, 17), "gathering", "楼下空地 the yard", "same_space", by=doctor,
        name=near.identity.name, address=building, client_id=cid("case-1-yard"))
    clock.at(4, 14)
    app.match_contact(case.id, known.person_id, neighbour_home.id, neighbour.resident_id,
                      by=police, client_id=cid("case-1-neighbour-match"))
    clock.at(4, 14, 30)
    app.match_contact(case.id, yard.person_id, yard_home.id, near.resident_id,
                      by=police, client_id=cid("case-1-yard-match"))


def scenario_time(day: int, hour: int = 8, minute: int = 0) -> datetime:
    """A time of the scenario's past (an exposure), without moving the clock."""
    return SWEEP_START + timedelta(days=day, hours=hour - 8, minutes=minute)


@dataclass
class Story:
    """What the demo's field operations produced, for the summary."""

    households: int
    covered: int
    by_method: dict[str, int]
    fevers: int
    close_contacts: int
    arrivals: int
    referrals: dict[str, int]
    site_occupancy: int
    deliveries: dict[str, int]
    requests: dict[str, int]
    escalated_requests: int
    case: TracingStory
    assistance: demo_screening.AssistanceStory
    testing: demo_screening.TestingStory


@dataclass
class TracingStory:
    """The demo's case: its number and status, its contacts by generation, those to locate
    and the matches proposed (left for a person to confirm)."""

    case_no: str
    status: str
    close: int
    secondary: int
    to_locate: int
    proposed: int


def tracing_story(app: GridcoreApp) -> TracingStory:
    case = app.case_by_no(CASE_NO)
    by = app.contacts_by_generation(case.id)
    return TracingStory(case.case_no, case.status.label, len(by[Generation.CLOSE]),
                        len(by[Generation.SECONDARY]), len(app.contacts_to_locate(case.id)),
                        sum(1 for c in case.contacts.values() if c.proposal is not None))


def run(app: GridcoreApp, clock: ScenarioClock) -> None:
    rng = random.Random(2020)
    sweep(app, clock, rng)
    referrals(app, clock)
    requests(app, clock)
    tracing(app, clock)
    deliveries(app, clock, rng)
    demo_screening.assistance(app, clock)
    demo_screening.testing(app, clock)
    finale(app, clock)


ZONES_NOTICE_REF = "712-公告-20200229-三区划分"
ZONES_NOTICE = ("【712社区公告】根据区防控指挥部通报，本社区部分楼栋已划为封控区、管控区，"
                "其余为防范区。封控区居民足不出户，生活物资由志愿者送货上门；管控区居民非必要不出小区。"
                "如有就医、买药等需求，请在群内留言或拨打社区服务电话，我们会第一时间回应。")


def finale(app: GridcoreApp, clock: ScenarioClock) -> None:
    """The story's last days: health monitoring (28-29 Feb), then the three risk zones around
    the testing round's case."""
    demo_monitoring.run(app, clock)
    demo_geography.draw_zones(app, demo_screening.testing_story(app).case_no,
                              demo_screening.DISTRICT_OFFICIAL)
    # 公告: the residents are told (their chat groups, a text, or their worker's call), and
    # the public page /public/<community> shows it
    app.post_notice(COMMUNITY, ZONES_NOTICE, reference=ZONES_NOTICE_REF,
                    by=app.staff_by_no("712-DIR").id)


def story(app: GridcoreApp) -> Story:
    campaign = app.campaign_of(COMMUNITY, 1)
    summary = campaign.summary
    assert summary is not None
    refs: dict[str, int] = {}
    residents = [r for g in app.micro_grids(COMMUNITY) for h in g.households
                 for r in app.household(h).residents]
    for rid in residents:
        for r in app.referrals_of(rid):
            key = f"{r.kind.label} · {r.state.value}"
            refs[key] = refs.get(key, 0) + 1
    states: dict[str, int] = {}
    households = [app.household(h) for g in app.micro_grids(COMMUNITY) for h in g.households]
    for h in households:
        d = app.delivery(delivery_id(DeliveryKind.DONATION, f"AXC-0222/{h.household_no}"))
        states[d.state.value] = states.get(d.state.value, 0) + 1
    stats = app.request_statistics(COMMUNITY)
    return Story(summary.households, summary.covered, summary.by_method, summary.fevers,
                 summary.close_contacts, summary.arrivals, refs,
                 app.quarantine_site_by_code(SITE).occupancy, states,
                 {k.value: v for k, v in stats.by_status.items()}, stats.escalated,
                 tracing_story(app), demo_screening.assistance_story(app),
                 demo_screening.testing_story(app))
