"""Chat check-ins (群内自报) recorded as sweep visits.

A report from a micro-grid's chat group is parsed (``adapters.checkin``), its household found
by address inside the sender's micro-grid, and recorded through the application's public API as
a visit by the chat method. A report that cannot be read, or whose address matches no household
(or several), is refused with what was wrong; nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from adapters.checkin import CheckIn, Status, normalize_address, parse_check_in
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.authority import Actor
from gridcore.chat_review import chat_client_id
from gridcore.errors import InvalidInput, NotFound
from gridcore.household import Household
from gridcore.risk import RiskPeriod, touches
from gridcore.sweep import Arrival, Outcome, Visitor


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
    registered; a lower count is recorded but leaves the household open. A fever is attributed
    to a member only when the household has one member. ``message_id`` (the chat message's
    id) makes a re-delivered message count once."""
    ci = parse_check_in(text)
    h = find_household(app, micro_grid, ci.address)
    return record_parsed(app, campaign, micro_grid, ci, h, sender, message_id)


def _is_risk_area(origin: str, periods: Mapping[str, list[RiskPeriod]], at: datetime) -> bool:
    """Whether ``origin`` (黄冈, 武汉市) lies in an area declared at risk at ``at``."""
    def bare(place: str) -> str:
        return re.sub(r"[省市区县]$", "", place)
    return any((touches(origin, area) or touches(bare(origin), bare(area)))
               and any(p.covers(at) for p in spans) for area, spans in periods.items())


def _member(h: Household, who: str | None, sender_name: str | None) -> UUID | None:
    """The member an arrival is about: the only one; or the one named (张三从黄冈回来了);
    or the sender themself when no one is named."""
    if len(h.residents) == 1:
        return next(iter(h.residents))
    name = who or sender_name
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
        if not _is_risk_area(a.origin, periods, when - timedelta(days=a.days_ago)):
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
                  sender_name: str | None = None) -> RecordedCheckIn:
    """Record a report already read (``record_check_in``) of household ``h``, as of
    ``sent_at`` when the chat says when it was sent; ``sender_name`` (the chat's display
    name) is the member an arrival is about when the report names nobody."""
    members = list(h.residents)
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
        if len(members) == 1:
            details["temperatures"] = {members[0]: ci.temperature}
    if ci.status is not Status.NORMAL and len(members) == 1:
        details["symptoms"] = {members[0]: list(ci.symptoms) or [ci.status.label]}
    client_id = None if message_id is None else chat_client_id(micro_grid, message_id)
    nid = app.record_visit(campaign, h.id, Method.CHAT, Outcome.SEEN, by=sender,
                           client_id=client_id, visited_at=sent_at, **details)
    return RecordedCheckIn(h.id, ci, everyone, nid)
