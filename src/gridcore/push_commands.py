"""Inbound pushes: a register pushed by another system (接口推送), applied once per sender id.

Each pushed household carries the sender's own id for it (``sender_id``). It is registered
under the client id ``push:{sender}:{sender_id}`` (``push_client_id``), so the client command
record saved with it marks that the sender's household was applied: the same push again
writes nothing. A row whose sender id was applied before is compared with the register as it
stands: the same content answers ``unchanged``; different content answers ``conflict`` with
the names of the fields that differ (never their values) and is not applied — a sender's
change is a register change for the staff (moveHousehold, addMember...), not a silent
overwrite. The batch is checked whole first (every row well-formed, each sender id and
household number once, the caller allowed at every micro-grid): one bad row refuses it all,
naming the row, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from gridcore.app_base import HouseholdRow, command
from gridcore.authority import Actor, staff_of
from gridcore.errors import DuplicateCode, GridcoreError, InvalidInput
from gridcore.household import Household, Member, Resident, household_id
from gridcore.household_commands import HouseholdCommands
from gridcore.idempotency import ClientCommand, client_command_id

MAX_PUSH_ROWS = 5_000
"""Households per push: a larger register is pushed in several batches."""
MAX_SENDER = 60
MAX_SENDER_ID = 100


class PushOutcome(StrEnum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    REFUSED = "refused"


@dataclass
class PushedHousehold:
    """One row of a push: the sender's id for the household and the household as sent."""

    sender_id: str
    row: HouseholdRow


@dataclass
class PushRowResult:
    index: int
    """the row's place in the push, from 1"""
    sender_id: str
    outcome: PushOutcome
    household_id: UUID | None = None
    differs: list[str] = field(default_factory=list)
    """for a conflict: the fields that differ from the register (names only)"""
    reason: str | None = None
    """for a refused row: what was wrong and what would be right"""


@dataclass
class PushReport:
    rows: list[PushRowResult]
    notification_id: int | None = None

    def count(self, outcome: PushOutcome) -> int:
        return sum(1 for r in self.rows if r.outcome is outcome)


def push_client_id(sender: str, sender_id: str) -> str:
    """The client id a sender's household is registered under."""
    return f"push:{sender}:{sender_id}"


def check_sender(sender: str) -> str:
    s = sender.strip()
    if not 1 <= len(s) <= MAX_SENDER or ":" in s:
        raise InvalidInput(f"The sender must be 1-{MAX_SENDER} characters without ':'.",
                           "Name the sending system, e.g. 市大数据平台 or city-bigdata.")
    return s


def register_differences(stored: Household, sent: Household.Registered) -> list[str]:
    """The fields (API names) where the household as sent differs from the register."""
    out = []
    if stored.micro_grid != sent.micro_grid:
        out.append("microGrid")
    if stored.building_id != sent.building_id:
        out.append("buildingId")
    if stored.address.text != sent.address.text:
        out.append("address")
    if set(stored.residents) != {m.resident_id for m in sent.members}:
        return [*out, "members"]
    for n, m in enumerate(sent.members, start=1):
        out.extend(f"members[{n}].{name}" for name in _member_differences(
            stored.residents[m.resident_id], m))
    return out


def _member_differences(r: Resident, m: Member) -> list[str]:
    identity = r.identity
    names = []
    if identity.name != m.identity.name:
        names.append("name")
    if identity.phone != m.identity.phone:
        names.append("phone")
    if identity.id_number != m.identity.id_number:
        names.append("idNumber")
    if r.birth_year != m.birth_year:
        names.append("birthYear")
    if r.vulnerabilities != set(m.vulnerabilities):
        names.append("vulnerabilities")
    return names


