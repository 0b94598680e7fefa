"""Contact tracing (流调与密接管理): an index case (病例), the people exposed to it, and the
chain of cases that follow.

One aggregate per index case (``Case``, its id derived from the case number). It holds the
index person, the case it came from (when the index was a contact in another case), its
status (suspected, confirmed, ruled out) and its contacts: close contacts (密接, generation 1,
exposed to the index) and secondary contacts (次密接, generation 2, exposed to a close
contact). A contact is a resident of the register once matched (by ID number, phone, or name
with address; an uncertain match is only proposed until a person confirms it), else a person
outside it, to be located. What is known of a person outside the register (name, phone, ID
number, address) is a :class:`TracedIdentity`, sealed with that person's own key as a
resident's identity is.

The rules are pure functions with the time and the policy passed in: the measure a contact
gets (``contact_measure``: from the LAST exposure, for the policy's length and kind), the
generation of a contact (``generation_of``), no cycle (``check_no_cycle``), and how sure a
match is (``match_basis``). The chain across cases (up to the case a case came from, down
to the cases its contacts became) is read by the application from the cases' links.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Immutable, Personal, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput
from gridcore.identity import IdNumber, Phone, ResidentIdentity
from gridcore.policy import Policy
from gridcore.status import Measure, TagKind
from gridcore.text import free_text


class CaseStatus(StrEnum):
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    RULED_OUT = "ruled_out"

    @property
    def label(self) -> str:
        return CASE_STATUS_LABELS[self]


CASE_STATUS_LABELS = {
    CaseStatus.SUSPECTED: "疑似 suspected",
    CaseStatus.CONFIRMED: "确诊 confirmed",
    CaseStatus.RULED_OUT: "排除 ruled out",
}


class Setting(StrEnum):
    HOUSEHOLD = "household"
    WORKPLACE = "workplace"
    GATHERING = "gathering"
    TRANSPORT = "transport"

    @property
    def label(self) -> str:
        return SETTING_LABELS[self]


SETTING_LABELS = {
    Setting.HOUSEHOLD: "同住 household",
    Setting.WORKPLACE: "工作场所 workplace",
    Setting.GATHERING: "聚集活动 gathering",
    Setting.TRANSPORT: "交通工具 transport",
}


class Closeness(StrEnum):
    SHARED_LIVING = "shared_living"
    FACE_TO_FACE = "face_to_face"
    SAME_SPACE = "same_space"

    @property
    def label(self) -> str:
        return CLOSENESS_LABELS[self]


CLOSENESS_LABELS = {
    Closeness.SHARED_LIVING: "共同居住 lived together",
    Closeness.FACE_TO_FACE: "近距离无防护 face to face, unprotected",
    Closeness.SAME_SPACE: "同一空间 same enclosed space",
}


class Generation(IntEnum):
    """A person's distance from the index case in the case's chain."""

    INDEX = 0
    CLOSE = 1
    SECONDARY = 2


class MatchBasis(StrEnum):
    ID_NUMBER = "id_number"
    PHONE = "phone"
    NAME_ADDRESS = "name_address"


class TracedIdentity(Personal):
    """What is known of a traced person outside the register, sealed with the person's own
    key (``subject_id``: the traced person's id) like a resident's identity."""

    name: str | None = None
    phone: Phone | None = None
    id_number: IdNumber | None = None
    address: str | None = None


# ---- ids ------------------------------------------------------------------------------------

def case_id(case_no: str) -> UUID:
    return stable_id("case", case_no)


def traced_person_id(cid: UUID, n: int) -> UUID:
    """The id of the ``n``-th person a case traced (its index is 0)."""
    return stable_id("traced-person", f"{cid}:{n}")


# ---- rules: pure, the time and the policy passed in -------------------------------------------

def generation_of(via_generation: Generation) -> Generation:
    """A person exposed to the index is a close contact, one exposed to a close contact a
    secondary contact; a secondary contact's own contacts are not traced in this case
    (open a case for that contact when it becomes one)."""
    if via_generation >= Generation.SECONDARY:
        raise InvalidInput("A secondary contact's own contacts are not traced in this case.",
                           "Record the exposure to the index or to one of its close contacts; "
                           "open a case for the secondary contact if they become a case.")
    return Generation(via_generation + 1)


def kind_of(generation: Generation) -> TagKind:
    return TagKind.CLOSE_CONTACT if generation is Generation.CLOSE else TagKind.SECONDARY_CONTACT


def contact_measure(kind: TagKind, last_exposure: datetime,
                    policy: Policy) -> tuple[Measure, datetime]:
    """The measure a contact gets from the policy in force at the decision, and when it
    ends: the policy's length counted from the LAST exposure (a close contact: 14 days of
    centralized quarantine by default; a secondary contact: 7 days at home)."""
    if kind is TagKind.CLOSE_CONTACT:
        measure, days = policy.close_contact_measure, policy.close_contact_days
    else:
        measure, days = policy.secondary_contact_measure, policy.secondary_contact_days
    return Measure(measure), last_exposure + timedelta(days=days)


def measure_start(last_exposure: datetime, at: datetime, last_change: datetime | None,
                  policy: Policy) -> datetime | None:
    """When a contact's measure, recorded at ``at``, counts from: the last exposure, as far
    back as the policy lets a measure be dated (``measure_backdate_hours``) and never before
    the resident's last measure change; None when that is now (it starts when recorded)."""
    start = max(last_exposure, at - timedelta(hours=policy.measure_backdate_hours))
    if last_change is not None:
        start = max(start, last_change)
    return start if start < at else None


