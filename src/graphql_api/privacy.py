"""Personal fields: masked unless the caller's role may see them, and every unmasked read
written to an audit log.

The audit log is an append-only JSON-lines file (``ApiSettings.audit_file``, default
``./var/api-audit.jsonl``): one line per unmasked value served, with the time, the reader's
staff id and role, the field (a key of ``SEES``: ``StaffMember.phone``, ``Resident.phone``,
``Resident.idNumber``, ``Resident.name``, ``Household.householdNo``, ``Household.buildingNo``,
``Household.address``, ``Request.text``, ``Request.reply``, ``Referral.refusedReason``,
``ChatReview.sender``, ``ChatReview.text``, ``ChatReview.reason``, ``TracedPerson.name``,
``TracedPerson.phone``, ``TracedPerson.idNumber``, ``TracedPerson.address``,
``ListedPerson.name``, ``ListedPerson.phone``, ``ListedPerson.idNumber``,
``ListedPerson.address``, ``ListedPerson.reason``, ``ListedPerson.note``,
``MonitoringReport.reading``, whichever object it
was reached through) and the id of the person, household, request, referral, held chat
message, traced person or listed person (an assistance list's item) it belongs to.
No personal value is ever written to it. A value that was masked is not logged (nothing
personal was disclosed), nor is an erased one (it reads as ``已删除 erased``).

``SEES`` is the one table of which roles see which personal field whole; the roles are chosen
by the work each does (the authority table's role sets, ``gridcore.authority``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import orjson

from graphql_api.auth import Caller
from gridcore.authority import (
    CHAT_REVIEWERS,
    COURIERS,
    REGISTRARS,
    REQUEST_HANDLERS,
    TRACERS,
    TRANSFER,
    VISITORS,
)
from gridcore.identity import IdNumber, Phone, mask_id_number, mask_name, mask_phone
from gridcore.staff import ERASED_LABEL, Role

PHONE_ROLES = frozenset({Role.OFFICIAL, Role.DUTY_LEAD, Role.GRID_WORKER, Role.FAMILY_DOCTOR,
                         Role.COMMUNITY_POLICE})
"""Roles that call people as part of their work and may see whole phone numbers; volunteers,
party members, property managers and enterprise specialists see them masked
(``138****1234``)."""

ID_NUMBER_ROLES = frozenset({Role.OFFICIAL, Role.COMMUNITY_POLICE, Role.FAMILY_DOCTOR})
"""Roles that may see whole resident ID numbers (身份证号); everyone else sees them masked
(``420102********1234``)."""

NAME_ROLES = PHONE_ROLES
"""Roles that deal with a resident as a person (call them, account for them in the
register, persuade and transport them, treat them) and may see whole names (姓名);
volunteers, party members and property managers deliver to a door and enterprise
specialists work with enterprises: they see ``张*``."""

PLACE_ROLES = VISITORS | COURIERS | TRANSFER | REGISTRARS
"""Roles sent to a household's door, who may see where it is (户号 household number, 楼栋
building, 门牌 address): whoever sweeps it (grid workers, party members, volunteers, doctors,
police, officials), delivers to it (also property managers and the duty lead), takes a
referral through transport or keeps the register. Enterprise specialists (their work is
enterprises) see ``****``."""

REQUEST_ROLES = REQUEST_HANDLERS
"""Roles that file, classify and resolve residents' requests and may read what was asked and
the reply (field staff, police, officials, the duty lead, property managers); family doctors
and enterprise specialists see ``****``."""

CHAT_ROLES = CHAT_REVIEWERS
"""Roles that read the chat messages held for review (待核实: who sent them, what they said,
why they were not understood) and resolve them (``resolveChatMessage``): those who deal with
residents in person and follow a report up (grid workers, doctors, police, officials, the
duty lead); others see ``张*`` and ``****``."""

TRACED_ROLES = TRACERS
"""Roles that trace contacts (流调: family doctors, community police, officials) and may see
what is known of a traced person outside the register (name, phone, ID number, address)
whole; everyone else sees ``张*``, ``138****1234``, a masked ID number and ``****``. Once
matched, a contact is a resident and reads as one (``Resident.*``)."""

LOCATOR_ROLES = frozenset({Role.GRID_WORKER, Role.COMMUNITY_POLICE, Role.OFFICIAL})
"""Roles that locate the persons of an assistance list on the ground (协查落地排查: grid
workers, community police, officials) and may see what the list says of a person whole: the
name, phone, address, why they are listed and the community's note; others see ``张*``,
``138****1234`` and ``****``. A listed person's ID number is seen whole by the roles that see
residents' (``ID_NUMBER_ROLES``)."""

HEALTH_READING_ROLES = frozenset({Role.FAMILY_DOCTOR, Role.OFFICIAL})
"""Roles that may see a monitored resident's readings (健康监测: temperatures, symptoms and
why a reading is abnormal), health details: the medical role and the officials of the
jurisdiction; everyone else sees only that a reading was abnormal (the reading is null)."""

HIDDEN = "****"
"""How a masked place or text reads (its length is not shown either)."""


def mask_hidden(value: str) -> str:
    return HIDDEN


