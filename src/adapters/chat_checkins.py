"""Chat check-ins (群内自报) recorded as sweep visits.

A report from a micro-grid's chat group is parsed (``adapters.checkin``), its household found
by address inside the sender's micro-grid, and recorded through the application's public API as
a visit by the chat method. A report that cannot be read, or whose address matches no household
(or several), or whose fever or symptom cannot be matched to a registered member
(``attribute``), is refused with what was wrong; nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from adapters.checkin import CheckIn, Finding, normalize_address, parse_check_in
from adapters.gazetteer import Division, resolve
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.authority import Actor
from gridcore.chat_review import chat_client_id, chat_monitoring_client_id
from gridcore.errors import InvalidInput, NotFound
from gridcore.household import Household
from gridcore.monitoring import ReportSource
from gridcore.risk import RiskPeriod, place_in_area
from gridcore.sweep import Arrival, Outcome, Visitor

SELF = ("我", "本人")


class UnattributedFinding(InvalidInput):
    """A fever or symptom reported by chat that no registered member can safely be named for
    (``attribute``): recording it would lose it, so it is refused and the intake holds the
    message for the worker (``adapters.chat_intake.unattributed_reason`` quotes whom the report
    names). The message repeats no name."""

    code = "CHECK_IN_UNATTRIBUTED"

    def __init__(self, findings: tuple[Finding, ...], members: int, monitored: int = 0):
        fever = any("发热" in f.symptoms for f in findings)
        abnormal = any(f.abnormal for f in findings)
        what = "fever" if fever else "symptom" if abnormal else \
            "reading" if findings else "report"
        whose = (f"of whom {monitored} are under health monitoring, " if monitored > 1
                 else "")
        super().__init__(f"A {what} is reported in a household of {members} {whose}and "
                         "cannot be matched to a registered member.",
                         "Call the household, record the visit with recordVisit (or the "
                         "monitoring report with recordMonitoringReport) naming who it is "
                         "about, then mark the message recorded by hand (resolveChatMessage).")
        self.findings, self.members, self.fever = findings, members, fever
        self.abnormal, self.monitored = abnormal, monitored


@dataclass(frozen=True)
class Attribution:
    """The members a report's findings are about (``attribute``): their readings and
    symptoms, and the findings to follow up that no member could safely be named for."""

    temperatures: dict[UUID, float]
    symptoms: dict[UUID, list[str]]
    unattributed: tuple[Finding, ...]


def whom(f: Finding, names: Mapping[UUID, str | None], sender_name: str | None) -> UUID | None:
    """The registered member a finding is about, or None when it cannot be said safely: the one
    member whose registered name is written (张三发热), even in a household of one (a name that
    is not theirs may be a guest's); the sender when the report says 我 or 本人 (the chat's
    display name equal to one member's name); the only member of a household of one (发烧37.9,
    老伴咳嗽). A relation word (老公, 女儿, 老人) names no one: the register records no
    relations, so it is never guessed."""
    alone = next(iter(names)) if len(names) == 1 else None
    if f.named:
        found = [rid for rid, name in names.items() if name == f.who]
        return found[0] if len(found) == 1 else None
    if f.who in SELF and sender_name and alone is None:
        found = [rid for rid, name in names.items() if name == sender_name]
        return found[0] if len(found) == 1 else None
    return alone


def attribute(ci: CheckIn, names: Mapping[UUID, str | None],
              sender_name: str | None, monitored: Collection[UUID] = ()) -> Attribution:
    """Each finding of a report given to the member it is about (``whom``), in a household
    whose members are ``names`` (resident id → registered name, None when erased or sealed).
    A finding with neither fever nor symptom that names no one (体温36.5 of a household of
    three) is only the household's reading; one to follow up is ``unattributed``.

    ``monitored``: the members under health monitoring (健康监测). A finding that names
    nobody (体温37.9, 36.5) is the only monitored member's; in a household with several, it
    is ``unattributed`` even when normal (whose daily report it is must be said)."""
    temperatures: dict[UUID, float] = {}
    symptoms: dict[UUID, list[str]] = {}
    lost = []
    for f in ci.findings:
        rid = whom(f, names, sender_name)
        if rid is None and f.who is None and len(monitored) == 1:
            rid = next(iter(monitored))
        if rid is None:
            lost.extend([f] if f.abnormal or (f.who is None and len(monitored) > 1) else [])
            continue
        if f.temperature is not None:
            temperatures[rid] = max(f.temperature, temperatures.get(rid, f.temperature))
        if f.symptoms:
            symptoms[rid] = list(dict.fromkeys([*symptoms.get(rid, []), *f.symptoms]))
    return Attribution(temperatures, symptoms, tuple(lost))


@dataclass(frozen=True)
class RecordedCheckIn:
    household_id: UUID
    check_in: CheckIn
    covered: bool
    notification_id: int | None


def find_household(app: GridcoreApp, micro_grid: str, address: str) -> Household:
    """The one household of ``micro_grid`` whose address reads the same as ``address``."""
    wanted = normalize_address(address)
    found = [h for hid in app.node(micro_grid).households
             if normalize_address((h := app.household(hid)).address.text or "") == wanted]
    if not found:
        raise NotFound(f"No household of micro-grid {micro_grid} has the reported address.",
                       "Check the door number, or ask the grid worker to register the household.")
    if len(found) > 1:
        raise InvalidInput(f"{len(found)} households of {micro_grid} share the reported address.",
                           "Give the unit and room number (e.g. 3栋2单元501).")
    return found[0]


def record_check_in(app: GridcoreApp, campaign: UUID, micro_grid: str, text: str,
                    sender: Actor, message_id: str | None = None) -> RecordedCheckIn:
    """Parse a chat report and record it as a chat visit of its household, given by
    ``sender``: the staff member who forwards it, or the chat group's relay run by the
    installation (``System.OPERATOR``), which records no staff member.

    Every member counts as accounted for when the report names at least as many people as are
    registered; a lower count is recorded but leaves the household open. A fever or symptom
    goes to the member it is about (``attribute``); one that cannot be matched to a member is
    refused (``UnattributedFinding``). ``message_id`` (the chat message's id) makes a
    re-delivered message count once."""
    ci = parse_check_in(text)
    h = find_household(app, micro_grid, ci.address)
    return record_parsed(app, campaign, micro_grid, ci, h, sender, message_id)


def _is_risk_area(origin: str, division: Division | None,
                  periods: Mapping[str, list[RiskPeriod]], at: datetime) -> bool:
    """Whether an origin (黄冈, read as 湖北省黄冈市) lies in an area declared at risk at ``at``
    (``gridcore.risk.place_in_area``); an origin read without the gazetteer is looked up."""
    place = division or resolve(origin)
    return place is not None and any(
        place_in_area(place, area) and any(p.covers(at) for p in spans)
        for area, spans in periods.items())


def _member(h: Household, who: str | None, sender_name: str | None) -> UUID | None:
    """The member an arrival is about: the only one; or the one named (张三从黄冈回来了);
    or the sender themself when no one is named (or 我)."""
    if len(h.residents) == 1:
        return next(iter(h.residents))
    name = sender_name if who in (None, "我", "本人") else who
    found = [rid for rid, r in h.residents.items() if name and r.identity.name == name]
    return found[0] if len(found) == 1 else None


def _arrivals(app: GridcoreApp, ci: CheckIn, h: Household, sent_at: datetime | None,
              sender_name: str | None) -> tuple[list[Arrival], list[Visitor], list[str]]:
    """A told arrival (今天女儿从黄冈回来了) from a declared risk area, of a member named or
    the only one: an ``Arrival`` (tagged and placed under home observation by the findings);
    of a member not identified: kept as a visitor for the worker; from elsewhere: a note."""
    when = sent_at or app.clock()
    periods = app.risk_periods()
    arrivals, visitors, notes = [], [], []
    for a in ci.arrivals:
        day = when.date() - timedelta(days=a.days_ago)
        if not _is_risk_area(a.origin, a.division, periods, when - timedelta(days=a.days_ago)):
            notes.append(f"来返 back from {a.origin} (not a declared risk area)")
        elif (rid := _member(h, a.who, sender_name)) is not None:
            arrivals.append(Arrival(resident_id=rid, origin=a.origin, arrived_on=day))
        else:
            visitors.append(Visitor(origin=a.origin,
                                    note="来返 a member back from a risk area, not identified: "
                                         "please check (请核实)"))
    return arrivals, visitors, notes


def record_parsed(app: GridcoreApp, campaign: UUID, micro_grid: str, ci: CheckIn,
                  h: Household, sender: Actor, message_id: str | None = None,
                  sent_at: datetime | None = None,
                  sender_name: str | None = None,
                  monitored: Collection[UUID] = ()) -> RecordedCheckIn:
    """Record a report already read (``record_check_in``) of household ``h``, as of
    ``sent_at`` when the chat says when it was sent; ``sender_name`` (the chat's display
    name) is the member an arrival is about when the report names nobody, and the member a
    fever or symptom said of 我 is about.

    A fever or symptom is recorded for the member it is about, so it has exactly the follow-up
    of the same finding on a visit (symptomatic and a fever-clinic referral). One that cannot
    be matched to a member (发烧37.9 or 老公发烧 in a household of three) raises
    ``UnattributedFinding`` and writes nothing: no visit, so the household's coverage does not
    count the report either; the intake holds the message and the worker, having called,
    records the visit themself. Who has it must never be lost behind a covered household.
    ``monitored``: the members under health monitoring (``attribute``)."""
    members = list(h.residents)
    found = attribute(ci, {rid: r.identity.name for rid, r in h.residents.items()},
                      sender_name, monitored)
    if found.unattributed:
        raise UnattributedFinding(found.unattributed, len(members), len(monitored))
    everyone = ci.members >= len(members)
    arrivals, returned, notes = _arrivals(app, ci, h, sent_at, sender_name)
    remarks = [f"备注 remark: {r}" for r in ci.remarks]
    details: dict[str, object] = {
        "reported_members": ci.members,
        "accounted": members if everyone else [],
        # where visitors came from is the finding; their names are not kept
        "visitors": [Visitor(origin=v.origin) for v in ci.visitors] + returned,
        "arrivals": arrivals,
        "note": "；".join(["群内自报 chat self-report", *notes, *remarks]),
    }
    if ci.temperature is not None:
        details["household_temperature"] = ci.temperature
    details["temperatures"], details["symptoms"] = found.temperatures, found.symptoms
    client_id = None if message_id is None else chat_client_id(micro_grid, message_id)
    nid = app.record_visit(campaign, h.id, Method.CHAT, Outcome.SEEN, by=sender,
                           client_id=client_id, visited_at=sent_at, **details)
    return RecordedCheckIn(h.id, ci, everyone, nid)


# ---- health monitoring (健康监测) ---------------------------------------------------------------

def monitored_members(app: GridcoreApp, h: Household) -> list[UUID]:
    """The members of ``h`` under health monitoring now (``gridcore.monitoring``)."""
    return [rid for rid in h.residents
            if (m := app.monitoring_of(rid)) is not None and m.active
            and m.household_id == h.id]


@dataclass(frozen=True)
class Reading:
    """What a chat report says of one monitored member: their daily monitoring report."""

    resident_id: UUID
    temperature: float | None
    symptoms: tuple[str, ...]


def monitoring_readings(ci: CheckIn, h: Household, monitored: Collection[UUID],
                        sender_name: str | None) -> list[Reading]:
    """The monitoring reports a chat report makes for the members of ``h`` under monitoring
    (``monitored``): each one's temperature and symptoms as ``attribute`` gives them; a plain
    平安/正常 naming nobody (no finding) is the only monitored member's report (no reading).
    Raises ``UnattributedFinding`` when whose it is cannot be said: an abnormal finding of no
    one, a reading naming nobody or a plain 平安 in a household with several monitored."""
    if not monitored:
        return []
    found = attribute(ci, {rid: r.identity.name for rid, r in h.residents.items()},
                      sender_name, monitored)
    if found.unattributed:
        raise UnattributedFinding(found.unattributed, len(h.residents), len(monitored))
    out = [Reading(rid, found.temperatures.get(rid), tuple(found.symptoms.get(rid, [])))
           for rid in monitored if rid in found.temperatures or rid in found.symptoms]
    if not ci.findings:
        if len(monitored) > 1:
            raise UnattributedFinding((), len(h.residents), len(monitored))
        out = [Reading(next(iter(monitored)), None, ())]
    return out


def record_readings(app: GridcoreApp, micro_grid: str, message_id: str, h: Household,
                    readings: list[Reading], sent_at: datetime, sender: Actor) -> int:
    """Record each reading as the member's monitoring report by chat (taken when the message
    was sent); an abnormal one is followed up by ``record_monitoring_report``. Each carries a
    client id derived from the message and the member: the same message again records
    nothing. Returns how many were recorded."""
    for r in readings:
        app.record_monitoring_report(
            h.id, r.resident_id, ReportSource.RESIDENT_CHAT, temperature=r.temperature,
            symptoms=r.symptoms, taken_at=sent_at, by=sender,
            client_id=chat_monitoring_client_id(micro_grid, message_id, r.resident_id))
    return len(readings)