def check_no_cycle(person: UUID, upstream: Sequence[UUID]) -> None:
    """A person is never a contact downstream of themself, in any case: ``upstream`` lists
    the people the new exposure descends from (``upstream``: the person it comes from, whom
    they were exposed to, and so on across cases)."""
    if person in upstream:
        raise InvalidInput(
            "This person is upstream of the exposure in the chain (the index, the contact "
            "it came through, or a case the chain came from), or downstream of the contact "
            "matched: recording it would make them their own contact's contact.",
            "Check who was exposed to whom; an earlier link of the chain is recorded in the "
            "case it belongs to.")


def reachable(start: UUID, links: Callable[[UUID], Iterable[UUID]]) -> list[UUID]:
    """Everyone reached from ``start`` by ``links``, ``start`` first. With the people each
    was exposed to (``Case.sources_of`` across every case they are in) these are everyone an
    exposure coming from ``start`` descends from: a new contact among them would close a
    cycle. With whom each exposed (``Case.targets_of``) they are everyone downstream."""
    out, seen, queue = [], {start}, [start]
    while queue:
        key = queue.pop(0)
        out.append(key)
        for source in links(key):
            if source not in seen:
                seen.add(source)
                queue.append(source)
    return out


def _norm(text: str | None) -> str:
    return "".join((text or "").split())


def match_basis(known: TracedIdentity, resident: ResidentIdentity,
                address: str | None) -> tuple[MatchBasis, bool]:
    """On what a traced person matches a resident and whether the match is certain: the
    same ID number is certain (a different one refuses); the same phone is certain with the
    same name, else only probable (a family shares a phone); the same name at the same
    address is certain, at an address containing the other only probable. Anything less
    is refused."""
    if known.id_number and resident.id_number:
        if known.id_number != resident.id_number:
            raise InvalidInput("The ID numbers of the traced person and the resident differ.",
                               "Match the person to another resident, or keep them to be "
                               "located.")
        return MatchBasis.ID_NUMBER, True
    same_name = bool(_norm(known.name)) and _norm(known.name) == _norm(resident.name)
    if known.phone and resident.phone and known.phone == resident.phone:
        return MatchBasis.PHONE, same_name
    here, there = _norm(known.address), _norm(address)
    if same_name and here and there:
        if here == there:
            return MatchBasis.NAME_ADDRESS, True
        if here in there or there in here:
            return MatchBasis.NAME_ADDRESS, False
    raise InvalidInput("Nothing known of the traced person identifies this resident (no "
                       "same ID number, phone, or name with address).",
                       "Give the ID number, phone or address the investigation found, or "
                       "keep the person to be located.")