SEES: Mapping[str, frozenset[Role]] = {
    "StaffMember.phone": PHONE_ROLES,
    "Resident.phone": PHONE_ROLES,
    "Resident.idNumber": ID_NUMBER_ROLES,
    "Resident.name": NAME_ROLES,
    "Household.householdNo": PLACE_ROLES,
    "Household.buildingNo": PLACE_ROLES,
    "Household.address": PLACE_ROLES,
    "Request.text": REQUEST_ROLES,
    "Request.reply": REQUEST_ROLES,
    "Referral.refusedReason": NAME_ROLES,
    "ChatReview.sender": CHAT_ROLES,
    "ChatReview.text": CHAT_ROLES,
    "ChatReview.reason": CHAT_ROLES,
    "TracedPerson.name": TRACED_ROLES,
    "TracedPerson.phone": TRACED_ROLES,
    "TracedPerson.idNumber": TRACED_ROLES,
    "TracedPerson.address": TRACED_ROLES,
    "ListedPerson.name": LOCATOR_ROLES,
    "ListedPerson.phone": LOCATOR_ROLES,
    "ListedPerson.idNumber": ID_NUMBER_ROLES,
    "ListedPerson.address": LOCATOR_ROLES,
    "ListedPerson.reason": LOCATOR_ROLES,
    "ListedPerson.note": LOCATOR_ROLES,
    "MonitoringReport.reading": HEALTH_READING_ROLES,
}
"""Every personal field the API serves -> the roles that see it whole (and audited); every
other role sees it masked (``MASKS``), a caller outside the jurisdiction does not reach it."""

MASKS: Mapping[str, Callable[[str], str]] = {
    "StaffMember.phone": mask_phone, "Resident.phone": mask_phone,
    "Resident.idNumber": mask_id_number, "Resident.name": mask_name,
    "Household.householdNo": mask_hidden, "Household.buildingNo": mask_hidden,
    "Household.address": mask_hidden, "Request.text": mask_hidden,
    "Request.reply": mask_hidden, "Referral.refusedReason": mask_hidden,
    "ChatReview.sender": mask_name, "ChatReview.text": mask_hidden,
    "ChatReview.reason": mask_hidden, "TracedPerson.name": mask_name,
    "TracedPerson.phone": mask_phone, "TracedPerson.idNumber": mask_id_number,
    "TracedPerson.address": mask_hidden, "ListedPerson.name": mask_name,
    "ListedPerson.phone": mask_phone, "ListedPerson.idNumber": mask_id_number,
    "ListedPerson.address": mask_hidden, "ListedPerson.reason": mask_hidden,
    "ListedPerson.note": mask_hidden, "MonitoringReport.reading": mask_hidden,
}

_lock = threading.Lock()


def may_see(caller: Caller | None, field: str) -> bool:
    """Whether ``caller``'s role sees ``field`` (a key of ``SEES``) whole."""
    return caller is not None and caller.role in SEES[field]


def may_see_phone(caller: Caller | None) -> bool:
    return may_see(caller, "Resident.phone")


class AuditLog:
    """Appends one JSON line per unmasked read to ``path`` (created on first use, mode 600)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def record(self, caller: Caller, field: str, subject: str, count: int | None = None) -> None:
        """One unmasked read of ``field`` of ``subject``; ``count``: the reads one line stands
        for (a line list's column, written once for every row exported)."""
        entry: dict[str, object] = {"at": datetime.now(UTC).isoformat(),
                                    "reader": str(caller.staff_id), "role": caller.role.value,
                                    "field": field, "subject": subject}
        if count is not None:
            entry["count"] = count
        line = orjson.dumps(entry)
        with _lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line + b"\n")
            finally:
                os.close(fd)

    def entries(self) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        return [orjson.loads(line) for line in self.path.read_bytes().splitlines() if line]


def id_number_for(caller: Caller | None, audit: AuditLog, value: IdNumber | str | None,
                  field: str, subject: str) -> str | None:
    """The ID number as the caller may see it: whole (and audited) or masked."""
    if value is None:
        return None
    whole = value.reveal() if isinstance(value, IdNumber) else str.__str__(value)
    if caller is None or not may_see(caller, field):
        return mask_id_number(whole)
    audit.record(caller, field, subject)
    return whole


def phone_for(caller: Caller | None, audit: AuditLog, phone: Phone | str | None, field: str,
              subject: str) -> str | None:
    """The phone as the caller may see it: whole (and audited) or masked."""
    if phone is None:
        return None
    whole = phone.reveal() if isinstance(phone, Phone) else str.__str__(phone)
    if caller is None or not may_see(caller, field):
        return mask_phone(whole)
    audit.record(caller, field, subject)
    return whole


def personal_for(caller: Caller | None, audit: AuditLog, value: str | None, field: str,
                 subject: str, erased: bool = False) -> str | None:
    """A personal value (``field``, a key of ``SEES``) as the caller may see it: whole (and
    audited) for the roles ``SEES`` names, masked (``MASKS``) for others; ``已删除 erased``
    once its subject's key was destroyed (nothing disclosed, nothing logged); None when there
    is none."""
    if erased:
        return ERASED_LABEL
    if value is None:
        return None
    whole = value.reveal() if isinstance(value, Phone | IdNumber) else str.__str__(value)
    if not may_see(caller, field):
        return MASKS[field](whole)
    assert caller is not None
    audit.record(caller, field, subject)
    return whole
