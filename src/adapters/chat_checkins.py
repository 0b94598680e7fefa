"""Chat check-ins (群内自报) recorded as sweep visits.

A report from a micro-grid's chat group is parsed (``adapters.checkin``), its household found
by address inside the sender's micro-grid, and recorded through the application's public API as
a visit by the chat method. A report that cannot be read, or whose address matches no household
(or several), is refused with what was wrong; nothing is guessed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

from adapters.checkin import CheckIn, Status, normalize_address, parse_check_in
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.errors import InvalidInput, NotFound
from gridcore.household import Household
from gridcore.sweep import Outcome, Visitor


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
                    sender: UUID | None = None, message_id: str | None = None
                    ) -> RecordedCheckIn:
    """Parse a chat report and record it as a chat visit of its household.

    Every member counts as accounted for when the report names at least as many people as are
    registered; a lower count is recorded but leaves the household open. A fever is attributed
    to a member only when the household has one member. ``message_id`` (the chat message's
    id) makes a re-delivered message count once."""
    ci = parse_check_in(text)
    h = find_household(app, micro_grid, ci.address)
    members = list(h.residents)
    everyone = ci.members >= len(members)
    details: dict[str, object] = {
        "reported_members": ci.members,
        "accounted": members if everyone else [],
        # where visitors came from is the finding; their names are not kept
        "visitors": [Visitor(origin=v.origin) for v in ci.visitors],
        "note": "群内自报 chat self-report",
    }
    if ci.temperature is not None:
        details["household_temperature"] = ci.temperature
        if len(members) == 1:
            details["temperatures"] = {members[0]: ci.temperature}
    if ci.status is not Status.NORMAL and len(members) == 1:
        details["symptoms"] = {members[0]: list(ci.symptoms) or [ci.status.label]}
    client_id = None
    if message_id is not None:
        client_id = "chat:" + hashlib.sha256(f"{micro_grid}/{message_id}".encode()).hexdigest()
    nid = app.record_visit(campaign, h.id, Method.CHAT, Outcome.SEEN, by=sender,
                           client_id=client_id, **details)
    return RecordedCheckIn(h.id, ci, everyone, nid)