def traced_identity(person_id: UUID, name: str | None, phone: str | None,
                    id_number: str | None, address: str | None) -> TracedIdentity:
    """What is known of a person outside the register, checked: at least one of name, phone
    or ID number; the phone and ID number well formed; the address without a phone or ID
    number in it."""
    name = free_text(name, "traced person's name", longest=60) or None
    address = free_text(address, "traced person's address", longest=200) or None
    if not (name or phone or id_number):
        raise InvalidInput("Nothing identifies the traced person.",
                           "Give at least a name, a phone or an ID number.")
    try:
        p = Phone.parse(phone) if phone else None
        i = IdNumber.parse(id_number) if id_number else None
    except ValueError as e:
        raise InvalidInput(str(e), "Correct it, or leave it out if unknown.") from None
    return TracedIdentity(subject_id=person_id, name=name, phone=p, id_number=i,
                          address=address)


# ---- state ----------------------------------------------------------------------------------

class Exposure(Immutable):
    at: datetime
    setting: Setting
    place: str
    closeness: Closeness
    recorded_by: UUID | None
    recorded_at: datetime


class Proposal(Immutable):
    household_id: UUID
    resident_id: UUID
    basis: MatchBasis
    by: UUID | None
    at: datetime


class Contact(Immutable):
    """A traced person of a case (its live state, rebuilt from the events)."""

    person_id: UUID
    identity: TracedIdentity | None
    generation: Generation
    kind: TagKind
    via: UUID | None
    """the close contact a secondary contact was exposed to (None: the index)"""
    exposures: tuple[Exposure, ...]
    measure: Measure
    until: datetime
    decided_by: UUID | None
    household_id: UUID | None = None
    resident_id: UUID | None = None
    proposal: Proposal | None = None
    became_case: UUID | None = None
    promoted_by_case: UUID | None = None
    released: bool = False

    @property
    def last_exposure(self) -> datetime:
        return max(e.at for e in self.exposures)

    @property
    def key(self) -> UUID:
        """Who the person is across cases: the resident once matched, else the traced id."""
        return self.resident_id or self.person_id

    @property
    def to_locate(self) -> bool:
        """Outside the register and not yet matched (待落地排查)."""
        return self.resident_id is None


def person_cases_id(key: UUID) -> UUID:
    return stable_id("traced-person-cases", str(key))


class PersonCases(Aggregate):
    """The cases a person (a resident, or a traced person outside the register) is the index
    or a contact of: what the no-cycle rule reads across cases, and a person's cases."""

    key: UUID
    cases: list[UUID]

    class Started(Created):
        key: UUID

        def apply(self, p: PersonCases) -> None:
            p.key, p.cases = self.key, []

    class Listed(Event):
        case_id: UUID

        def apply(self, p: PersonCases) -> None:
            p.cases.append(self.case_id)

    @classmethod
    def start(cls, key: UUID, at: datetime) -> PersonCases:
        return cls._create(cls.Started, person_cases_id(key), at, key=key)

    def add(self, cid: UUID, at: datetime) -> bool:
        """List a case once; returns whether it was new here."""
        if cid in self.cases:
            return False
        self._trigger(self.Listed, at, case_id=cid)
        return True


