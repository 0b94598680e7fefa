"""Staff: grid workers, party members, volunteers and the other actors of the seeds."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.errors import InvalidInput
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


class StaffMember(Aggregate):
    staff_no: str
    name: str
    phone: Phone | None
    role: Role
    jurisdiction: str
    daily_capacity: int
    available: bool
    unavailable_reason: str
    resident: tuple[UUID, UUID] | None

    class Enrolled(Created):
        staff_no: str
        name: str
        phone: Phone | None
        role: Role
        jurisdiction: str
        daily_capacity: int
        household_id: UUID | None = None
        resident_id: UUID | None = None

        def apply(self, staff: StaffMember) -> None:
            staff.staff_no, staff.name, staff.phone = self.staff_no, self.name, self.phone
            staff.role, staff.jurisdiction = self.role, self.jurisdiction
            staff.daily_capacity, staff.available, staff.unavailable_reason = (
                self.daily_capacity, True, "")
            staff.resident = (
                (self.household_id, self.resident_id)
                if self.household_id and self.resident_id else None
            )

    class AvailabilityChanged(Event):
        available: bool
        reason: str

        def apply(self, staff: StaffMember) -> None:
            staff.available, staff.unavailable_reason = self.available, self.reason

    class CapacityChanged(Event):
        daily_capacity: int

        def apply(self, staff: StaffMember) -> None:
            staff.daily_capacity = self.daily_capacity

    class JurisdictionChanged(Event):
        jurisdiction: str

        def apply(self, staff: StaffMember) -> None:
            staff.jurisdiction = self.jurisdiction

    @classmethod
    def enrol(
        cls, staff_no: str, name: str, role: Role, jurisdiction: str, daily_capacity: int,
        at: datetime, phone: Phone | None = None,
        resident: tuple[UUID, UUID] | None = None,
    ) -> StaffMember:
        check_capacity(daily_capacity)
        if not staff_no.strip() or not name.strip():
            raise InvalidInput("A staff member needs a staff number and a name.",
                               "Give both, e.g. staff_no='WH712-01', name='王芳'.")
        household_id, resident_id = resident if resident else (None, None)
        return cls._create(
            cls.Enrolled, staff_id(staff_no), at, staff_no=staff_no, name=name, phone=phone,
            role=role, jurisdiction=jurisdiction, daily_capacity=daily_capacity,
            household_id=household_id, resident_id=resident_id,
        )

    def set_availability(self, available: bool, reason: str, at: datetime) -> None:
        if available != self.available:
            self._trigger(self.AvailabilityChanged, at, available=available, reason=reason)

    def set_capacity(self, daily_capacity: int, at: datetime) -> None:
        check_capacity(daily_capacity)
        self._trigger(self.CapacityChanged, at, daily_capacity=daily_capacity)

    def __repr__(self) -> str:
        return (f"StaffMember(staff_no={self.staff_no!r}, name={self.name!r}, "
                f"role={self.role.value}, phone={self.phone!r})")


def check_capacity(daily_capacity: int) -> None:
    """A daily visit capacity is a whole number from 0 to 500."""
    if not 0 <= daily_capacity <= 500:
        raise InvalidInput(
            f"Daily capacity {daily_capacity} is out of range.",
            "Give the number of household visits a day, from 0 to 500 (e.g. 40).",
        )
