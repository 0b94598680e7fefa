"""Commands of referrals (转介) and centralized quarantine sites (集中隔离点).

Decisions made here (see also ``gridcore.referral``):

- ``open_referral`` is idempotent per (resident, kind) while one is open: a second call
  writes nothing and returns the open referral with ``created=False``. A process manager
  opens with ``by=None`` (the system); a retried call with the same ``client_id`` returns the
  referral it opened. The owning community is the one the household is in when it opens.
- Admission and discharge change the resident's measure in the same transaction, through
  ``Household.change_measure`` (and ``release_measure``) with the policy in force: the
  referral decides its step, the household its measure, and the command saves both. A
  discharge releases the measure only while the admission's measure is still in force: if
  the resident was since moved on (e.g. hospitalized through another referral), the place is
  freed and the measure left alone.
- Deadlines: the transport deadline is fixed at opening from the policy then in force
  (``Policy.referral_transport_hours``). ``tick_referrals(now)`` records, once each,
  ``BecameOverdue`` when the deadline has passed without a dispatched transport, and
  ``Escalated`` to the street at the same time, to the district one deadline period later and
  to the city one period after that; it then stops. A dispatch stops further escalation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.app_base import ApplicationBase, command
from gridcore.authority import Actor, System, staff_of
from gridcore.base import Aggregate
from gridcore.errors import DuplicateCode, InvalidInput, parse_enum
from gridcore.grid import Level
from gridcore.quarantine_site import QuarantineSite, site_id
from gridcore.referral import (
    Referral,
    ReferralKind,
    check_can_open,
    check_text,
)
from gridcore.referral_index import (
    DESK_REGISTER_ID,
    DeskRegister,
    ReferralDesk,
    ResidentReferrals,
    desk_id,
    resident_referrals_id,
)
from gridcore.status import Measure


@dataclass(frozen=True)
class ReferralOpening:
    """What ``open_referral`` did: the referral's id, whether this call opened it (False: one
    of that kind was already open for the resident, nothing was written), and the
    notification id of the write."""

    referral_id: UUID
    created: bool
    notification_id: int | None



def _replay_opening(app: ReferralCommands, hid: UUID, rid: UUID, kind: Any, reason: str,
                    *, by: Actor) -> ReferralOpening:
    k = parse_enum(ReferralKind, kind, "referral kind")
    index = app._find(ResidentReferrals, resident_referrals_id(rid))
    found = (index.open.get(k) or index.latest(k)) if index else None
    if found is None:
        raise InvalidInput("This client id was used for a referral that is not on record.",
                           "Generate a new client id for each distinct command.")
    return ReferralOpening(found, False, app.recorder.max_notification_id())


class ReferralCommands(ApplicationBase):
    # ---- quarantine sites -----------------------------------------------------------------

    @command
    def register_quarantine_site(self, code: str, name: str, node_code: str,
                                 capacity: int, *, by: Actor) -> int | None:
        """Register a 集中隔离点 at the district or street that runs it."""
        node = self.node(node_code)
        node.require_active()
        site = QuarantineSite.register(code, name, node_code, node.level, capacity,
                                       self.clock())
        if self._find(QuarantineSite, site.id) is not None:
            raise DuplicateCode(f"Quarantine site code {code} is already registered.",
                                "Choose another code, or use the registered site.")
        return self._save(site)

    def quarantine_site(self, sid: UUID) -> QuarantineSite:
        return self._get(QuarantineSite, sid, f"quarantine site {sid}",
                         "Register the site first: the registerQuarantineSite mutation.")

    def quarantine_site_by_code(self, code: str) -> QuarantineSite:
        return self._get(QuarantineSite, site_id(code), f"quarantine site with code {code!r}",
                         "Check the code, or register the site first.")

    # ---- the referral lifecycle ----------------------------------------------------------

    @command(replay=_replay_opening)
    def open_referral(self, hid: UUID, rid: UUID, kind: ReferralKind | str, reason: str,
                      *, by: Actor) -> ReferralOpening:
        """Open a referral of a resident (by staff, or by the system with ``by=None``)."""
        at = self.clock()
        k = parse_enum(ReferralKind, kind, "referral kind")
        check_text(reason, "reason", "密接 close contact, 云南来的亲戚")
        h = self.household(hid)
        resident = h.require_identifiable(rid)
        index = (self._find(ResidentReferrals, resident_referrals_id(rid))
                 or ResidentReferrals.start(rid, at))
        if (open_id := index.open.get(k)) is not None:
            return ReferralOpening(open_id, False, None)
        check_can_open(resident.health)
        community = self._community_of(h.micro_grid)
        hours = self.policy_at(at).referral_transport_hours
        ref = Referral.open(index.next_id(k), hid, rid, k, reason,
                            staff_of(by), community, hours, at)
        index.record_opened(k, ref.id, at)
        desk, register = self._find(ReferralDesk, desk_id(community)), None
        if desk is None:
            desk = ReferralDesk.start(community, at)
            register = (self._find(DeskRegister, DESK_REGISTER_ID) or DeskRegister.start(at))
            register.add(community, at)
        desk.record_open(ref.id, ref.transport_due, at)
        return ReferralOpening(ref.id, True, self._save(ref, index, desk, register))

    @command
    def record_persuasion(self, referral_id: UUID, by: UUID, minutes: int,
                          refused_reason: str) -> int | None:
        """A persuasion attempt the resident refused, and how long it took (劝导)."""
        ref = self.referral(referral_id)
        self.staff(by)
        ref.record_persuasion(by, minutes, refused_reason, self.clock())
        return self._save(ref)

    @command
    def accept_referral(self, referral_id: UUID, by: UUID, minutes: int = 0,
                        note: str = "") -> int | None:
        """The resident agreed; ``minutes`` is the time the last (successful) talk took."""
        ref = self.referral(referral_id)
        self.staff(by)
        ref.accept(by, minutes, note, self.clock())
        return self._save(ref)

    @command
    def dispatch_transport(self, referral_id: UUID, by: UUID, vehicle: str,
                           escort: str = "") -> int | None:
        """Send the vehicle (转运); the transport deadline no longer runs."""
        at = self.clock()
        ref = self.referral(referral_id)
        self.staff(by)
        ref.dispatch(by, vehicle, escort, at)
        desk = self._desk(ref)
        desk.transport_arranged(ref.id, at)
        return self._save(ref, desk)

    @command
    def admit(self, referral_id: UUID, by: UUID, site_code: str | None = None,
              destination: str | None = None) -> int | None:
        """Admit to a quarantine site (by code) or a named fever clinic or hospital; the
        resident's measure becomes centralized quarantine or hospitalized as the policy allows."""
        at = self.clock()
        ref, actor = self.referral(referral_id), self.staff(by)
        ref.admit(by, site_code, destination, at)
        h = self.household(ref.household_id)
        r = h.resident(ref.resident_id)
        site = None
        if site_code is not None:
            site = self.quarantine_site_by_code(site_code)
            site.admit(ref.id, ref.household_id, ref.resident_id, at)
        measure, changed = ref.held_measure, None
        if measure is not None and r.measure is not measure:
            where = site.label if site else ref.destination
            h.change_measure(r.resident_id, measure, by=by, role=actor.role,
                             reason=f"转介收治 admitted: {where}", policy=self.policy_at(at),
                             at=at)
            changed = h
        return self._save(ref, site, changed)

    @command
    def discharge(self, referral_id: UUID, by: UUID, reason: str,
                  release_to: Measure | str = Measure.NONE,
                  override_reason: str = "") -> int | None:
        """Discharge from a quarantine site or hospital; the measure the admission imposed is
        released to ``release_to`` as the policy in force allows (period served, a negative
        test, or a doctor's override with a reason)."""
        at = self.clock()
        ref, actor = self.referral(referral_id), self.staff(by)
        held, target, reason, override_reason = ref.discharge_terms(release_to, reason,
                                                                   override_reason)
        h = self.household(ref.household_id)
        released = target if h.release_measure(
            ref.resident_id, held, target, by=by, role=actor.role, reason=reason,
            override_reason=override_reason, policy=self.policy_at(at), at=at) else None
        site = self.quarantine_site_by_code(ref.site_code) if ref.site_code else None
        if site is not None:
            site.discharge(ref.id, at)
        ref.discharge(by, reason, released, at)
        return self._save(ref, site, h if released else None, *self._ended(ref, at))

    @command
    def close_referral(self, referral_id: UUID, by: UUID, outcome: str) -> int | None:
        """Close a fever-clinic referral after the visit (办结), with its outcome."""
        at = self.clock()
        ref = self.referral(referral_id)
        self.staff(by)
        ref.close(by, outcome, at)
        return self._save(ref, *self._ended(ref, at))

    @command
    def cancel_referral(self, referral_id: UUID, by: Actor, reason: str) -> int | None:
        """Cancel a referral before admission (by staff, or by the system with ``by=None``)."""
        at = self.clock()
        ref = self.referral(referral_id)
        ref.cancel(staff_of(by), reason, at)
        return self._save(ref, *self._ended(ref, at))

    # ---- queries --------------------------------------------------------------------------

    def referral(self, referral_id: UUID) -> Referral:
        return self._get(Referral, referral_id, f"referral {referral_id}",
                         "Check the id (see open_referrals or referrals_of).")

    def referrals_of(self, resident_id: UUID) -> list[Referral]:
        """Every referral of a resident, open or ended, oldest first."""
        index = self._find(ResidentReferrals, resident_referrals_id(resident_id))
        refs = [self.referral(i) for i in index.all_ids()] if index else []
        return sorted(refs, key=lambda r: r.created_on)

    def open_referrals(self, community_code: str) -> list[Referral]:
        """The community's referrals that have not ended, oldest first."""
        node = self.node(community_code)
        if node.level is not Level.COMMUNITY:
            raise InvalidInput(f"{community_code} is a {node.level.name.lower()}.",
                               "Give the code of a community (社区); referrals belong to one.")
        desk = self._find(ReferralDesk, desk_id(community_code))
        refs = [self.referral(i) for i in desk.open] if desk else []
        return sorted(refs, key=lambda r: r.created_on)

    # ---- deadlines ------------------------------------------------------------------------

    def tick_referrals(self, now: datetime) -> int:
        """Record what became overdue at ``now``, once; returns how many items did."""
        register = self._find(DeskRegister, DESK_REGISTER_ID)
        newly = 0
        for code in register.communities if register else []:
            desk = self._find(ReferralDesk, desk_id(code))
            late = desk.past_due(now) if desk else []
            if late:
                chain = self._levels_above(code)
                newly += sum(self._escalate(rid, chain, now, by=System.AUTOMATION) for rid in late)
        return newly

    @command
    def _escalate(self, referral_id: UUID, chain: list[tuple[Level, str]],
                  now: datetime, *, by: Actor) -> int:
        ref = self.referral(referral_id)
        newly = ref.escalate(chain, now)
        self._save(ref)
        return int(newly)

    # ---- helpers --------------------------------------------------------------------------

    def _desk(self, ref: Referral) -> ReferralDesk:
        return self._get(ReferralDesk, desk_id(ref.community_code),
                         f"referral desk of {ref.community_code}", "Open the referral first.")

    def _ended(self, ref: Referral, at: datetime) -> list[Aggregate]:
        index = self._get(ResidentReferrals, resident_referrals_id(ref.resident_id),
                          f"referrals of resident {ref.resident_id}", "Open the referral first.")
        desk = self._desk(ref)
        index.record_ended(ref.kind, ref.id, at)
        desk.delist(ref.id, at)
        return [index, desk]

    def _community_of(self, code: str) -> str:
        node = self.node(code)
        while node.level > Level.COMMUNITY and node.parent_code is not None:
            node = self.node(node.parent_code)
        if node.level is not Level.COMMUNITY:
            raise InvalidInput(f"{code} is not inside a community.",
                               "Register the household in a community's micro-grid.")
        return node.code

    def _levels_above(self, code: str) -> list[tuple[Level, str]]:
        """The ancestors of a grid node, nearest first, with their levels."""
        chain, node = [], self.node(code)
        while node.parent_code is not None:
            node = self.node(node.parent_code)
            chain.append((node.level, node.code))
        return chain