class Case(Aggregate):
    """One index case and its contacts; ``label`` is what people see."""

    label = "流调 contact tracing case"

    case_no: str
    scope: str
    status: CaseStatus
    index_person_id: UUID
    index_identity: TracedIdentity | None
    index_household_id: UUID | None
    index_resident_id: UUID | None
    source_case_id: UUID | None
    source_person_id: UUID | None
    reason: str
    opened_by: UUID | None
    decided_by: UUID | None
    contacts: dict[UUID, Contact]

    class Opened(Created):
        case_no: str
        scope: str
        status: CaseStatus
        index_person_id: UUID
        index_identity: TracedIdentity | None
        index_household_id: UUID | None
        index_resident_id: UUID | None
        source_case_id: UUID | None
        source_person_id: UUID | None
        reason: str
        by: UUID | None

        def apply(self, c: Case) -> None:
            c.case_no, c.scope, c.status = self.case_no, self.scope, self.status
            c.index_person_id, c.index_identity = self.index_person_id, self.index_identity
            c.index_household_id, c.index_resident_id = (self.index_household_id,
                                                          self.index_resident_id)
            c.source_case_id, c.source_person_id = self.source_case_id, self.source_person_id
            c.reason, c.opened_by, c.decided_by = self.reason, self.by, self.by
            c.contacts = {}

    class ExposureRecorded(Event):
        """An exposure of a contact (new, or one already traced); ``measure`` and ``until``
        are the policy's decision at this time from the contact's last exposure."""

        person_id: UUID
        identity: TracedIdentity | None
        household_id: UUID | None
        resident_id: UUID | None
        via: UUID | None
        generation: Generation
        exposed_at: datetime
        setting: Setting
        place: str
        closeness: Closeness
        measure: Measure
        until: datetime
        by: UUID | None

        def apply(self, c: Case) -> None:
            exposure = Exposure(at=self.exposed_at, setting=self.setting, place=self.place,
                                closeness=self.closeness, recorded_by=self.by,
                                recorded_at=self.timestamp)
            old = c.contacts.get(self.person_id)
            if old is None:
                c.contacts[self.person_id] = Contact(
                    person_id=self.person_id, identity=self.identity,
                    generation=self.generation, kind=kind_of(self.generation), via=self.via,
                    exposures=(exposure,), measure=self.measure, until=self.until,
                    decided_by=self.by, household_id=self.household_id,
                    resident_id=self.resident_id)
            else:
                c.contacts[self.person_id] = old.model_copy(update={
                    "exposures": (*old.exposures, exposure), "measure": self.measure,
                    "until": self.until, "decided_by": self.by, "released": False})

    class MatchProposed(Event):
        """An uncertain match: recorded, not applied, until a person confirms it."""

        person_id: UUID
        household_id: UUID
        resident_id: UUID
        basis: MatchBasis
        by: UUID | None

        def apply(self, c: Case) -> None:
            old = c.contacts[self.person_id]
            c.contacts[self.person_id] = old.model_copy(update={"proposal": Proposal(
                household_id=self.household_id, resident_id=self.resident_id,
                basis=self.basis, by=self.by, at=self.timestamp)})

    class MatchRejected(Event):
        person_id: UUID
        by: UUID | None
        reason: str

        def apply(self, c: Case) -> None:
            old = c.contacts[self.person_id]
            c.contacts[self.person_id] = old.model_copy(update={"proposal": None})

    class ContactMatched(Event):
        """The contact is this resident of the register (``confirmed``: a proposal a person
        confirmed; else a certain match)."""

        person_id: UUID
        household_id: UUID
        resident_id: UUID
        basis: MatchBasis
        confirmed: bool
        by: UUID | None

        def apply(self, c: Case) -> None:
            old = c.contacts[self.person_id]
            c.contacts[self.person_id] = old.model_copy(update={
                "household_id": self.household_id, "resident_id": self.resident_id,
                "proposal": None})

    class ContactOpenedAsCase(Event):
        """A contact of this case became an index case of its own (the chain goes down)."""

        person_id: UUID
        case_id: UUID

        def apply(self, c: Case) -> None:
            old = c.contacts[self.person_id]
            c.contacts[self.person_id] = old.model_copy(update={"became_case": self.case_id})

    class ContactPromoted(Event):
        """A secondary contact becomes a close contact: the close contact they were exposed
        to became a confirmed case (``because_case_id``)."""

        person_id: UUID
        because_case_id: UUID
        measure: Measure
        until: datetime
        by: UUID | None

        def apply(self, c: Case) -> None:
            old = c.contacts[self.person_id]
            c.contacts[self.person_id] = old.model_copy(update={
                "kind": TagKind.CLOSE_CONTACT, "promoted_by_case": self.because_case_id,
                "measure": self.measure, "until": self.until, "decided_by": self.by})

    class Confirmed(Event):
        by: UUID | None
        reason: str

        def apply(self, c: Case) -> None:
            c.status, c.decided_by = CaseStatus.CONFIRMED, self.by

    class RuledOut(Event):
        """The index is no case: its contacts' follow-up ends (``released``: the people
        still followed up), their measures released to ``release_to`` by the policy."""

        by: UUID | None
        reason: str
        released: list[UUID]
        release_to: Measure

        def apply(self, c: Case) -> None:
            c.status, c.decided_by = CaseStatus.RULED_OUT, self.by
            for pid in self.released:
                c.contacts[pid] = c.contacts[pid].model_copy(update={"released": True})

    class IdentityErased(Event):
        """What the case held of a traced person was shredded with the erasure of the
        resident they were matched to (or who was the index): the keys of ``subjects``
        (traced person ids) are destroyed in the same transaction, their identity reads
        back as erased; the links, generations and measures stay."""

        resident_id: UUID
        subjects: list[UUID]
        reason: str

        @property
        def erased_subject_ids(self) -> list[UUID]:
            """Whose keys the store destroys in the same transaction as this event."""
            return self.subjects

        def apply(self, c: Case) -> None:
            for pid in self.subjects:
                old = c.contacts.get(pid)
                if old is not None and old.identity is not None:
                    c.contacts[pid] = old.model_copy(update={
                        "identity": TracedIdentity(subject_id=old.identity.subject_id,
                                                   erased=True)})
            if c.index_identity is not None and c.index_identity.subject_id in self.subjects:
                c.index_identity = TracedIdentity(subject_id=c.index_identity.subject_id,
                                                  erased=True)

    # ---- decisions ------------------------------------------------------------------------

    @classmethod
    def open(cls, case_no: str, scope: str, *, confirmed: bool, reason: str,
             index_identity: TracedIdentity | None, index_household_id: UUID | None,
             index_resident_id: UUID | None, index_person_id: UUID | None,
             source_case_id: UUID | None, by: UUID | None, at: datetime) -> Case:
        """Open a case for an index person: a resident of the register (household and
        resident), a person outside it (what is known), or a contact of another case
        (``source_case_id`` and ``index_person_id``; what is known of them stays in that case:
        a first event seals only subjects it creates, so it never carries it again)."""
        if source_case_id is not None and index_identity is not None:
            raise InvalidInput("A case opened from a contact carries no identity of its own.",
                               "Give the source case and the contact only.")
        no = case_no.strip() if isinstance(case_no, str) else ""
        if not 1 <= len(no) <= 40:
            raise InvalidInput("The case number is missing or longer than 40 characters.",
                               "Give the investigation's case number, e.g. 'WH-2020-0012'.")
        free_text(no, "case number", longest=40)
        reason = free_text(reason, "reason", longest=200)
        cid = case_id(no)
        if (index_resident_id is None) != (index_household_id is None):
            raise InvalidInput("A resident index names both the household and the resident.",
                               "Give hid and rid together.")
        if index_resident_id is None and index_identity is None and source_case_id is None:
            raise InvalidInput("The index person is neither a resident nor described.",
                               "Give the resident (hid, rid), or what is known of a person "
                               "outside the register (name, phone or ID number).")
        pid = index_person_id or index_resident_id or traced_person_id(cid, 0)
        if index_identity is not None and index_identity.subject_id != pid:
            index_identity = index_identity.model_copy(update={"subject_id": pid})
        return cls._create(
            cls.Opened, cid, at, case_no=no, scope=scope,
            status=CaseStatus.CONFIRMED if confirmed else CaseStatus.SUSPECTED,
            index_person_id=pid, index_identity=index_identity,
            index_household_id=index_household_id, index_resident_id=index_resident_id,
            source_case_id=source_case_id,
            source_person_id=index_person_id if source_case_id else None,
            reason=reason, by=by)

    @property
    def index_key(self) -> UUID:
        """Who the index is across cases: the resident, else the traced person's id."""
        return self.index_resident_id or self.index_person_id

    @property
    def is_active(self) -> bool:
        return self.status is not CaseStatus.RULED_OUT

    def contact(self, person_id: UUID) -> Contact:
        try:
            return self.contacts[person_id]
        except KeyError:
            raise InvalidInput(f"Person {person_id} is no contact of case {self.case_no}.",
                               "Give the id of a contact recorded in this case.") from None

    def contact_of_resident(self, rid: UUID) -> Contact | None:
        return next((c for c in self.contacts.values() if c.resident_id == rid), None)

    def source_of(self, via: UUID | None) -> UUID:
        """Who an exposure through ``via`` comes from: that close contact, else the index."""
        return self.contact(via).key if via is not None else self.index_key

    def sources_of(self, key: UUID) -> list[UUID]:
        """Whom the person ``key`` was exposed to in this case (none: not a contact here),
        and the person's other key here (a traced person matched to a resident is both)."""
        found: list[UUID] = []
        for c in self.contacts.values():
            if key in (c.person_id, c.resident_id):
                found.append(self.source_of(c.via))
                found.extend(k for k in (c.person_id, c.resident_id) if k and k != key)
        return found

    def targets_of(self, key: UUID) -> list[UUID]:
        """Who was exposed to the person ``key`` in this case (the index's close contacts,
        a close contact's secondary contacts), with their other keys."""
        found: list[UUID] = []
        if key in (self.index_person_id, self.index_resident_id):
            found.extend(k for k in (self.index_person_id, self.index_resident_id)
                         if k and k != key)
            vias: list[UUID | None] = [None]
        else:
            vias = [c.person_id for c in self.contacts.values()
                    if key in (c.person_id, c.resident_id)]
            found.extend(k for c in self.contacts.values() if c.person_id in vias
                         for k in (c.person_id, c.resident_id) if k and k != key)
        for c in self.contacts.values():
            if c.via in vias:
                found.extend(k for k in (c.person_id, c.resident_id) if k)
        return found

    def _require_active(self, doing: str) -> None:
        if not self.is_active:
            raise ForbiddenTransition(f"Case {self.case_no} was ruled out.",
                                      f"Do not {doing}; open a new case if needed.")

    def next_person_id(self) -> UUID:
        return traced_person_id(self.id, len(self.contacts) + 1)

    def record_exposure(self, *, person_id: UUID, identity: TracedIdentity | None,
                        household_id: UUID | None, resident_id: UUID | None,
                        via: UUID | None, exposed_at: datetime, setting: Setting,
                        place: str, closeness: Closeness, upstream: Sequence[UUID],
                        by: UUID | None, policy: Policy, at: datetime) -> Contact:
        """Record that ``person_id`` (a contact already traced, or a new one: a resident or
        a person outside the register) was exposed to the index (``via`` None) or to a close
        contact. The contact's measure follows the latest exposure. Returns the contact."""
        self._require_active("record exposures")
        place = free_text(place, "place", longest=120, required=True,
                          example="家中 at home, 公司会议室, K123次列车")
        if exposed_at > at:
            raise InvalidInput("The exposure is dated in the future.",
                               "Give when the exposure happened.")
        old = self.contacts.get(person_id)
        via_generation = Generation.INDEX if via is None else self.contact(via).generation
        generation = generation_of(via_generation)
        if old is not None:
            if old.via != via:
                raise InvalidInput(
                    "This contact was traced through another person in this case.",
                    "Record the exposure through the same person (via), or open a case "
                    "for the contact.")
            key = old.key
        else:
            key = resident_id or person_id
            if resident_id is not None and self.contact_of_resident(resident_id) is not None:
                raise InvalidInput("This resident is already a contact of the case.",
                                   "Record the exposure for the contact already traced "
                                   "(its person id).")
        check_no_cycle(key, upstream)
        kind = old.kind if old is not None else kind_of(generation)
        last = max(exposed_at, old.last_exposure) if old is not None else exposed_at
        measure, until = contact_measure(kind, last, policy)
        self._trigger(self.ExposureRecorded, at, person_id=person_id,
                      identity=identity if old is None else None,
                      household_id=household_id if old is None else None,
                      resident_id=resident_id if old is None else None, via=via,
                      generation=generation, exposed_at=exposed_at, setting=setting,
                      place=place, closeness=closeness, measure=measure, until=until, by=by)
        return self.contacts[person_id]

    def match(self, person_id: UUID, household_id: UUID, resident_id: UUID,
              resident: ResidentIdentity, address: str | None, upstream: Sequence[UUID],
              by: UUID | None, at: datetime) -> bool:
        """Match a contact to a resident: a certain match applies (returns True), an
        uncertain one is only proposed (False)."""
        self._require_active("match contacts")
        c = self.contact(person_id)
        if c.resident_id is not None:
            raise ForbiddenTransition("The contact is already matched to a resident.",
                                      "Nothing to match.")
        if self.contact_of_resident(resident_id) is not None:
            raise InvalidInput("This resident is already a contact of the case.",
                               "Match the person to another resident.")
        check_no_cycle(resident_id, upstream)
        basis, certain = match_basis(
            c.identity or TracedIdentity(subject_id=person_id), resident, address)
        if certain:
            self._trigger(self.ContactMatched, at, person_id=person_id,
                          household_id=household_id, resident_id=resident_id, basis=basis,
                          confirmed=False, by=by)
        else:
            self._trigger(self.MatchProposed, at, person_id=person_id,
                          household_id=household_id, resident_id=resident_id, basis=basis,
                          by=by)
        return certain

    def proposal_of(self, person_id: UUID) -> Proposal:
        p = self.contact(person_id).proposal
        if p is None:
            raise ForbiddenTransition("No match is proposed for this contact.",
                                      "Propose one first (match_contact).")
        return p

    def confirm_match(self, person_id: UUID, upstream: Sequence[UUID], by: UUID | None,
                      at: datetime) -> Proposal:
        """A person confirms the proposed match: it applies now."""
        self._require_active("confirm matches")
        p = self.proposal_of(person_id)
        if self.contact_of_resident(p.resident_id) is not None:
            raise InvalidInput("This resident is already a contact of the case.",
                               "Reject the proposal.")
        check_no_cycle(p.resident_id, upstream)
        self._trigger(self.ContactMatched, at, person_id=person_id,
                      household_id=p.household_id, resident_id=p.resident_id, basis=p.basis,
                      confirmed=True, by=by)
        return p

    def reject_match(self, person_id: UUID, reason: str, by: UUID | None,
                     at: datetime) -> None:
        self.proposal_of(person_id)
        reason = free_text(reason, "reason", longest=200, required=True,
                           example="同名不同人 same name, another person")
        self._trigger(self.MatchRejected, at, person_id=person_id, by=by, reason=reason)

    def link_case(self, person_id: UUID, cid: UUID, at: datetime) -> None:
        """A contact of this case was opened as a case of its own."""
        c = self.contact(person_id)
        if c.became_case is not None:
            raise ForbiddenTransition("This contact was already opened as a case.",
                                      "Use that case.")
        self._trigger(self.ContactOpenedAsCase, at, person_id=person_id, case_id=cid)

    def promote_contacts_of(self, person_id: UUID, because: UUID, by: UUID | None,
                            policy: Policy, at: datetime) -> list[Contact]:
        """The close contact ``person_id`` became a confirmed case: the secondary contacts
        exposed to them become close contacts, with the close contact's measure from their
        last exposure. Idempotent: a contact already promoted is left alone. Returns the
        contacts promoted now."""
        promoted = []
        for c in list(self.contacts.values()):
            if c.via == person_id and c.kind is TagKind.SECONDARY_CONTACT and not c.released:
                measure, until = contact_measure(TagKind.CLOSE_CONTACT, c.last_exposure,
                                                 policy)
                self._trigger(self.ContactPromoted, at, person_id=c.person_id,
                              because_case_id=because, measure=measure, until=until, by=by)
                promoted.append(self.contacts[c.person_id])
        return promoted

    def confirm(self, by: UUID | None, reason: str, at: datetime) -> bool:
        """The index is a confirmed case (确诊); returns whether this changed anything (a
        confirmed case stays confirmed: idempotent)."""
        if self.status is CaseStatus.CONFIRMED:
            return False
        self._require_active("confirm it")
        reason = free_text(reason, "reason", longest=200)
        self._trigger(self.Confirmed, at, by=by, reason=reason)
        return True

    def rule_out(self, by: UUID | None, reason: str, policy: Policy,
                 at: datetime) -> list[Contact]:
        """The index is no case (排除): the contacts still followed up are released to the
        policy's ``ruled_out_release_to``. Idempotent: a case ruled out already changes
        nothing (returns no contact). A confirmed case is not ruled out."""
        if self.status is CaseStatus.RULED_OUT:
            return []
        if self.status is CaseStatus.CONFIRMED:
            raise ForbiddenTransition(f"Case {self.case_no} is confirmed.",
                                      "A confirmed case is not ruled out; correct the "
                                      "diagnosis through the health record.")
        reason = free_text(reason, "reason", longest=200, required=True,
                           example="核酸复检阴性 negative on retest")
        released = [c for c in self.contacts.values() if not c.released]
        self._trigger(self.RuledOut, at, by=by, reason=reason,
                      released=[c.person_id for c in released],
                      release_to=Measure(policy.ruled_out_release_to))
        return [self.contacts[c.person_id] for c in released]

    def erase_identities_of(self, rid: UUID, reason: str, at: datetime) -> bool:
        """Shred what the case holds of the resident ``rid`` (the traced identity of the
        contact matched to them, or of the index): False when it holds nothing left."""
        subjects = [c.identity.subject_id for c in self.contacts.values()
                    if c.resident_id == rid and c.identity is not None
                    and not c.identity.erased]
        if self.index_resident_id == rid and self.index_identity is not None \
                and not self.index_identity.erased:
            subjects.append(self.index_identity.subject_id)
        if not subjects:
            return False
        self._trigger(self.IdentityErased, at, resident_id=rid, subjects=subjects,
                      reason=reason)
        return True

    # ---- queries --------------------------------------------------------------------------

    def by_generation(self) -> dict[Generation, list[Contact]]:
        """The contacts by generation (close, secondary), in the order they were traced."""
        out: dict[Generation, list[Contact]] = {Generation.CLOSE: [], Generation.SECONDARY: []}
        for c in self.contacts.values():
            out[c.generation].append(c)
        return out

    def to_locate(self) -> list[Contact]:
        return [c for c in self.contacts.values() if c.to_locate and not c.released]

    def __repr__(self) -> str:
        return (f"Case(no={self.case_no!r}, status={self.status.value}, "
                f"contacts={len(self.contacts)})")
