"""Residents' requests (群众诉求): filed, classified and graded, handled at the lowest level
that can, escalated up the four-level work system when not resolved in time, answered, rated.

A request is owned first by the community (社区) it was filed in. Each grade has a deadline
(policy ``request_deadline_hours``); when it passes unresolved, ``tick`` escalates the request
one level up (community -> street -> district -> city) and a new deadline, counted from the
escalation, runs at the new level; at the city a missed deadline is recorded once and no
further deadline runs. Each escalation is dated when the deadline passed, not when a tick
noticed it: a tick after a long gap records every deadline missed meanwhile, one level each,
each counted from the one before (``missed_at``). A resolution is answered with a reply; the
resident rates it (1-5), which closes it, and may then reopen it, which starts a new deadline
at the same level; the earlier replies and ratings are kept (``answers``).

What the resident wrote, their contact and the replies are sealed with the request's own key
(subject id = the request id).

The reference a resident follows their request with is a secret: 20 characters of Crockford's
base32 (100 random bits) drawn by the application when the request is filed and shown once, to
the filer. Whoever holds it may read the request, rate the reply and reopen it, without an
account, so nothing guessable may lead to it (an earlier version derived it from the request's
sequential number, and anyone could follow, rate and reopen anyone's request). The request id
is a one-way hash (uuid5) of the reference: it is the index from a reference to its request,
and the events and read models hold only that hash, never the reference itself.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Immutable, Personal, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput, NotPermitted
from gridcore.grid import Level
from gridcore.identity import Phone
from gridcore.policy import DEFAULT_POLICY, Policy


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return _LABELS[type(self).__name__][self.value]


class Channel(_Labelled):
    ONLINE = "online"
    HOTLINE = "hotline"
    CHAT = "chat"
    OPEN311 = "open311"
    """Filed by a client system (the city's message board, a 数字城管 system) through the Open311
    GeoReport v2 endpoint (``graphql_api.open311``); the system is named in the client id."""


class Category(_Labelled):
    SUPPLIES = "supplies"
    MEDICAL = "medical"
    QUARANTINE = "quarantine"
    COMPLAINT = "complaint"
    INFORMATION = "information"
    OTHER = "other"


class Grade(_Labelled):
    URGENT = "urgent"
    NORMAL = "normal"


class RequestStatus(_Labelled):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


_LABELS = {
    "Channel": {"online": "网上平台 online platform", "hotline": "热线 hotline",
                "chat": "微信群 chat group", "open311": "系统对接 Open311 client system"},
    "Category": {"supplies": "物资 supplies", "medical": "就医 medical",
                 "quarantine": "隔离 quarantine", "complaint": "投诉 complaint",
                 "information": "咨询 information", "other": "其他 other"},
    "Grade": {"urgent": "紧急 urgent", "normal": "一般 normal"},
    "RequestStatus": {"open": "待办理 open", "in_progress": "办理中 in progress",
                      "resolved": "已答复 answered", "closed": "已办结 closed"},
}

AWAITING = frozenset({RequestStatus.OPEN, RequestStatus.IN_PROGRESS})
_ACTING = frozenset({"classify", "assign", "escalate", "resolve"})
ALLOWED: dict[RequestStatus, frozenset[str]] = {
    RequestStatus.OPEN: _ACTING, RequestStatus.IN_PROGRESS: _ACTING,
    RequestStatus.RESOLVED: frozenset({"rate"}), RequestStatus.CLOSED: frozenset({"reopen"}),
}
_DONE = {"classify": "reclassified", "assign": "assigned", "escalate": "escalated",
         "resolve": "resolved", "rate": "rated", "reopen": "reopened"}
_ANSWER_FIRST = "Resolve it with a reply first; the resident then rates it."
_REMEDIES = {
    RequestStatus.OPEN: _ANSWER_FIRST, RequestStatus.IN_PROGRESS: _ANSWER_FIRST,
    RequestStatus.RESOLVED: "The resident rates the reply first; a rated request may be reopened.",
    RequestStatus.CLOSED: "It is closed; the resident may reopen it, which starts a new round.",
}

# Crockford's base32: no I, L, O or U, so a reference read out on the hotline is unambiguous.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})
REFERENCE_LENGTH = 20
"""Characters of a reference: 5 bits each, 100 bits in all (beyond any guessing)."""
REFERENCE_BYTES = 13
"""Random bytes a reference is drawn from (104 bits; the last 4 are dropped)."""
_GROUP = 5

# What a resident's text may not carry: control characters (but newline and tab) and the
# invisible marks that reorder how text is shown (a bidirectional override makes a reply or an
# address read differently on a staff screen than what was stored).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                  "\u2066\u2067\u2068\u2069")
_ALLOWED_CONTROLS = frozenset("\n\t")


class RequestDetails(Personal):
    """What the resident asked, and an anonymous resident's phone (masked) and address; for a
    filing under a client id, also its reference and the fingerprint of who filed what, so
    that the same filing retried gets its reference back (sealed with the rest: erased with
    it)."""

    text: str | None = None
    phone: Phone | None = None
    address: str | None = None
    reference: str | None = None
    fingerprint: str | None = None


class Note(Personal):
    """Free text addressed to or written by the resident (a reply, a reason to reopen)."""

    text: str | None = None


class Answer(Immutable):
    """One round's answer, kept after a reopening: the reply and when, whether in time, the
    resident's rating and when, and the reopening that followed it (if any)."""

    answered_at: datetime
    reply: Note
    on_time: bool
    rating: int | None = None
    rated_at: datetime | None = None
    reopened_at: datetime | None = None
    reopen_reason: Note | None = None

    def erased(self) -> Answer:
        """The answer once the request's key is gone: its texts read as erased."""
        gone = Note(subject_id=self.reply.subject_id, erased=True)
        reason = None if self.reopen_reason is None else gone
        return self.model_copy(update={"reply": gone, "reopen_reason": reason})


# ---- the rules -------------------------------------------------------------------------------

def new_reference(random: bytes) -> str:
    """A request's reference from ``REFERENCE_BYTES`` random bytes (the application draws them
    from ``secrets``): 20 base32 characters in groups of five, e.g. ``7KQ2M-9XT2H-DR4PA-6WQ1C``.
    Nothing about the request goes into it, so none of it can be worked out."""
    if len(random) < REFERENCE_BYTES:
        raise ValueError(f"a reference needs {REFERENCE_BYTES} random bytes")
    bits = int.from_bytes(random[:REFERENCE_BYTES], "big") >> (8 * REFERENCE_BYTES
                                                              - 5 * REFERENCE_LENGTH)
    return _grouped("".join(_ALPHABET[(bits >> (5 * i)) & 31]
                            for i in reversed(range(REFERENCE_LENGTH))))


def _grouped(code: str) -> str:
    return "-".join(code[i:i + _GROUP] for i in range(0, len(code), _GROUP))


def normalize_reference(raw: str) -> str:
    """A reference is read case-blind, with or without hyphens or spaces, O as 0 and I or L
    as 1 (Crockford's base32 reading rules). The message never repeats what was given."""
    code = raw.upper().translate(_READ_AS) if isinstance(raw, str) else ""
    if len(code) != REFERENCE_LENGTH or any(c not in _ALPHABET for c in code):
        raise InvalidInput("That is not a request reference.",
                           "Give the 20-character reference from the filing, e.g. "
                           "7KQ2M-9XT2H-DR4PA-6WQ1C (references of 12 characters, from before "
                           "references were made secret, are no longer accepted: ask the "
                           "community about such a request).")
    return _grouped(code)


def request_id(reference: str) -> UUID:
    """The request's id: a one-way hash of its reference (the reference cannot be read back
    from the id, which staff screens and the event log show)."""
    return stable_id("resident-request", normalize_reference(reference))


def request_number(community: str, seq: int) -> str:
    """A request's number is its community's code and its filing sequence, e.g. '...712-000017'."""
    return f"{community}-{seq:06d}"


def deadline_for(grade: Grade, since: datetime, policy: Policy) -> datetime:
    """The deadline is the policy's hours for the grade (urgent 2, normal 24 by default) after
    the current level took the request over (filing, escalation or reopening)."""
    hours = policy.request_deadline_hours.get(
        grade.value, DEFAULT_POLICY.request_deadline_hours[grade.value])
    return since + timedelta(hours=hours)


def is_due(status: RequestStatus, deadline: datetime | None, now: datetime) -> bool:
    """A request escalates when it still awaits action and its deadline is at or before now."""
    return status in AWAITING and deadline is not None and deadline <= now


def missed_at(deadline: datetime, last_change: datetime) -> datetime:
    """When a missed deadline is dated: when it passed, however late a tick records it; but
    never before the request's last recorded change (something done at the old level after
    the deadline passed, before any tick, stays before the escalation in the log's order and
    in time)."""
    return max(deadline, last_change)


def on_time(missed: int, deadline: datetime | None, at: datetime) -> bool:
    """A resolution is within the deadline when no deadline of the current round (since filing
    or the last reopening) was missed and it came at or before the deadline in force."""
    return missed == 0 and deadline is not None and at <= deadline


def check_transition(status: RequestStatus, action: str) -> None:
    """Open and in-progress requests are classified, assigned, escalated and resolved; resolved
    ones are rated (which closes them); closed ones may be reopened (the issue's lifecycle)."""
    if action not in ALLOWED[status]:
        raise ForbiddenTransition(
            f"A request that is {status.label} cannot be {_DONE[action]}.", _REMEDIES[status])


def check_text(text: str, what: str, longest: int = 2000) -> str:
    """A request, a reply, a reason or an address is 2 to 2000 characters of text without
    control characters (newlines and tabs are text; a CR LF is kept as a newline) and without
    the invisible marks that reorder how text is shown (bidirectional embeddings, overrides,
    isolates and direction marks): what staff read must be what the resident wrote."""
    stripped = text.replace("\r\n", "\n").strip() if isinstance(text, str) else ""
    if not 2 <= len(stripped) <= longest:
        raise InvalidInput(f"The {what} is empty, too short or too long.",
                           f"Write the {what} in 2-{longest} characters.")
    for at, c in enumerate(stripped):
        if c in _BIDI or (unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")
                          and c not in _ALLOWED_CONTROLS):
            kind = ("a bidirectional formatting mark" if c in _BIDI
                    else "a control character")
            raise InvalidInput(
                f"The {what} contains {kind} (U+{ord(c):04X}) at position {at}.",
                f"Write the {what} as plain text: newlines and tabs are fine, other control "
                "characters and the marks that reorder text (U+200E, U+200F, U+061C, "
                "U+202A-U+202E, U+2066-U+2069) are not.")
    return stripped


def check_rating(rating: int) -> None:
    """A rating is a whole number from 1 (very dissatisfied) to 5 (very satisfied)."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise InvalidInput(f"Rating {rating!r} is out of range.",
                           "Rate with a whole number from 1 (不满意) to 5 (非常满意).")


def check_handler(owner_code: str, jurisdiction_chain: list[str], staff: str) -> None:
    """The level that owns a request acts on it: its handler's jurisdiction is the owning node
    or lies under it (a community worker still helps once the street owns the request)."""
    if owner_code not in jurisdiction_chain:
        raise NotPermitted(
            f"{staff} works outside {owner_code}, which owns the request.",
            f"Choose a staff member whose jurisdiction is {owner_code} or lies under it.",
        )


# ---- the aggregate ---------------------------------------------------------------------------

class ResidentRequest(Aggregate):
    number: str
    client_id: str | None
    community: str
    channel: Channel
    category: Category
    grade: Grade
    household_id: UUID | None
    resident_id: UUID | None
    details: RequestDetails
    status: RequestStatus
    owner_code: str
    level: Level
    owners: list[tuple[datetime, str]]
    since: datetime
    deadline: datetime | None
    missed: int
    escalations: int
    assignee: UUID | None
    reply: Note | None
    resolved_by: UUID | None
    on_time: bool | None
    ratings: list[int]
    reopenings: list[Note]
    answers: list[Answer]
    """Every reply so far with its rating and reopening, oldest first (a reopening clears
    ``reply``, not this)."""

    class Filed(Created):
        """v2: the reference is no longer stored (the request id is its hash)."""

        class_version: ClassVar[int] = 2

        number: str
        client_id: str | None = None
        community: str
        channel: Channel
        category: Category
        grade: Grade
        household_id: UUID | None
        resident_id: UUID | None
        details: RequestDetails
        deadline: datetime

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """v1 stored the reference in plain; it was derived from the request's number, so
            it is dropped (such a request can no longer be followed by reference: anyone
            could work it out; staff still see and handle it)."""
            state.pop("reference", None)

        def apply(self, r: ResidentRequest) -> None:
            r.number, r.community = self.number, self.community
            r.client_id = self.client_id
            r.channel, r.category, r.grade = self.channel, self.category, self.grade
            r.household_id, r.resident_id, r.details = (
                self.household_id, self.resident_id, self.details)
            r.status, r.owner_code, r.level = RequestStatus.OPEN, self.community, Level.COMMUNITY
            r.owners, r.since = [(self.timestamp, self.community)], self.timestamp
            r.deadline, r.missed, r.escalations = self.deadline, 0, 0
            r.assignee, r.reply, r.resolved_by, r.on_time = None, None, None, None
            r.ratings, r.reopenings, r.answers = [], [], []

    class Reclassified(Event):
        category: Category
        grade: Grade
        deadline: datetime | None

        def apply(self, r: ResidentRequest) -> None:
            r.category, r.grade, r.deadline = self.category, self.grade, self.deadline

    class Assigned(Event):
        staff_id: UUID

        def apply(self, r: ResidentRequest) -> None:
            r.assignee, r.status = self.staff_id, RequestStatus.IN_PROGRESS

    class Escalated(Event):
        """The deadline passed unresolved: the next level up owns the request (the assignee,
        who belongs to the level below, is released)."""

        from_code: str
        to_code: str
        to_level: Level
        missed_deadline: datetime
        deadline: datetime

        def apply(self, r: ResidentRequest) -> None:
            r.owner_code, r.level, r.deadline = self.to_code, self.to_level, self.deadline
            r.owners.append((self.timestamp, self.to_code))
            r.since = self.timestamp
            r.assignee, r.status = None, RequestStatus.OPEN
            r.missed, r.escalations = r.missed + 1, r.escalations + 1

    class DeadlineMissed(Event):
        """The deadline passed at the top level (the city): recorded once; none runs after."""

        missed_deadline: datetime

        def apply(self, r: ResidentRequest) -> None:
            r.deadline = None
            r.missed += 1

    class Resolved(Event):
        by: UUID
        reply: Note
        on_time: bool

        def apply(self, r: ResidentRequest) -> None:
            r.status, r.resolved_by = RequestStatus.RESOLVED, self.by
            r.reply, r.on_time = self.reply, self.on_time
            r.answers.append(Answer(answered_at=self.timestamp, reply=self.reply,
                                    on_time=self.on_time))

    class Rated(Event):
        rating: int

        def apply(self, r: ResidentRequest) -> None:
            r.ratings.append(self.rating)
            r.status = RequestStatus.CLOSED
            if r.answers:
                r.answers[-1] = r.answers[-1].model_copy(
                    update={"rating": self.rating, "rated_at": self.timestamp})

    class Reopened(Event):
        reason: Note
        deadline: datetime

        def apply(self, r: ResidentRequest) -> None:
            r.reopenings.append(self.reason)
            if r.answers:
                r.answers[-1] = r.answers[-1].model_copy(
                    update={"reopened_at": self.timestamp, "reopen_reason": self.reason})
            r.status = RequestStatus.IN_PROGRESS if r.assignee else RequestStatus.OPEN
            r.deadline, r.missed, r.since = self.deadline, 0, self.timestamp
            r.reply, r.resolved_by, r.on_time = None, None, None

    class DetailsErased(Event):
        """The request's key was destroyed with its resident's erasure: what was asked, the
        contact and the replies read back as erased; the counts stay."""

        reason: str

        @property
        def erased_subject_ids(self) -> list[UUID]:
            return [self.originator_id]

        def apply(self, r: ResidentRequest) -> None:
            sid = r.details.subject_id
            r.details = RequestDetails(subject_id=sid, erased=True)
            if r.reply is not None:
                r.reply = Note(subject_id=r.reply.subject_id, erased=True)
            r.reopenings = [Note(subject_id=n.subject_id, erased=True) for n in r.reopenings]
            r.answers = [a.erased() for a in r.answers]

    def erase_details(self, reason: str, at: datetime) -> None:
        if not self.details.erased:
            self._trigger(self.DetailsErased, at, reason=reason)

    @classmethod
    def file(cls, number: str, reference: str, community: str, channel: Channel,
             category: Category, grade: Grade, details: RequestDetails, policy: Policy,
             at: datetime, household_id: UUID | None = None, resident_id: UUID | None = None,
             client_id: str | None = None) -> ResidentRequest:
        return cls._create(
            cls.Filed, request_id(reference), at, number=number, client_id=client_id,
            community=community, channel=channel, category=category, grade=grade,
            household_id=household_id, resident_id=resident_id, details=details,
            deadline=deadline_for(grade, at, policy),
        )

    def reference_for_retry(self, client_id: str, fingerprint: str) -> str:
        """The reference, to the filer repeating the filing made under ``client_id`` (the same
        fingerprint) only; anyone else presenting that client id learns nothing of it."""
        kept = self.details
        if kept.erased or kept.fingerprint != fingerprint or not kept.reference:
            raise InvalidInput(
                f"Client id {client_id[:40]!r} was already used for another filing.",
                "Generate a new client id for each new filing; a retry must repeat the first "
                "filing exactly (same phone or household, same text).")
        return kept.reference

    @property
    def rating(self) -> int | None:
        """The latest rating while the request is closed (a reopened one awaits a new one)."""
        return self.ratings[-1] if self.status is RequestStatus.CLOSED else None

    @property
    def label(self) -> str:
        return f"群众诉求 resident request {self.number} ({self.status.label})"

    def reclassify(self, category: Category, grade: Grade, policy: Policy, at: datetime) -> None:
        check_transition(self.status, "classify")
        if (category, grade) == (self.category, self.grade):
            raise InvalidInput(f"The request is already {category.label}, {grade.label}.",
                               "Give a different category or grade.")
        deadline = self.deadline
        if grade is not self.grade and deadline is not None:
            deadline = deadline_for(grade, self.since, policy)
        self._trigger(self.Reclassified, at, category=category, grade=grade, deadline=deadline)

    def assign(self, staff_id: UUID, at: datetime, *, staff_no: str, available: bool,
               jurisdiction_chain: list[str]) -> None:
        """Give the open request to an available staff member of the level that owns it
        (``jurisdiction_chain``: their node and its ancestors)."""
        if not available:
            raise InvalidInput(f"Staff member {staff_no} is unavailable.",
                               "Assign an available colleague.")
        check_handler(self.owner_code, jurisdiction_chain, staff_no)
        check_transition(self.status, "assign")
        if staff_id == self.assignee:
            raise InvalidInput("The request is already assigned to that staff member.",
                               "Assign someone else, or leave it.")
        self._trigger(self.Assigned, at, staff_id=staff_id)

    @property
    def overdue_since(self) -> datetime | None:
        """When the deadline in force counts as missed (``missed_at``); None without one."""
        return None if self.deadline is None else missed_at(self.deadline, self.modified_on)

    def _missed(self, now: datetime) -> tuple[datetime, datetime]:
        """The deadline in force, passed at ``now``, and when it is dated as missed."""
        check_transition(self.status, "escalate")
        if self.deadline is None or not is_due(self.status, self.deadline, now):
            raise ForbiddenTransition(f"The request's deadline has not passed at {now}.",
                                      "Escalate it once its deadline has passed.")
        return self.deadline, missed_at(self.deadline, self.modified_on)

    def escalate(self, to_code: str, to_level: Level, policy: Policy, now: datetime) -> None:
        """Its deadline passed unresolved (seen at ``now``): the next level up owns it from
        when the deadline passed (``overdue_since``), with a new deadline counted from then
        by ``policy``, the one in force then. A tick after a long gap calls this once per
        deadline missed meanwhile."""
        deadline, at = self._missed(now)
        self._trigger(self.Escalated, at, from_code=self.owner_code, to_code=to_code,
                      to_level=to_level, missed_deadline=deadline,
                      deadline=deadline_for(self.grade, at, policy))

    def miss_deadline(self, now: datetime) -> None:
        """Its deadline passed at the top level (seen at ``now``): recorded once, dated when
        it passed; no deadline runs after."""
        deadline, at = self._missed(now)
        self._trigger(self.DeadlineMissed, at, missed_deadline=deadline)

    def resolve(self, by: UUID, reply: str, at: datetime, *, staff_no: str,
                jurisdiction_chain: list[str]) -> None:
        """Answer the resident, by a staff member of the level that owns the request."""
        check_handler(self.owner_code, jurisdiction_chain, staff_no)
        check_transition(self.status, "resolve")
        text = check_text(reply, "reply")
        self._trigger(self.Resolved, at, by=by, reply=Note(subject_id=self.id, text=text),
                      on_time=on_time(self.missed, self.deadline, at))

    def rate(self, rating: int, at: datetime) -> None:
        check_transition(self.status, "rate")
        check_rating(rating)
        self._trigger(self.Rated, at, rating=rating)

    def reopen(self, reason: str, policy: Policy, at: datetime) -> None:
        check_transition(self.status, "reopen")
        text = check_text(reason, "reason to reopen")
        self._trigger(self.Reopened, at, reason=Note(subject_id=self.id, text=text),
                      deadline=deadline_for(self.grade, at, policy))

    def __repr__(self) -> str:
        return (f"ResidentRequest(number={self.number!r}, status={self.status.value}, "
                f"owner={self.owner_code!r})")


# ---- supervision (督办): public statistics without personal data ------------------------------

class RequestStatistics(Immutable):
    """Counts a supervision channel may publish: no names, phones, addresses or texts."""

    total: int
    by_category: dict[Category, int]
    by_grade: dict[Grade, int]
    by_status: dict[RequestStatus, int]
    by_level: dict[str, int]
    escalated: int
    resolved: int
    resolved_on_time: int
    on_time_share: float | None
    ratings: int
    average_rating: float | None


def summarize(requests: Iterable[ResidentRequest]) -> RequestStatistics:
    """Counts by category, grade, status and owning level; the share of answered requests
    answered within their deadline; and the mean of every rating given (a rating given before
    a reopening still counts) -- the supervision channel of the seeds' four-level system."""
    items = list(requests)
    answered = [r for r in items if r.status not in AWAITING]
    in_time = sum(1 for r in answered if r.on_time)
    ratings = [x for r in items for x in r.ratings]
    levels = Counter(r.level.name.lower() for r in items)
    return RequestStatistics(
        total=len(items),
        by_category={c: sum(r.category is c for r in items) for c in Category},
        by_grade={g: sum(r.grade is g for r in items) for g in Grade},
        by_status={s: sum(r.status is s for r in items) for s in RequestStatus},
        by_level={lv.name.lower(): levels[lv.name.lower()]
                  for lv in Level if lv is not Level.MICRO_GRID},
        escalated=sum(1 for r in items if r.escalations),
        resolved=len(answered),
        resolved_on_time=in_time,
        on_time_share=in_time / len(answered) if answered else None,
        ratings=len(ratings),
        average_rating=sum(ratings) / len(ratings) if ratings else None,
    )
