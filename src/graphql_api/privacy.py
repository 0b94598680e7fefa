"""Personal fields: masked unless the caller's role may see them, and every unmasked read
written to an audit log.

The audit log is an append-only JSON-lines file (``ApiSettings.audit_file``, default
``./var/api-audit.jsonl``): one line per unmasked value served, with the time, the reader's
staff id and role, the field (``StaffMember.phone``, ``Resident.phone``,
``Resident.idNumber``) and the id of the person it belongs to.
No personal value is ever written to it. A value that was masked is not logged (nothing
personal was disclosed).
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

import orjson

from graphql_api.auth import Caller
from gridcore.identity import IdNumber, Phone, mask_id_number, mask_phone
from gridcore.staff import Role

PHONE_ROLES = frozenset({Role.OFFICIAL, Role.DUTY_LEAD, Role.GRID_WORKER, Role.FAMILY_DOCTOR,
                         Role.COMMUNITY_POLICE})
"""Roles that call people as part of their work and may see whole phone numbers; volunteers,
party members, property managers and enterprise specialists see them masked
(``138****1234``)."""

ID_NUMBER_ROLES = frozenset({Role.OFFICIAL, Role.COMMUNITY_POLICE, Role.FAMILY_DOCTOR})
"""Roles that may see whole resident ID numbers (身份证号); everyone else sees them masked
(``420102********1234``)."""

_lock = threading.Lock()


def may_see_phone(caller: Caller | None) -> bool:
    return caller is not None and caller.role in PHONE_ROLES


class AuditLog:
    """Appends one JSON line per unmasked read to ``path`` (created on first use, mode 600)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def record(self, caller: Caller, field: str, subject: str) -> None:
        line = orjson.dumps({"at": datetime.now(UTC).isoformat(), "reader": str(caller.staff_id),
                             "role": caller.role.value, "field": field, "subject": subject})
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
    if caller is None or caller.role not in ID_NUMBER_ROLES:
        return mask_id_number(whole)
    audit.record(caller, field, subject)
    return whole


def phone_for(caller: Caller | None, audit: AuditLog, phone: Phone | str | None, field: str,
              subject: str) -> str | None:
    """The phone as the caller may see it: whole (and audited) or masked."""
    if phone is None:
        return None
    whole = phone.reveal() if isinstance(phone, Phone) else str.__str__(phone)
    if caller is None or not may_see_phone(caller):
        return mask_phone(whole)
    audit.record(caller, field, subject)
    return whole
