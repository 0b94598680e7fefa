"""Enterprise resumption (复工复产): the registry, filings, health declarations, inspections.

Chengdu Tianfu: about 40 enterprise specialists (企业服务专员) in one bureau, each enterprise
with exactly one specialist (对口负责). An enterprise files for resumption (复工备案) against the
guide's checklist, its employees declare their health, and its specialist inspects daily
prevention (hand washing, spacing at meetings, dining); a failed item is rectified (整改) by a
deadline. 2,865 enterprises had resumed by March 2.

An enterprise desk per community, in ``enterprise_desk``, is the index without a read model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from gridcore.base import Created, Event, Immutable, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput, NotPermitted
from gridcore.location import Locatable, Placed
from gridcore.policy import Policy
from gridcore.staff import Role
from gridcore.text import free_text

_CREDIT_CODE = re.compile(r"^[0-9A-Z]{18}$")
REVIEWER_ROLES = frozenset({Role.OFFICIAL})

CHECK_LABELS = {
    "测温": "测温 temperature checks",
    "口罩储备": "口罩储备 mask stock",
    "消毒": "消毒 disinfection",
    "员工健康申报": "员工健康申报 employee health declarations",
    "应急预案": "应急预案 emergency plan",
    "洗手": "洗手 hand washing",
    "开会间距": "开会间距 spacing at meetings",
    "就餐": "就餐 dining",
}


def check_label(item: str) -> str:
    """The label people see for a checklist or inspection item (Chinese term first)."""
    return CHECK_LABELS.get(item, item)


class SpecialistMissing(InvalidInput):
    """The enterprise has no available enterprise specialist (企业服务专员)."""

    code = "SPECIALIST_MISSING"


class ChecklistIncomplete(InvalidInput):
    """A resumption filing lacks required checklist items; ``missing`` lists them."""

    code = "CHECKLIST_INCOMPLETE"

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__(
            f"The filing lacks {len(missing)} required item(s): "
            f"{', '.join(check_label(m) for m in missing)}.",
            "Put the missing measures in place and file again with every checklist item.")

    def __reduce__(self) -> tuple[type[ChecklistIncomplete], tuple[list[str]]]:
        return type(self), (self.missing,)


class Resumption(StrEnum):
    NOT_FILED = "not_filed"
    FILED = "filed"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return {"not_filed": "未备案 not filed", "filed": "已备案待审 filed, under review",
                "approved": "准予复工 approved to resume",
                "rejected": "退回 rejected"}[self.value]


R = Resumption
RESUMPTION_TRANSITIONS: dict[Resumption, frozenset[Resumption]] = {
    R.NOT_FILED: frozenset({R.FILED}),
    R.FILED: frozenset({R.APPROVED, R.REJECTED}),
    R.REJECTED: frozenset({R.FILED}),
    R.APPROVED: frozenset(),
}


def enterprise_id(credit_code: str) -> UUID:
    return stable_id("enterprise", credit_code)


class Declaration(Immutable):
    """One employee health declaration (员工健康申报): counts only, no personal data."""

    declared: int
    symptomatic: int
    at: datetime


@dataclass
class Rectification:
    """An open rectification (整改) of one failed inspection item."""

    item: str
    opened_at: datetime
    deadline: datetime
    overdue: bool = False


# ---- rules -------------------------------------------------------------------------------------

def check_registration(credit_code: str, name: str, department: str) -> None:
    """An enterprise is known by its 18-character unified social credit code (统一社会信用代码)
    and has a name and an industry department (行业主管部门)."""
    if not _CREDIT_CODE.fullmatch(credit_code):
        raise InvalidInput(f"Credit code {credit_code!r} is malformed.",
                           "Give the 18 digits and capital letters, e.g. '91510100MA61R8XK2B'.")
    if not name.strip() or not department.strip():
        raise InvalidInput("An enterprise needs a name and an industry department.",
                           "Give both, e.g. name='天府软件园', department='经济运行局'.")


def check_specialist(role: Role | None, available: bool, name: str = "") -> None:
    """Every enterprise has exactly one available enterprise specialist (对口负责, Chengdu
    Tianfu); none, another role, or an unavailable one is refused."""
    if role is None:
        raise SpecialistMissing("The enterprise has no enterprise specialist.",
                                "Assign one (企业服务专员) before registering or filing.")
    if role is not Role.ENTERPRISE_SPECIALIST:
        raise InvalidInput(f"{name or 'The staff member'} is a {role.value}.",
                           "Choose a staff member enrolled as enterprise_specialist.")
    if not available:
        raise SpecialistMissing(f"The enterprise's specialist {name} is unavailable.".strip(),
                                "Assign another enterprise specialist first.")


def missing_items(provided: Sequence[str], checklist: Sequence[str]) -> list[str]:
    """The checklist items (the guide's, from the policy in force) a filing does not cover."""
    given = set(provided)
    return [item for item in checklist if item not in given]


MAX_EMPLOYEES = 1_000_000
"""More than any one enterprise employs (a count beyond it is a typing slip, and beyond 2**63
it could not even be stored)."""


def check_filing(provided: Sequence[str], employees: int, checklist: Sequence[str]) -> None:
    """A resumption filing (复工备案) covers every item of the guide's checklist and states how
    many employees return (at least one)."""
    if employees < 1:
        raise InvalidInput(f"A filing for {employees} employees resumes nothing.",
                           "Give the number of employees returning to work.")
    if employees > MAX_EMPLOYEES:
        raise InvalidInput(f"A filing for {employees} employees is beyond any enterprise.",
                           f"Give the number returning to work (at most {MAX_EMPLOYEES:,}).")
    if missing := missing_items(provided, checklist):
        raise ChecklistIncomplete(missing)


def check_resumption(current: Resumption, target: Resumption) -> None:
    """A filing is reviewed once: not filed or rejected → filed → approved or rejected."""
    if target not in RESUMPTION_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in RESUMPTION_TRANSITIONS[current])) or "none"
        raise ForbiddenTransition(
            f"Resumption cannot go from {current.value} to {target.value}.",
            f"From {current.value} the allowed next states are: {allowed}.")