class PushCommands(HouseholdCommands):

    @command
    def register_pushed_household(self, household_no: str, micro_grid: str, address: str,
                                  members: list[Member], building: UUID | None = None, *,
                                  by: Actor) -> int | None:
        """Register one household pushed by another system (its client id names the sender
        and the sender's id: ``push_client_id``)."""
        if self._find(Household, household_id(household_no)) is not None:
            raise DuplicateCode(f"Household {household_no} is already registered (not by "
                                "this sender id).",
                                "Push it under the sender id it was first pushed with, or "
                                "change it with moveHousehold/addMember.")
        report = self._register([HouseholdRow(household_no, micro_grid, address, members,
                                              building)], by=staff_of(by))
        return report.notification_id

    def push_households(self, sender: str, rows: Sequence[PushedHousehold], *,
                        by: Actor) -> PushReport:
        """Apply a pushed register: each row registered once per (sender, sender id), or
        answered unchanged, conflict (not applied) or refused (see the module)."""
        sender = check_sender(sender)
        self._check_push(rows, by)
        results = []
        for n, p in enumerate(rows, start=1):
            results.append(self._push_row(n, sender, p, by))
        return PushReport(results, self.recorder.max_notification_id())

    def _check_push(self, rows: Sequence[PushedHousehold], by: Actor) -> None:
        if not rows:
            raise InvalidInput("The push has no rows.", "Send at least one household.")
        if len(rows) > MAX_PUSH_ROWS:
            raise InvalidInput(f"A push of {len(rows)} households is too large.",
                               f"Push at most {MAX_PUSH_ROWS} per batch.")
        at = self.clock()
        ids: set[str] = set()
        numbers: set[str] = set()
        allowed: set[str] = set()
        for n, p in enumerate(rows, start=1):
            where = f"Row {n}"
            sid = p.sender_id.strip()
            if not 1 <= len(sid) <= MAX_SENDER_ID:
                raise InvalidInput(f"{where}: senderId must be 1-{MAX_SENDER_ID} characters.",
                                   "Give the sending system's own id of the household.")
            if sid in ids:
                raise InvalidInput(f"{where}: senderId {sid[:40]} appears twice in the push.",
                                   "List each household once.")
            ids.add(sid)
            r = p.row
            if r.household_no in numbers:
                raise InvalidInput(f"{where}: household {r.household_no} appears twice in the "
                                   "push.", "List each household once.")
            numbers.add(r.household_no)
            try:
                Household.registration(r.household_no, r.micro_grid, r.address, r.members, at,
                                       r.building_id)
                if r.micro_grid not in allowed:
                    self._authorise("register_pushed_household", by,
                                    {"micro_grid": r.micro_grid})
                    allowed.add(r.micro_grid)
            except GridcoreError as e:
                raise type(e)(f"{where}: {e.problem}", e.remedy) from None

    def _push_row(self, n: int, sender: str, p: PushedHousehold, by: Actor) -> PushRowResult:
        sid, r = p.sender_id.strip(), p.row
        cid = push_client_id(sender, sid)
        done = self._find(ClientCommand, client_command_id(cid))
        hid = household_id(r.household_no)
        if done is not None:
            if done.command != "register_pushed_household":
                return PushRowResult(n, sid, PushOutcome.REFUSED, reason=(
                    f"The client id {cid[:60]} was used for {done.command}. "
                    "Give the household another senderId."))
            stored = self._find(Household, hid)
            if stored is None:  # the sender's id was applied to another household number
                return PushRowResult(n, sid, PushOutcome.CONFLICT, differs=["householdNo"])
            sent = Household.registration(r.household_no, r.micro_grid, r.address, r.members,
                                          self.clock(), r.building_id)
            differs = register_differences(stored, sent)
            return PushRowResult(n, sid, PushOutcome.CONFLICT if differs
                                 else PushOutcome.UNCHANGED, hid, differs)
        try:
            self.register_pushed_household(r.household_no, r.micro_grid, r.address, r.members,
                                           r.building_id, by=by, client_id=cid)
        except GridcoreError as e:
            return PushRowResult(n, sid, PushOutcome.REFUSED, reason=str(e))
        return PushRowResult(n, sid, PushOutcome.CREATED, hid)
