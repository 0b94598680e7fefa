"""Staff: grid workers, party members, volunteers and the other actors of the seeds.

Staff are people too: a member's name and phone are a ``StaffIdentity`` sealed with the
member's own key (the subject is the staff id), and erasing them destroys that key, as for a
resident. A member who leaves (离职) is deactivated: their tokens stop working at once and they
can no longer be given work; reactivation restores both.

A member's jurisdiction (辖区) is one or more nodes of the tree: a grid worker responsible for
zones 1 and 5 has exactly those two micro-grids, an official their community. What they may
see and do lies inside any of them; the first is their home, where they are listed and
counted, and the subtree their boards answer for when asked for no other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Personal, stable_id
from gridcore.errors import Erased, ForbiddenTransition, InvalidInput, NotPermitted
from gridcore.identity import Phone


class Role(StrEnum):
    GRID_WORKER = "grid_worker"
    PARTY_MEMBER = "party_member"
    VOLUNTEER = "volunteer"
    FAMILY_DOCTOR = "family_doctor"
    COMMUNITY_POLICE = "community_police"
    PROPERTY_MANAGER = "property_manager"
    ENTERPRISE_SPECIALIST = "enterprise_specialist"
    DUTY_LEAD = "duty_lead"
    OFFICIAL = "official"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.GRID_WORKER: "网格员 grid worker",
    Role.PARTY_MEMBER: "党员 party member",
    Role.VOLUNTEER: "志愿者 volunteer",
    Role.FAMILY_DOCTOR: "家庭签约医生 family doctor",
    Role.COMMUNITY_POLICE: "社区民警 community police",
    Role.PROPERTY_MANAGER: "物业 property manager",
    Role.ENTERPRISE_SPECIALIST: "企业服务专员 enterprise specialist",
    Role.DUTY_LEAD: "总值班 duty lead",
    Role.OFFICIAL: "干部 official",
}

FIELD_ROLES = frozenset({Role.GRID_WORKER, Role.PARTY_MEMBER, Role.VOLUNTEER})


def staff_id(staff_no: str) -> UUID:
    return stable_id("staff", staff_no)


ERASED_LABEL = "已删除 erased"


class StaffIdentity(Personal):
    """A staff member's name and phone, sealed with the member's own key (subject: the staff
    id, whether or not the member is also a resident: a resident's key is created with their
    household and cannot be created again by the staff member's first event)."""

    name: str | None = None
    phone: Phone | None = None


class StaffMember(Aggregate):
    staff_no: str
    identity: StaffIdentity
    role: Role
    jurisdictions: tuple[str, ...]
    daily_capacity: int
    on_duty: bool
    off_duty_reason: str
    resident: tuple[UUID, UUID] | None
    active: bool
    deactivation_reason: str

    class Enrolled(Created):
        """v1 stored ``name`` and ``phone`` in plain; v2 seals them as ``identity``; v3 holds
        the jurisdiction's nodes (v2 had one node, ``jurisdiction``)."""

        class_version: ClassVar[int] = 3

        staff_no: str
        identity: StaffIdentity
        role: Role
        jurisdictions: tuple[str, ...]
        daily_capacity: int
        household_id: UUID | None = None
        resident_id: UUID | None = None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # An old plain identity reads as it was stored (the key of its subject does not
            # exist, so erasing it later hides it from every reader of the aggregate).
            state["identity"] = {"subject_id": str(staff_id(state["staff_no"])),
                                 "name": state.pop("name", None),
                                 "phone": state.pop("phone", None)}

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            state["jurisdictions"] = [state.pop("jurisdiction")]

        def apply(self, staff: StaffMember) -> None:
            staff.staff_no, staff.identity = self.staff_no, self.identity
            staff.role, staff.jurisdictions = self.role, self.jurisdictions
            staff.daily_capacity, staff.on_duty, staff.off_duty_reason = (
                self.daily_capacity, True, "")
            staff.resident = (
                (self.household_id, self.resident_id)
                if self.household_id and self.resident_id else None
            )
            staff.active, staff.deactivation_reason = True, ""

    class AvailabilityChanged(Event):
        available: bool
        reason: str

        def apply(self, staff: StaffMember) -> None:
            staff.on_duty, staff.off_duty_reason = self.available, self.reason

    class CapacityChanged(Event):
        daily_capacity: int

        def apply(self, staff: StaffMember) -> None:
            staff.daily_capacity = self.daily_capacity

    class JurisdictionChanged(Event):
        """v2 holds the jurisdiction's nodes (v1 had one node, ``jurisdiction``)."""

        class_version: ClassVar[int] = 2

        jurisdictions: tuple[str, ...]

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["jurisdictions"] = [state.pop("jurisdiction")]

        def apply(self, staff: StaffMember) -> None:
            staff.jurisdictions = self.jurisdictions

    class Deactivated(Event):
        """The member left (离职) or was suspended: no access, no work, until reactivated."""

        reason: str
        by: UUID | None = None

        def apply(self, staff: StaffMember) -> None:
            staff.active, staff.deactivation_reason = False, self.reason

    class Reactivated(Event):
        reason: str
        by: UUID | None = None

        def apply(self, staff: StaffMember) -> None:
            staff.active, staff.deactivation_reason = True, ""

    class IdentityErased(Event):
        """The member's key was destroyed: their name and phone read back as erased (the
        staff number, role and record of work stay)."""

        reason: str

        @property
        def erased_subject_ids(self) -> list[UUID]:
            """Whose keys the store destroys in the same transaction as this event."""
            return [self.originator_id]

        def apply(self, staff: StaffMember) -> None:
            staff.identity = StaffIdentity(subject_id=staff.identity.subject_id, erased=True)

    @classmethod
    def enrol(
        cls, staff_no: str, name: str, role: Role, jurisdictions: tuple[str, ...],
        daily_capacity: int,
        at: datetime, phone: Phone | None = None,
        resident: tuple[UUID, UUID] | None = None,
    ) -> StaffMember:
        check_capacity(daily_capacity)
        if not staff_no.strip() or not name.strip():
            raise InvalidInput("A staff member needs a staff number and a name.",
                               "Give both, e.g. staff_no='WH712-01', name='王芳'.")
        household_id, resident_id = resident if resident else (None, None)
        sid = staff_id(staff_no)
        return cls._create(
            cls.Enrolled, sid, at, staff_no=staff_no,
            identity=StaffIdentity(subject_id=sid, name=name, phone=phone),
            role=role, jurisdictions=jurisdictions, daily_capacity=daily_capacity,
            household_id=household_id, resident_id=resident_id,
        )

    @property
    def name(self) -> str:
        """The name, or a label with the staff number once it was erased (or is withheld)."""
        if self.identity.name is not None:
            return self.identity.name
        return f"{ERASED_LABEL} ({self.staff_no})" if self.identity.erased else self.staff_no

    @property
    def home(self) -> str:
        """The first node of the jurisdiction: where the member is listed and counted, and
        the subtree their boards answer for when asked for no other."""
        return self.jurisdictions[0]

    @property
    def phone(self) -> Phone | None:
        return self.identity.phone

    @property
    def erased(self) -> bool:
        return self.identity.erased

    @property
    def available(self) -> bool:
        """Whether work may be given to the member now: on duty and not deactivated (every
        rule that picks staff reads this, so a deactivated member is never picked)."""
        return self.on_duty and self.active

    @property
    def unavailable_reason(self) -> str:
        return self.off_duty_reason if self.active else self.deactivation_reason

    def require_active(self) -> None:
        """Refuse an act of (or work for) a deactivated member."""
        if not self.active:
            raise NotPermitted(
                f"Staff member {self.staff_no} is deactivated ({self.deactivation_reason}).",
                "Reactivate them first (reactivateStaff), or choose an active colleague.")

    def deactivate(self, reason: str, by: UUID | None, at: datetime) -> None:
        if not reason.strip():
            raise InvalidInput("Deactivating a staff member needs a reason.",
                               "Say why, e.g. '离职 left the job'.")
        if not self.active:
            raise ForbiddenTransition(
                f"Staff member {self.staff_no} is already deactivated "
                f"({self.deactivation_reason}).", "Nothing to do; reactivate them to restore.")
        self._trigger(self.Deactivated, at, reason=reason.strip(), by=by)

    def reactivate(self, reason: str, by: UUID | None, at: datetime) -> None:
        if self.active:
            raise ForbiddenTransition(f"Staff member {self.staff_no} is active.",
                                      "Only a deactivated member can be reactivated.")
        if self.erased:
            raise Erased(f"Staff member {self.staff_no}'s personal data was erased.",
                         "Enrol the person again under a new staff number.")
        self._trigger(self.Reactivated, at, reason=reason.strip(), by=by)

    def change_jurisdiction(self, jurisdictions: tuple[str, ...], at: datetime) -> None:
        if jurisdictions == self.jurisdictions:
            raise InvalidInput(f"Staff member {self.staff_no} already serves "
                               f"{', '.join(jurisdictions)}.", "Give other nodes.")
        self._trigger(self.JurisdictionChanged, at, jurisdictions=jurisdictions)

    def erase(self, reason: str, at: datetime) -> None:
        """Erase the member's name and phone (crypto-shredding, as for a resident)."""
        if self.erased:
            raise Erased(f"Staff member {self.staff_no}'s personal data is already erased.",
                         "Nothing more to erase.")
        if not reason.strip():
            raise InvalidInput("Erasure needs a legal reason.",
                               "Say why, e.g. '离职满期 retention period over'.")
        self._trigger(self.IdentityErased, at, reason=reason.strip())

    def set_availability(self, available: bool, reason: str, at: datetime) -> None:
        if available != self.on_duty:
            self._trigger(self.AvailabilityChanged, at, available=available, reason=reason)

    def set_capacity(self, daily_capacity: int, at: datetime) -> None:
        check_capacity(daily_capacity)
        self._trigger(self.CapacityChanged, at, daily_capacity=daily_capacity)

    def __repr__(self) -> str:
        # no name: a repr ends up in logs (the phone masks itself)
        return (f"StaffMember(staff_no={self.staff_no!r}, role={self.role.value}, "
                f"phone={self.phone!r}, active={self.active})")


def check_capacity(daily_capacity: int) -> None:
    """A daily visit capacity is a whole number from 0 to 500."""
    if not 0 <= daily_capacity <= 500:
        raise InvalidInput(
            f"Daily capacity {daily_capacity} is out of range.",
            "Give the number of household visits a day, from 0 to 500 (e.g. 40).",
        )


@dataclass(frozen=True)
class StaffRow:
    """One member of a roster (花名册) enrolled in bulk (``enrol_staff_many``): the arguments
    of ``enrol_staff`` but a resident link."""

    staff_no: str
    name: str
    role: Role | str
    jurisdiction: str | tuple[str, ...]
    """one node code, or several (a grid worker's zones)"""
    daily_capacity: int = 40
    phone: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        j = self.jurisdiction
        return (j,) if isinstance(j, str) else tuple(j)


def check_jurisdictions(codes: tuple[str, ...], chains: dict[str, list[str]]) -> None:
    """A jurisdiction is one or more distinct nodes, none inside another (``chains``: each
    node's ancestry, itself first): what a member may see and do is the union of subtrees
    that do not overlap, so nothing is listed or counted twice."""
    if not codes:
        raise InvalidInput("A jurisdiction needs at least one node.",
                           "Give a node code, e.g. the community's or a micro-grid's.")
    for code in codes:
        inside = [c for c in codes if c != code and c in chains[code]]
        if inside or codes.count(code) > 1:
            raise InvalidInput(
                f"{code} is named twice or lies inside {inside[0] if inside else code}.",
                "Name each node once, and not a node under another one you name.")