def check_actor(role: Role, actor: UUID, specialist: UUID | None, what: str) -> None:
    """Reviews and inspections are by the enterprise's own specialist or an official (干部)."""
    if actor != specialist and role not in REVIEWER_ROLES:
        raise NotPermitted(f"A {role.value} who is not its specialist may not {what} it.",
                           "Ask the enterprise's own specialist (对口负责) or an official.")


def check_approval(declarations: Sequence[Declaration]) -> None:
    """Approval needs an employee health declaration, with nobody symptomatic in the latest."""
    if not declarations:
        raise ForbiddenTransition("No employee health declaration (员工健康申报) was made.",
                                  "Have the employees declare their health first.")
    if (sick := declarations[-1].symptomatic) > 0:
        raise ForbiddenTransition(f"{sick} employee(s) declared symptoms.",
                                  "Send them to a fever clinic, then declare again.")


def check_declaration(declared: int, symptomatic: int, employees: int) -> None:
    """A declaration counts at least one employee, no more than the filing's employees (when
    filed), and its symptomatic ones are among them."""
    if declared < 1 or declared > (employees or MAX_EMPLOYEES):
        raise InvalidInput(f"{declared} employees declared (filed: {employees or 'none'}).",
                           "Declare between 1 and the filed number of employees.")
    if not 0 <= symptomatic <= declared:
        raise InvalidInput(f"{symptomatic} symptomatic of {declared} declared.",
                           "Give a count of symptomatic employees from 0 to those declared.")


def check_inspection(results: Mapping[str, bool], items: Sequence[str]) -> None:
    """An inspection round assesses every inspection item in force, and nothing else."""
    unknown = sorted(set(results) - set(items))
    missing = [i for i in items if i not in results]
    if unknown or missing:
        raise InvalidInput(
            f"Inspection items unknown: {', '.join(unknown) or 'none'}; "
            f"not assessed: {', '.join(map(check_label, missing)) or 'none'}.",
            f"Assess exactly: {', '.join(map(check_label, items))}.")


