"""Commands and queries of enterprise resumption (复工复产).

Register an enterprise with its one specialist (对口负责), file for resumption (复工备案)
against the guide's checklist in force, declare employees' health, review the filing, inspect
daily prevention and follow each failed item to its rectification (整改).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from gridcore.app_base import MAX_ATTEMPTS, ApplicationBase, command
from gridcore.authority import Actor
from gridcore.enterprise import (
    Enterprise,
    check_actor,
    check_specialist,
    enterprise_id,
    rectification_deadline,
)
from gridcore.enterprise_desk import (
    ENTERPRISE_DIRECTORY_ID,
    EnterpriseDesk,
    EnterpriseDirectory,
    enterprise_desk_id,
)
from gridcore.errors import ConcurrencyConflict, DuplicateCode
from gridcore.grid import Level
from gridcore.staff import StaffMember


class EnterpriseCommands(ApplicationBase):
    # ---- look-ups --------------------------------------------------------------------------

    def enterprise(self, eid: UUID) -> Enterprise:
        return self._get(Enterprise, eid, f"enterprise {eid}", "Register the enterprise first.")

    def enterprise_by_code(self, credit_code: str) -> Enterprise:
        return self.enterprise(enterprise_id(credit_code))

    def enterprise_desk(self, code: str) -> EnterpriseDesk | None:
        return self._find(EnterpriseDesk, enterprise_desk_id(code))

    def _enterprise_desk_code(self, location: str) -> str:
        """The community (社区) of a location; a location above community level is its own."""
        node = self.node(location)
        while node.level > Level.COMMUNITY and node.parent_code is not None:
            node = self.node(node.parent_code)
        return node.code

    def _enterprise_desk(self, e: Enterprise,
                         at: datetime) -> tuple[EnterpriseDesk, EnterpriseDirectory | None]:
        code = self._enterprise_desk_code(e.location)
        desk = self._find(EnterpriseDesk, enterprise_desk_id(code))
        if desk is not None:
            return desk, None
        directory = (self._find(EnterpriseDirectory, ENTERPRISE_DIRECTORY_ID)
                     or EnterpriseDirectory.open(at))
        directory.add(code, at)
        return EnterpriseDesk.open_for(code, at), directory

    def _enterprise_specialist(self, sid: UUID | None) -> StaffMember:
        member = self.staff(sid) if sid is not None else None
        check_specialist(member.role if member else None, bool(member and member.available),
                         member.name if member else "")
        assert member is not None  # check_specialist refused a missing one (SpecialistMissing)
        return member

    # ---- registry --------------------------------------------------------------------------

    @command
    def register_enterprise(self, credit_code: str, name: str, department: str, location: str,
                            specialist: UUID | None, *, by: Actor) -> int | None:
        """Register an enterprise at its grid location with its one specialist (对口负责)."""
        at = self.clock()
        self.node(location).require_active()
        member = self._enterprise_specialist(specialist)
        if self._find(Enterprise, enterprise_id(credit_code)) is not None:
            raise DuplicateCode(f"Enterprise {credit_code} is already registered.",
                                "Check the credit code; the assignSpecialist mutation changes "
                                "its specialist.")
        e = Enterprise.register(credit_code, name, department, location, member.id, at)
        desk, directory = self._enterprise_desk(e, at)
        desk.list_enterprise(e.id, member.id, at)
        return self._save(e, desk, directory)

    @command
    def assign_specialist(self, enterprise: UUID, specialist: UUID, *,
                          by: Actor) -> int | None:
        """Make another specialist the enterprise's one specialist (the previous one is freed)."""
        at = self.clock()
        e = self.enterprise(enterprise)
        self._enterprise_specialist(specialist)
        e.assign(specialist, at)
        desk = self._enterprise_desk(e, at)[0]
        desk.list_enterprise(e.id, specialist, at)
        return self._save(e, desk)

    # ---- filing and review -----------------------------------------------------------------

    @command
    def file_resumption(self, enterprise: UUID, items: Sequence[str], employees: int,
                        note: str = "", *, by: Actor) -> int | None:
        """File for resumption (复工备案), stating the checklist items in place."""
        at = self.clock()
        e = self.enterprise(enterprise)
        self._enterprise_specialist(e.specialist)
        e.file(items, employees, note, self.policy_at(at).resumption_checklist, at)
        return self._save(e)

    @command
    def review_resumption(self, enterprise: UUID, by: UUID, approved: bool,
                          reasons: Sequence[str] = ()) -> int | None:
        """Approve a filing (复工) or send it back with reasons."""
        at = self.clock()
        e, reviewer = self.enterprise(enterprise), self.staff(by)
        check_actor(reviewer.role, by, e.specialist, "review")
        e.review(approved, by, reasons, at)
        return self._save(e)

    @command
    def declare_employee_health(self, enterprise: UUID, declared: int,
                                symptomatic: int = 0, *, by: Actor) -> int | None:
        """Employees' health declaration (员工健康申报): how many declared, how many ill."""
        e = self.enterprise(enterprise)
        e.declare(declared, symptomatic, self.clock())
        return self._save(e)

    # ---- inspection and rectification ------------------------------------------------------

    @command
    def inspect_enterprise(self, enterprise: UUID, by: UUID, results: Mapping[str, bool],
                           note: str = "") -> int | None:
        """An inspection round over the items in force (洗手, 开会间距, 就餐...): a failed item
        opens a rectification, a passed one closes its open rectification."""
        at = self.clock()
        e, inspector = self.enterprise(enterprise), self.staff(by)
        check_actor(inspector.role, by, e.specialist, "inspect")
        policy = self.policy_at(at)
        e.inspect(by, results, policy.inspection_items, note,
                  rectification_deadline(at, policy), at)
        desk = self._enterprise_desk(e, at)[0]
        desk.set_due(e, at)
        return self._save(e, desk)

    @command
    def close_rectification(self, enterprise: UUID, item: str, by: UUID,
                            note: str = "") -> int | None:
        """Re-inspect one rectified item and close its rectification when it now passes."""
        at = self.clock()
        e, inspector = self.enterprise(enterprise), self.staff(by)
        check_actor(inspector.role, by, e.specialist, "inspect")
        e.close_rectification(by, item, note, at)
        desk = self._enterprise_desk(e, at)[0]
        desk.set_due(e, at)
        return self._save(e, desk)

    # ---- queries -------------------------------------------------------------------------------

    def _enterprise_desks(self) -> list[EnterpriseDesk]:
        directory = self._find(EnterpriseDirectory, ENTERPRISE_DIRECTORY_ID)
        codes = directory.codes if directory else []
        return [d for c in codes if (d := self._find(EnterpriseDesk, enterprise_desk_id(c)))]

    def enterprises_of(self, specialist: UUID) -> list[Enterprise]:
        """The enterprises a specialist is responsible for (对口负责), by name."""
        found = [self.enterprise(e) for d in self._enterprise_desks()
                 for e, s in d.specialists.items() if s == specialist]
        return sorted(found, key=lambda e: (e.name, e.credit_code))

    def enterprises_in(self, scope: str) -> list[Enterprise]:
        """The enterprises located in the subtree of ``scope``, by name."""
        self.node(scope)
        found = []
        for desk in self._enterprise_desks():
            for eid in desk.specialists:
                e = self.enterprise(eid)
                if scope in self._enterprise_chain(e.location):
                    found.append(e)
        return sorted(found, key=lambda e: (e.name, e.credit_code))

    def _enterprise_chain(self, code: str) -> list[str]:
        chain, node = [code], self.node(code)
        while node.parent_code is not None:
            node = self.node(node.parent_code)
            chain.append(node.code)
        return chain

    # ---- overdue -------------------------------------------------------------------------------

    def tick_enterprises(self, now: datetime) -> int:
        """Record, once, each open rectification past its deadline; returns how many newly
        became overdue."""
        return sum(self._tick_enterprise_desk(d.code, now) for d in self._enterprise_desks())

    def _tick_enterprise_desk(self, code: str, now: datetime) -> int:
        for _ in range(MAX_ATTEMPTS):
            desk = self._get(EnterpriseDesk, enterprise_desk_id(code),
                             f"enterprise desk of {code}", "It is opened with an enterprise.")
            late = sorted((e for e, due in desk.due.items() if due <= now), key=str)
            if not late:
                return 0
            changed = [self.enterprise(e) for e in late]
            count = sum(e.mark_overdue(now) for e in changed)
            for e in changed:
                desk.set_due(e, now)
            try:
                self._save(*changed, desk)
            except IntegrityError:
                continue
            return count
        raise ConcurrencyConflict(f"The enterprise desk of {code} kept changing during the tick.",
                                  "Run the tick again; nothing was lost.")
