"""The 712 community's health monitoring (健康监测) of its residents under measures, after
the screening of ``demo_screening``.

Days 11-12 (28-29 Feb 2020): everyone under home observation or quarantine reports at the
policy's times (08:00 and 20:00) through the zone's chat group (群内自报, normal
temperatures); those the register says cannot report themselves (65+, living alone: assisted)
get a call from their zone's grid worker instead, who records it (电话随访); those in
centralized quarantine are reported by the site through the family doctor (隔离点上报). One
resident misses the evening report of 28 Feb: the tick flags it and escalates it while they
stay silent. One reports 37.8 °C that evening: the reading is abnormal, so the findings path
makes them symptomatic and refers them to a fever clinic (发热门诊). Those whose period ended
are on the release list (解除名单).

Every command carries a client id and every choice is made from what does not change once
the monitoring started (the resident, the household number), so running the demo again
applies nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from adapters.demo import COMMUNITY, ScenarioClock
from adapters.demo_screening import at_day
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.monitoring import AssistMethod, Monitoring, ReportSource
from gridcore.referral import ReferralKind, ReferralState
from gridcore.status import Health, Measure

FIRST_DAY = 11
"""28 Feb 2020; the reports of 28 Feb (morning, evening) and 29 Feb (morning)."""
SLOTS = ((FIRST_DAY, 8), (FIRST_DAY, 20), (FIRST_DAY + 1, 8))
MISSED_SLOT = SLOTS[1]
FEVER_SLOT = SLOTS[1]
FEVER = 37.8
HOME = (Measure.HOME_OBSERVATION, Measure.HOME_QUARANTINE)


def cid(what: str) -> str:
    return f"demo712:monitoring:{what}"


@dataclass(frozen=True)
class Cast:
    """Who reports how: residents reporting by chat, those called by their worker, those in
    centralized quarantine; the one who misses the evening report, the one with a fever."""

    chat: list[Monitoring]
    called: list[Monitoring]
    site: list[Monitoring]
    silent: UUID
    feverish: UUID


def cast(app: GridcoreApp) -> Cast:
    def key(m: Monitoring) -> tuple[str, str]:
        return app.household(m.household_id).household_no, str(m.resident_id)

    ms = sorted(app.monitored(COMMUNITY), key=key)
    home = [m for m in ms if m.measure in HOME]
    chat = [m for m in home if m.assist_method is None]
    called = [m for m in home if m.assist_method is not None]
    site = [m for m in ms if m.measure not in HOME]
    well = [m.resident_id for m in chat
            if app.household(m.household_id).residents[m.resident_id].health
            is not Health.CONFIRMED]  # stable: the fever makes the other symptomatic
    return Cast(chat, called, site, well[0], well[1])


def run(app: GridcoreApp, clock: ScenarioClock) -> None:
    c = cast(app)
    doctor = app.staff_by_no("712-DOC").id
    clock.at(FIRST_DAY, 7)
    for m in c.called:  # the worker calls rather than visits while the community is sealed
        worker = app.node(app.household(m.household_id).micro_grid).responsible_worker or doctor
        app.assist_monitored_resident(
            m.household_id, m.resident_id, AssistMethod.PHONE,
            "封闭管理期间电话随访 calls while the community is sealed", by=worker,
            client_id=cid(f"assist:{m.resident_id}"))
    for day, hour in SLOTS:
        for n, m in enumerate(c.chat):
            if (day, hour) == MISSED_SLOT and m.resident_id == c.silent:
                continue
            if m.resident_id == c.silent and (day, hour) > MISSED_SLOT:
                continue  # not heard from since
            clock.at(day, hour - 1, 30 + n % 30)
            fever = (day, hour) == FEVER_SLOT and m.resident_id == c.feverish
            app.record_monitoring_report(
                m.household_id, m.resident_id, ReportSource.RESIDENT_CHAT, by=System.FEED,
                temperature=FEVER if fever else 36.4 + (n % 5) / 10,
                client_id=cid(f"chat:{m.resident_id}:{day}:{hour}"))
        for n, m in enumerate(c.called):
            clock.at(day, hour, 10 + n)
            worker = (app.node(app.household(m.household_id).micro_grid).responsible_worker
                      or doctor)
            app.record_monitoring_report(
                m.household_id, m.resident_id, ReportSource.STAFF_PHONE, by=worker,
                temperature=36.5, client_id=cid(f"call:{m.resident_id}:{day}:{hour}"))
        for n, m in enumerate(c.site):
            clock.at(day, hour, 40 + n)
            app.record_monitoring_report(
                m.household_id, m.resident_id, ReportSource.SITE_STAFF, by=doctor,
                temperature=36.6, client_id=cid(f"site:{m.resident_id}:{day}:{hour}"))
        if (day, hour) != SLOTS[-1]:
            app.tick(clock.at(day, hour + 3))
    clock.at(SLOTS[-1][0], SLOTS[-1][1] + 1)
    police = app.staff_by_no("712-POL").id
    for r in app.referrals_of(c.feverish):  # the fever clinic's car takes them there
        if r.kind is ReferralKind.FEVER_CLINIC and r.state is ReferralState.OPENED:
            app.accept_referral(r.id, police, 10, "同意前往发热门诊",
                                client_id=cid(f"referral-{r.id}-accept"))
            app.dispatch_transport(r.id, police, "120转运车", "社区民警陪同",
                                   client_id=cid(f"referral-{r.id}-transport"))
    app.tick(clock.at(SLOTS[-1][0], SLOTS[-1][1] + 1, 30))  # before the morning's deadline


@dataclass
class MonitoringStory:
    """What the monitoring showed at the story's end, from the library's queries."""

    monitored: int
    reports: int
    called: int
    missed: int
    missed_owner: str
    abnormal: int
    referred: str
    """the state of the feverish resident's fever-clinic referral ('' when none)"""
    release: int


def story(app: GridcoreApp) -> MonitoringStory:
    c = cast(app)
    ms = app.monitored(COMMUNITY)
    since = at_day(FIRST_DAY, 0)
    reports = sum(1 for m in ms for r in m.reports if r.taken_at >= since)
    missed = app.monitoring_missed(COMMUNITY, open_only=True)
    abnormal = [a for a in app.monitoring_abnormal(COMMUNITY) if a.taken_at >= since]
    referred = next((r.state.value for r in app.referrals_of(c.feverish)
                     if r.kind is ReferralKind.FEVER_CLINIC), "")
    return MonitoringStory(len(ms), reports, len(c.called), len(missed),
                           ", ".join(sorted({f"{x.owner_code} {x.level.label}"
                                             for x in missed})),
                           len(abnormal), referred, len(app.monitoring_release_list(COMMUNITY)))