def rectification_deadline(at: datetime, policy: Policy) -> datetime:
    """A failed inspection item is rectified within the policy's rectification_days."""
    return at + timedelta(days=policy.rectification_days)


def rectification_changes(open_items: Sequence[str],
                          results: Mapping[str, bool]) -> tuple[list[str], list[str]]:
    """A failed item opens a rectification unless one is open; a passed item closes its open
    rectification. Returns (to open, to close)."""
    to_open = sorted(i for i, ok in results.items() if not ok and i not in open_items)
    to_close = sorted(i for i, ok in results.items() if ok and i in open_items)
    return to_open, to_close


# ---- the enterprise ----------------------------------------------------------------------------

class Enterprise(Locatable):
    credit_code: str
    name: str
    department: str
    location: str
    specialist: UUID | None
    resumption: Resumption
    checklist: list[str]
    employees: int
    reasons: list[str]
    declarations: list[Declaration]
    inspections: int
    rectifications: dict[str, Rectification]
    rectified: int

    class Located(Placed):
        """The enterprise's point."""

    class Registered(Created):
        credit_code: str
        name: str
        department: str
        location: str
        specialist: UUID

        def apply(self, e: Enterprise) -> None:
            e.credit_code, e.name, e.department = self.credit_code, self.name, self.department
            e.location, e.specialist = self.location, self.specialist
            e.resumption, e.checklist, e.employees, e.reasons = R.NOT_FILED, [], 0, []
            e.declarations, e.inspections, e.rectifications, e.rectified = [], 0, {}, 0

    class SpecialistAssigned(Event):
        specialist: UUID
        previous: UUID | None

        def apply(self, e: Enterprise) -> None:
            e.specialist = self.specialist

    class ResumptionFiled(Event):
        items: list[str]
        employees: int
        note: str = ""

        def apply(self, e: Enterprise) -> None:
            e.resumption, e.checklist, e.employees = R.FILED, list(self.items), self.employees
            e.reasons = []

    class ResumptionReviewed(Event):
        approved: bool
        by: UUID
        reasons: list[str]

        def apply(self, e: Enterprise) -> None:
            e.resumption = R.APPROVED if self.approved else R.REJECTED
            e.reasons = list(self.reasons)

    class HealthDeclared(Event):
        declared: int
        symptomatic: int

        def apply(self, e: Enterprise) -> None:
            e.declarations.append(Declaration(declared=self.declared,
                                              symptomatic=self.symptomatic, at=self.timestamp))

    class Inspected(Event):
        """An inspection round (numbered), or a follow-up re-inspection of one rectified item
        (``close_rectification``: the number of the round it follows up)."""

        inspection_no: int
        by: UUID
        results: dict[str, bool]
        note: str = ""

        def apply(self, e: Enterprise) -> None:
            e.inspections = self.inspection_no

    class RectificationOpened(Event):
        item: str
        deadline: datetime

        def apply(self, e: Enterprise) -> None:
            e.rectifications[self.item] = Rectification(self.item, self.timestamp, self.deadline)

    class RectificationClosed(Event):
        item: str
        by: UUID

        def apply(self, e: Enterprise) -> None:
            del e.rectifications[self.item]
            e.rectified += 1

    class RectificationOverdue(Event):
        item: str
        deadline: datetime

        def apply(self, e: Enterprise) -> None:
            e.rectifications[self.item].overdue = True

    @classmethod
    def register(cls, credit_code: str, name: str, department: str, location: str,
                 specialist: UUID, at: datetime) -> Enterprise:
        check_registration(credit_code, name, department)
        return cls._create(cls.Registered, enterprise_id(credit_code), at,
                           credit_code=credit_code, name=name.strip(),
                           department=department.strip(), location=location,
                           specialist=specialist)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.resumption.label})"

    def assign(self, specialist: UUID, at: datetime) -> None:
        if specialist == self.specialist:
            raise InvalidInput(f"{self.name} already has this specialist.",
                               "Assign a different enterprise specialist.")
        self._trigger(self.SpecialistAssigned, at, specialist=specialist,
                      previous=self.specialist)

    def file(self, items: Sequence[str], employees: int, note: str, checklist: Sequence[str],
             at: datetime) -> None:
        check_resumption(self.resumption, R.FILED)
        check_filing(items, employees, checklist)
        note = free_text(note, "filing note")
        self._trigger(self.ResumptionFiled, at, items=list(dict.fromkeys(items)),
                      employees=employees, note=note)

    def review(self, approved: bool, by: UUID, reasons: Sequence[str], at: datetime) -> None:
        target = R.APPROVED if approved else R.REJECTED
        check_resumption(self.resumption, target)
        given = [free_text(r, "rejection reason") for r in reasons if r.strip()]
        if approved:
            check_approval(self.declarations)
        elif not given:
            raise InvalidInput("A rejection needs its reasons.",
                               "Say what is wrong, e.g. '口罩储备不足 too few masks'.")
        self._trigger(self.ResumptionReviewed, at, approved=approved, by=by, reasons=given)

    def declare(self, declared: int, symptomatic: int, at: datetime) -> None:
        check_declaration(declared, symptomatic, self.employees)
        self._trigger(self.HealthDeclared, at, declared=declared, symptomatic=symptomatic)

    def inspect(self, by: UUID, results: Mapping[str, bool], items: Sequence[str], note: str,
                deadline: datetime, at: datetime, partial: bool = False) -> None:
        """An inspection round (a partial one re-inspects only the items given)."""
        if self.resumption is not R.APPROVED:
            raise ForbiddenTransition(f"{self.name} has not resumed ({self.resumption.label}).",
                                      "Inspect an enterprise after its filing is approved.")
        if not partial:
            check_inspection(results, items)
        note = free_text(note, "inspection note")
        to_open, to_close = rectification_changes(list(self.rectifications), results)
        self._trigger(self.Inspected, at, inspection_no=self.inspections + 1, by=by,
                      results=dict(results), note=note)
        for item in to_open:
            self._trigger(self.RectificationOpened, at, item=item, deadline=deadline)
        for item in to_close:
            self._trigger(self.RectificationClosed, at, item=item, by=by)

    def close_rectification(self, by: UUID, item: str, note: str, at: datetime) -> None:
        """A follow-up re-inspection (整改复查) of one item under rectification that now
        passes: it closes the rectification and is recorded as part of the inspection round
        it follows up (its number, not a new one), so only inspection rounds count as
        inspections."""
        if item not in self.rectifications:
            open_items = ", ".join(sorted(self.rectifications)) or "none"
            raise InvalidInput(f"{self.name} has no open rectification of {item!r}.",
                               f"Open rectifications: {open_items}.")
        note = free_text(note, "inspection note")
        self._trigger(self.Inspected, at, inspection_no=self.inspections, by=by,
                      results={item: True}, note=note)
        self._trigger(self.RectificationClosed, at, item=item, by=by)

    def mark_overdue(self, at: datetime) -> int:
        """Record, once each, the open rectifications past their deadline at ``at``."""
        late = sorted(r.item for r in self.rectifications.values()
                      if not r.overdue and r.deadline <= at)
        for item in late:
            self._trigger(self.RectificationOverdue, at, item=item,
                          deadline=self.rectifications[item].deadline)
        return len(late)

    def next_deadline(self) -> datetime | None:
        """The earliest deadline of a rectification not yet recorded overdue."""
        pending = [r.deadline for r in self.rectifications.values() if not r.overdue]
        return min(pending) if pending else None

    def __repr__(self) -> str:
        return f"Enterprise(name={self.name!r}, resumption={self.resumption.value})"
