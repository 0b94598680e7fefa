"""Commands of contact tracing (流调与密接管理); the model and its rules are in
``gridcore.tracing``.

Decisions made here:

- A case is opened by its number (``case_id(case_no)``; a number used twice is refused) for
  an index person: a resident (``hid``, ``rid``), a person outside the register (what is
  known: name, phone, ID number, address), or a contact of another case (``source_case``,
  ``source_person``: the chain goes down from that case, and that case records the link).
- Each step writes its events with who decided (``by``) and when; a refused command writes
  nothing. A retried command with the same ``client_id`` is applied once.
- What follows for a resident of the register goes through the household's own rules
  (``Household.tag``, ``change_measure``, ``release_measure``, ``untag``) with the actor's
  role and the policy in force, in the same transaction as the case's event: a contact who
  is a resident (given at once, matched with certainty, or a proposal confirmed) gets the
  密接 or 次密接 tag and the policy's measure for that kind, counted from the last exposure
  (dated back to it as far as ``measure_backdate_hours`` allows); a measure already as
  strict or stricter is left alone. A close contact who is also staff stops working, as
  ``tag_resident`` does. A person outside the register stays to be located (待落地排查).
- Confirming a case whose index was a close contact of another case promotes that case's
  secondary contacts exposed to them to close contacts (idempotent); a resident index's
  health becomes confirmed where the health rules allow it.
- Ruling out a case releases its contacts: each resident still under the measure the case
  decided, and followed up in no other active case (as its index or a contact), is released
  to the policy's ``ruled_out_release_to`` (a release with the reason "index ruled out",
  which the household checks as an override: a family doctor by default), and their
  contact tags are removed. Ruling out twice changes nothing.
- Erasing a resident shreds what cases hold of them (``_cases_erased_with_resident``): the
  traced identity of each contact matched to them has its key destroyed in the erasure's
  transaction (``Case.IdentityErased``); the links by id stay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from gridcore.app_base import command
from gridcore.authority import Actor, staff_of
from gridcore.base import Aggregate
from gridcore.errors import DuplicateCode, InvalidInput, NotFound, parse_enum
from gridcore.household import Household
from gridcore.household_commands import HouseholdCommands
from gridcore.policy import Policy
from gridcore.staff import Role
from gridcore.status import HEALTH_TRANSITIONS, Health, Measure, Tag, TagKind
from gridcore.tracing import (
    Case,
    Closeness,
    Contact,
    Generation,
    PersonCases,
    Setting,
    case_id,
    measure_start,
    person_cases_id,
    reachable,
    traced_identity,
)


@dataclass(frozen=True)
class ExposureRecording:
    """What ``record_exposure`` did: the contact's person id (new or already traced), its
    generation and the notification id of the write."""

    person_id: UUID
    generation: Generation
    notification_id: int | None


@dataclass(frozen=True)
class MatchOutcome:
    """What ``match_contact`` did: ``applied`` (a certain match, consequences applied) or
    only proposed (a person confirms it with ``confirm_match``)."""

    applied: bool
    notification_id: int | None


@dataclass(frozen=True)
class ChainLink:
    """A case of the chain around a case: its generation relative to that case (negative:
    the cases it came from; positive: the cases its contacts became)."""

    case_id: UUID
    case_no: str
    generation: int
    status: str


def _replay_exposure(app: TracingCommands, case_id: UUID, exposed_at: datetime, setting: Any,
                     place: str, closeness: Any, *, by: Actor, via: UUID | None = None,
                     **_: Any) -> ExposureRecording:
    case = app.case(case_id)
    for c in case.contacts.values():
        if c.via == via and any(e.at == exposed_at and e.place == place.strip()
                                for e in c.exposures):
            return ExposureRecording(c.person_id, c.generation,
                                     app.recorder.max_notification_id())
    raise InvalidInput("This client id was used for an exposure that is not on record.",
                       "Generate a new client id for each distinct command.")


def _replay_match(app: TracingCommands, case_id: UUID, person_id: UUID, *args: Any,
                  **_: Any) -> MatchOutcome:
    contact = app.case(case_id).contact(person_id)
    return MatchOutcome(contact.resident_id is not None, app.recorder.max_notification_id())


class TracingCommands(HouseholdCommands):
    """Builds on the household area: a contact who is a resident is tagged and measured by
    the household's rules, in the case's transaction."""

    # ---- cases ----------------------------------------------------------------------------

    @command
    def open_case(self, case_no: str, scope: str, reason: str = "", *, by: Actor,
                  hid: UUID | None = None, rid: UUID | None = None, name: str | None = None,
                  phone: str | None = None, id_number: str | None = None,
                  address: str | None = None, source_case: UUID | None = None,
                  source_person: UUID | None = None, confirmed: bool = False) -> int | None:
        """Open an index case (病例) under the grid node ``scope`` that follows it up."""
        at = self.clock()
        self.node(scope).require_active()
        cid = case_id(case_no.strip() if isinstance(case_no, str) else "")
        if self._find(Case, cid) is not None:
            raise DuplicateCode(f"Case {case_no} is already open.",
                                "Use that case, or give another case number.")
        source, identity, person = None, None, None
        if source_case is not None or source_person is not None:
            if source_case is None or source_person is None or hid or rid or name or phone \
                    or id_number or address:
                raise InvalidInput("A case opened from a contact names that contact only.",
                                   "Give source_case and source_person, and no index "
                                   "details (they are the contact's).")
            source = self.case(source_case)
            contact = source.contact(source_person)
            person = contact.person_id  # what is known of them stays in the source case
            hid, rid = contact.household_id, contact.resident_id
        elif name or phone or id_number or address:
            if hid is not None or rid is not None:
                raise InvalidInput("The index is either a resident or a person outside the "
                                   "register.", "Give hid and rid, or what is known.")
            identity = traced_identity(cid, name, phone, id_number, address)
        if hid is not None and rid is not None and source is None:
            self.household(hid).require_identifiable(rid)
        case = Case.open(case_no, scope, confirmed=confirmed, reason=reason,
                         index_identity=identity, index_household_id=hid, index_resident_id=rid,
                         index_person_id=person, source_case_id=source_case,
                         by=staff_of(by), at=at)
        changed: list[Aggregate | None] = [case, self._listed(case.index_key, case.id, at)]
        if source is not None and person is not None:
            source.link_case(person, case.id, at)
            changed.append(source)
        if confirmed:
            changed.extend(self._confirmed(case, source, by, at))
        return self._save(*changed)

    @command
    def confirm_case(self, case_id: UUID, *, by: Actor, reason: str = "") -> int | None:
        """The index is a confirmed case (确诊): the secondary contacts exposed to them in the
        case they came from become close contacts. Confirming twice changes nothing."""
        at = self.clock()
        case = self.case(case_id)
        if not case.confirm(staff_of(by), reason, at):
            return None
        source = self.case(case.source_case_id) if case.source_case_id else None
        return self._save(case, *self._confirmed(case, source, by, at))

    @command
    def rule_out_case(self, case_id: UUID, reason: str, *, by: Actor) -> int | None:
        """The index is no case (排除): its contacts are released as the policy says."""
        at = self.clock()
        case = self.case(case_id)
        policy = self.policy_at(at)
        released = case.rule_out(staff_of(by), reason, policy, at)
        touched: dict[UUID, Household] = {}
        target = Measure(policy.ruled_out_release_to)
        actor = staff_of(by)
        assert actor is not None  # no system actor rules a case out (gridcore.authority)
        role = self.staff(actor).role
        for c in released:
            h = self._resident_household(c, touched)
            if h is None or c.resident_id is None or self._followed_elsewhere(
                    c.resident_id, case.id):
                continue
            h.release_measure(c.resident_id, c.measure, target, by=staff_of(by), role=role,
                              reason=f"流调 {case.case_no}: 指示病例排除 index ruled out",
                              override_reason="指示病例已排除 index case ruled out",
                              policy=policy, at=at)
            r = h.residents[c.resident_id]
            for kind in (TagKind.CLOSE_CONTACT, TagKind.SECONDARY_CONTACT):
                if kind in r.tags:
                    h.untag(c.resident_id, kind, by=staff_of(by), role=role,
                            reason=f"流调 {case.case_no}: 指示病例排除 index ruled out",
                            policy=policy, at=at)
        return self._save(case, *touched.values())

    # ---- contacts -------------------------------------------------------------------------

    @command(replay=_replay_exposure)
    def record_exposure(self, case_id: UUID, exposed_at: datetime, setting: Setting | str,
                        place: str, closeness: Closeness | str, *, by: Actor,
                        via: UUID | None = None, person_id: UUID | None = None,
                        hid: UUID | None = None, rid: UUID | None = None,
                        name: str | None = None, phone: str | None = None,
                        id_number: str | None = None,
                        address: str | None = None) -> ExposureRecording:
        """Record an exposure of a contact to the index (``via`` None) or to a close contact
        of the case (``via``: their person id): a contact already traced (``person_id``), a
        resident of the register (``hid``, ``rid``) or a person outside it (what is known;
        kept to be located). The contact's measure follows their latest exposure."""
        at = self.clock()
        exposed = self.check_time(exposed_at, "exposure time")
        s = parse_enum(Setting, setting, "setting")
        k = parse_enum(Closeness, closeness, "closeness")
        case = self.case(case_id)
        given = [person_id is not None, hid is not None or rid is not None,
                 any(v for v in (name, phone, id_number, address))]
        if sum(given) != 1:
            raise InvalidInput("The contact is not named exactly one way.",
                               "Give person_id (a contact already traced), or hid and rid (a "
                               "resident), or what is known of a person outside the register.")
        identity = None
        if person_id is not None:
            case.contact(person_id)
            pid = person_id
        else:
            pid = case.next_person_id()
            if hid is not None or rid is not None:
                if hid is None or rid is None:
                    raise InvalidInput("A resident contact names both household and resident.",
                                       "Give hid and rid together.")
                self.household(hid).require_identifiable(rid)
            else:
                identity = traced_identity(pid, name, phone, id_number, address)
        policy = self.policy_at(at)
        contact = case.record_exposure(
            person_id=pid, identity=identity, household_id=hid, resident_id=rid, via=via,
            exposed_at=exposed, setting=s, place=place, closeness=k,
            upstream=self._upstream(case, via), by=staff_of(by), policy=policy,
            at=at)
        touched: dict[UUID, Household] = {}
        staff = self._consequences(case, contact, by, policy, at, touched)
        nid = self._save(case, self._listed(contact.key, case.id, at), *touched.values(),
                         *staff)
        return ExposureRecording(pid, contact.generation, nid)

    @command(replay=_replay_match)
    def match_contact(self, case_id: UUID, person_id: UUID, hid: UUID, rid: UUID, *,
                      by: Actor) -> MatchOutcome:
        """Match a traced person to a resident of the register (落地): by the same ID
        number, phone, or name with address. A certain match applies at once (the tag and
        the measure follow); an uncertain one is only proposed."""
        at = self.clock()
        case = self.case(case_id)
        h = self.household(hid)
        r = h.require_identifiable(rid)
        case.contact(person_id)
        applied = case.match(person_id, hid, rid, r.identity, h.address.text,
                             self._related(case, person_id),
                             staff_of(by), at)
        touched: dict[UUID, Household] = {}
        staff: list[Aggregate | None] = []
        if applied:
            staff = [self._listed(rid, case.id, at),
                     *self._consequences(case, case.contact(person_id), by,
                                         self.policy_at(at), at, touched)]
        return MatchOutcome(applied, self._save(case, *touched.values(), *staff))

    @command
    def confirm_match(self, case_id: UUID, person_id: UUID, *, by: Actor) -> int | None:
        """A person confirms a proposed match: it applies now (the tag and the measure)."""
        at = self.clock()
        case = self.case(case_id)
        case.contact(person_id)
        proposal = case.proposal_of(person_id)
        self.household(proposal.household_id).require_identifiable(proposal.resident_id)
        case.confirm_match(person_id, self._related(case, person_id),
                           staff_of(by), at)
        touched: dict[UUID, Household] = {}
        staff = self._consequences(case, case.contact(person_id), by, self.policy_at(at), at,
                                   touched)
        return self._save(case, self._listed(proposal.resident_id, case.id, at),
                          *touched.values(), *staff)

    @command
    def reject_match(self, case_id: UUID, person_id: UUID, reason: str, *,
                     by: Actor) -> int | None:
        """A person rejects a proposed match: the contact stays to be located."""
        case = self.case(case_id)
        case.reject_match(person_id, reason, staff_of(by), self.clock())
        return self._save(case)

    # ---- queries --------------------------------------------------------------------------

    def case(self, case_id: UUID) -> Case:
        return self._get(Case, case_id, f"case {case_id}",
                         "Check the id, or open the case first (open_case).")

    def case_by_no(self, case_no: str) -> Case:
        return self.case(case_id(case_no))

    def contacts_by_generation(self, case_id: UUID) -> dict[Generation, list[Contact]]:
        """A case's close contacts (generation 1) and secondary contacts (generation 2)."""
        return self.case(case_id).by_generation()

    def contacts_to_locate(self, case_id: UUID) -> list[Contact]:
        """A case's contacts outside the register, not yet matched (待落地排查)."""
        return self.case(case_id).to_locate()

    def chain(self, case_id: UUID) -> list[ChainLink]:
        """The chain around a case by generation: the cases it came from (negative
        generations, nearest first), the case itself (0), and the cases its contacts
        became, and theirs (positive generations, breadth first)."""
        start = self.case(case_id)
        up: list[ChainLink] = []
        current, generation, seen = start, 0, {start.id}
        while current.source_case_id is not None and current.source_person_id is not None:
            parent = self.case(current.source_case_id)
            if parent.id in seen:
                break
            seen.add(parent.id)
            generation -= parent.contact(current.source_person_id).generation
            up.append(ChainLink(parent.id, parent.case_no, generation, parent.status.value))
            current = parent
        links = [*reversed(up), ChainLink(start.id, start.case_no, 0, start.status.value)]
        queue = [(start, 0)]
        while queue:
            case, depth = queue.pop(0)
            for c in case.contacts.values():
                if c.became_case is None or c.became_case in seen:
                    continue
                seen.add(c.became_case)
                child = self.case(c.became_case)
                links.append(ChainLink(child.id, child.case_no, depth + c.generation,
                                       child.status.value))
                queue.append((child, depth + c.generation))
        return links

    # ---- helpers --------------------------------------------------------------------------

    def _upstream(self, case: Case, via: UUID | None) -> list[UUID]:
        """Everyone an exposure in ``case`` through ``via`` descends from, across every case
        (``gridcore.tracing.reachable``, read through each person's ``PersonCases``)."""
        return reachable(case.source_of(via), self._links(case, Case.sources_of))

    def _related(self, case: Case, person_id: UUID) -> list[UUID]:
        """Whom a traced person may not be matched to: everyone upstream of them and
        everyone downstream (their contacts, the cases those became...)."""
        via = case.contact(person_id).via
        return [*self._upstream(case, via),
                *reachable(person_id, self._links(case, Case.targets_of))]

    def _links(self, case: Case,
               step: Callable[[Case, UUID], list[UUID]]) -> Callable[[UUID], list[UUID]]:
        def links(key: UUID) -> list[UUID]:
            listed = self._find(PersonCases, person_cases_id(key), for_reading=True)
            found: list[UUID] = []
            for cid in listed.cases if listed else []:
                other = case if cid == case.id else self._find(Case, cid, for_reading=True)
                found.extend(step(other, key) if other else [])
            return found
        return links

    def _followed_elsewhere(self, key: UUID, cid: UUID) -> bool:
        """Whether the person is the index of another case not ruled out, or a contact of
        one still followed up: ruling one case out then leaves their tags and measure."""
        listed = self._find(PersonCases, person_cases_id(key), for_reading=True)
        for other_id in listed.cases if listed else []:
            other = (self._find(Case, other_id, for_reading=True) if other_id != cid
                     else None)
            if other is not None and other.is_active and (
                    other.index_key == key or any(c.key == key and not c.released
                                                  for c in other.contacts.values())):
                return True
        return False

    def _listed(self, key: UUID, cid: UUID, at: datetime) -> PersonCases | None:
        """The person's list of cases with ``cid`` added (None: it was listed already)."""
        listed = (self._find(PersonCases, person_cases_id(key))
                  or PersonCases.start(key, at))
        return listed if listed.add(cid, at) else None

    def cases_of(self, key: UUID) -> list[Case]:
        """The cases a person is the index or a contact of (a resident id, or a traced
        person's id), oldest first."""
        listed = self._find(PersonCases, person_cases_id(key), for_reading=True)
        return [self.case(cid) for cid in (listed.cases if listed else [])]

    def _cases_erased_with_resident(self, household: Household, rid: UUID,
                                    at: datetime) -> list[Aggregate]:
        """What cases hold of the resident is shredded with them (an erasure participant,
        see ``GridcoreApp._erasure_participants``): in every case the resident is listed in
        (as the index or a matched contact), the traced identity of that person (what was
        known of them before the match) has its key destroyed in the same transaction. The
        case keeps its links by id; a case holding nothing of them is left alone."""
        listed = self._find(PersonCases, person_cases_id(rid), for_reading=True)
        found: list[Aggregate] = []
        for cid in listed.cases if listed else []:
            case = self._find(Case, cid)
            if case is not None and case.erase_identities_of(
                    rid, "随居民删除 erased with the resident", at):
                found.append(case)
        return found

    def _role(self, by: Actor) -> Role | None:
        return self.staff(by).role if isinstance(by, UUID) else None

    def _resident_household(self, c: Contact,
                            touched: dict[UUID, Household]) -> Household | None:
        """The household of a matched contact who is still a member of it (each household
        loaded once per command), else None."""
        if c.household_id is None or c.resident_id is None:
            return None
        h = touched.get(c.household_id)
        if h is None:
            try:
                h = self.household(c.household_id)
            except NotFound:
                return None
            touched[c.household_id] = h
        return h if c.resident_id in h.residents else None

    def _consequences(self, case: Case, c: Contact, by: Actor, policy: Policy,
                      at: datetime, touched: dict[UUID, Household]) -> list[Aggregate]:
        """A resident contact gets the tag of their kind and the policy's measure (when
        stricter than what they have), decided by ``by``; returns the staff aggregates
        changed (a close contact who is staff stops working)."""
        h = self._resident_household(c, touched)
        if h is None or c.resident_id is None or c.released:
            return []
        rid, role, who = c.resident_id, self._role(by), staff_of(by)
        r = h.residents[rid]
        if r.health is Health.DECEASED:
            return []
        stops = None
        if c.kind not in r.tags and not (c.kind is TagKind.SECONDARY_CONTACT
                                         and TagKind.CLOSE_CONTACT in r.tags):
            stops = h.tag(rid, Tag(kind=c.kind, note=f"流调 {case.case_no}"), by=who,
                          role=role, policy=policy, at=at)
        if c.kind is TagKind.CLOSE_CONTACT and TagKind.SECONDARY_CONTACT in r.tags \
                and role in policy.medical_roles | {Role.OFFICIAL}:
            h.untag(rid, TagKind.SECONDARY_CONTACT, by=who, role=role,
                    reason=f"流调 {case.case_no}: 升为密接 promoted to close contact",
                    policy=policy, at=at)
        reason = f"流调 {case.case_no}: {c.kind.label}，至 {c.until:%Y-%m-%d}"
        if c.until <= at:
            pass  # the period is served already: nothing to impose or extend
        elif c.measure.rank > r.measure.rank:
            since = measure_start(c.last_exposure, at, r.measure_changed_at, policy)
            h.change_measure(
                rid, c.measure, by=who, role=role, policy=policy, at=at, reason=reason,
                since=since, since_reason="流调: 末次暴露 last exposure" if since else "",
                until=c.until)
        elif c.measure is r.measure and role is not None:
            # the same measure already in force: it lasts at least to the contact's end
            h.extend_measure(rid, c.until, by=who, role=role, reason=reason, policy=policy,
                             at=at)
        if stops is not None:
            return self._make_unavailable(self.staff(stops), "密接 close contact", at)
        return []

    def _confirmed(self, case: Case, source: Case | None, by: Actor,
                   at: datetime) -> list[Aggregate]:
        """What a confirmation changes beyond the case: the source case's secondary
        contacts exposed to the index are promoted (and, if residents, tagged and measured
        as close contacts); a resident index's health becomes confirmed where allowed."""
        policy = self.policy_at(at)
        touched: dict[UUID, Household] = {}
        changed: list[Aggregate] = []
        if source is not None and case.source_person_id is not None:
            for c in source.promote_contacts_of(case.source_person_id, case.id, staff_of(by),
                                                policy, at):
                changed.extend(self._consequences(source, c, by, policy, at, touched))
            changed.insert(0, source)
        hid, rid = case.index_household_id, case.index_resident_id
        if hid is not None and rid is not None:
            h = touched.get(hid) or self._find(Household, hid)
            if h is not None and rid in h.residents:
                touched[hid] = h
                if Health.CONFIRMED in HEALTH_TRANSITIONS[h.residents[rid].health]:
                    h.change_health(rid, Health.CONFIRMED, by=staff_of(by),
                                    role=self._role(by),
                                    reason=f"流调 {case.case_no}: 确诊 confirmed",
                                    policy=policy, at=at)
        return [*touched.values(), *changed]
