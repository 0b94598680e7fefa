"""Assistance lists (协查名单) routed to the grid: people to locate on the ground (落地排查).

A list arrives from outside the city's register: a province's big-data platform, another
city's health commission, the communications big-data itinerary check (通信大数据行程卡). Each
person on it carries what is known: name, phone, ID number, an address or only a district,
and the reason they are listed. One aggregate per list (``AssistanceList``, its id derived
from its source and reference); its items are the persons, numbered from 1 in the list's
order, each with what is known of them sealed with the item's own key (``AssistanceSubject``,
subject id = the item's id) as a resident's identity is.

On receipt every item is, by pure rules with everything passed in:

- matched to a resident of the register (``match_resident``): by ID number, or by phone and
  name together; a match must be unique, or none is made (a list is not a reason to guess).
  A matched person is routed to their household's micro-grid, whatever address the list gave.
- else routed by address (``route``): a node code in the address, else the community whose
  name it holds (a district or street name in it breaks a tie between communities of the same
  name), then within that community a micro-grid by name or a registered household address
  or building; else only a district (the district field or the address names one): the item
  goes to that district with the reason it could not be routed (无法落地); else to the
  receiving scope with that reason.

The community that owns an item reports it (``report``): FOUND (找到, with the measure taken),
NOT_FOUND (查无此人), or WRONG_DATA (信息有误); or forwards it (``forward``): MOVED_AWAY to
another community (it is pending there with a new deadline) or to another city (named; the
item is done here). A district forwards an item it could not route to the community that
must locate it the same way. Each is recorded with who and when.

Each pending item has a deadline: the policy's ``assistance_hours`` (24 by default) after
its current owner took it over (receipt, forwarding, escalation). When it passes unreported,
``escalate`` moves the item one level up (community -> street -> district -> city), dated when
the deadline passed (``missed_at``), with a new deadline; at the city it is recorded once as
missed. Completion per grid node is a pure function of the items (``completion``).

Erasing a resident matched by an item shreds that item's sealed values (``SubjectErased``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from gridcore.base import Aggregate, Created, Event, Immutable, Personal, stable_id
from gridcore.errors import ForbiddenTransition, InvalidInput, NotFound
from gridcore.grid import Level
from gridcore.identity import IdNumber, Phone
from gridcore.policy import Policy
from gridcore.text import free_text


class _Labelled(StrEnum):
    @property
    def label(self) -> str:
        return _LABELS[type(self).__name__][self.value]


class Source(_Labelled):
    PROVINCE_PLATFORM = "province_platform"
    OTHER_CITY = "other_city"
    ITINERARY_CHECK = "itinerary_check"
    OTHER = "other"


class ListFormat(_Labelled):
    CSV = "csv"
    XLSX = "xlsx"
    API = "api"


class ItemStatus(_Labelled):
    PENDING = "pending"
    FOUND = "found"
    NOT_FOUND = "not_found"
    MOVED_AWAY = "moved_away"
    WRONG_DATA = "wrong_data"


class RouteBasis(_Labelled):
    REGISTER = "register"
    CODE = "code"
    MICRO_GRID = "micro_grid"
    HOUSEHOLD_ADDRESS = "household_address"
    BUILDING = "building"
    COMMUNITY = "community"
    DISTRICT = "district"
    SCOPE = "scope"
    FORWARDED = "forwarded"


class MatchBasis(_Labelled):
    ID_NUMBER = "id_number"
    PHONE_NAME = "phone_name"


_LABELS = {
    "Source": {"province_platform": "省大数据平台 province big-data platform",
               "other_city": "外地卫健委 another city's health commission",
               "itinerary_check": "通信大数据行程卡 itinerary check",
               "other": "其他 other"},
    "ListFormat": {"csv": "CSV", "xlsx": "Excel .xlsx", "api": "接口 API"},
    "ItemStatus": {"pending": "待核查 pending", "found": "已找到 found",
                   "not_found": "查无此人 not found", "moved_away": "已迁出 moved away",
                   "wrong_data": "信息有误 wrong data"},
    "RouteBasis": {"register": "登记匹配 matched in the register",
                   "code": "网格编码 grid code", "micro_grid": "微网格名称 micro-grid name",
                   "household_address": "住户地址 household address",
                   "building": "楼栋 building", "community": "社区名称 community name",
                   "district": "仅区县 district only (无法落地 cannot route)",
                   "scope": "无法落地 cannot route", "forwarded": "转办 forwarded"},
    "MatchBasis": {"id_number": "身份证号 ID number", "phone_name": "手机号+姓名 phone and name"},
}

REPORTED = frozenset({ItemStatus.FOUND, ItemStatus.NOT_FOUND, ItemStatus.WRONG_DATA})
"""What a community reports with ``report`` (moving away is a forwarding)."""
FORWARDABLE = frozenset({ItemStatus.PENDING, ItemStatus.NOT_FOUND})
"""An item is forwarded while pending, or after it was not found (found elsewhere later)."""
UNROUTED = frozenset({RouteBasis.DISTRICT, RouteBasis.SCOPE})
MAX_ITEMS = 20_000


# ---- ids ------------------------------------------------------------------------------------

def normalize_reference(reference: str) -> str:
    """A list's reference (the sender's 协查函 number) as stored: stripped, 1-80 characters of
    text without control characters."""
    text = reference.strip() if isinstance(reference, str) else ""
    if not 1 <= len(text) <= 80 or any(unicodedata.category(c).startswith("C") for c in text):
        raise InvalidInput("The list's reference is empty, too long or not plain text.",
                           "Give the sender's reference (协查函编号) in 1-80 characters, "
                           "e.g. 鄂协查〔2022〕117号.")
    return text


def assistance_list_id(reference: str) -> UUID:
    """A list's id: its reference (one list per reference, whoever sent it)."""
    return stable_id("assistance-list", normalize_reference(reference))


def item_id(list_id: UUID, no: int) -> UUID:
    """The id of a list's ``no``-th item: the subject its sealed values are keyed to."""
    return stable_id("assistance-item", f"{list_id}:{no}")


# ---- what arrives ---------------------------------------------------------------------------

@dataclass(frozen=True)
class AssistanceRow:
    """One person of an incoming list as given (all text, any of it may be missing); ``row``
    is where the sender's file has it, for messages (default: the position from 1)."""

    name: str = ""
    phone: str = ""
    id_number: str = ""
    address: str = ""
    district: str = ""
    reason: str = ""
    row: int | None = None


class AssistanceSubject(Personal):
    """What the list says of the person, sealed with the item's own key: name, phone, ID
    number, address and the reason they are listed (a reason may name a place or a case)."""

    name: str | None = None
    phone: Phone | None = None
    id_number: IdNumber | None = None
    address: str | None = None
    reason: str | None = None


def _plain(value: str, what: str, longest: int, row: int) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > longest:
        raise InvalidInput(f"Row {row}: the {what} is {len(text)} characters long.",
                           f"Give the {what} in at most {longest} characters.")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text):
        raise InvalidInput(f"Row {row}: the {what} contains a control or formatting "
                           "character.", f"Give the {what} as plain text.")
    return text or None


def check_row(r: AssistanceRow, subject_id: UUID, position: int
              ) -> tuple[AssistanceSubject, str | None]:
    """A row checked: the sealed subject and the district word. At least a name, a phone or an
    ID number; the phone and ID number well formed (GB 11643 check digit); an address or a
    district to route by unless the register can match the person (an ID number, or a phone
    with a name). The message names the row and never repeats a personal value unmasked."""
    row = r.row if r.row is not None else position
    name = _plain(r.name, "name (姓名)", 60, row)
    address = _plain(r.address, "address (地址)", 200, row)
    district = _plain(r.district, "district (区)", 40, row)
    reason = _plain(r.reason, "reason (原因)", 200, row)
    try:
        phone = Phone.parse(r.phone) if r.phone and r.phone.strip() else None
    except ValueError as e:
        raise InvalidInput(f"Row {row}: {e}.",
                           "Correct the phone (手机号), or leave it empty if unknown.") from None
    try:
        number = IdNumber.parse(r.id_number) if r.id_number and r.id_number.strip() else None
    except ValueError as e:
        raise InvalidInput(f"Row {row}: {e}.",
                           "Correct the ID number (身份证号), or leave it empty if "
                           "unknown.") from None
    if not (name or phone or number):
        raise InvalidInput(f"Row {row}: nothing identifies the person.",
                           "Give at least a name (姓名), a phone (手机号) or an ID number "
                           "(身份证号).")
    if not (address or district or number or (phone and name)):
        raise InvalidInput(f"Row {row}: the person can be neither matched nor routed.",
                           "Give an address (地址) or a district (区), or an ID number, or a "
                           "phone with a name.")
    subject = AssistanceSubject(subject_id=subject_id, name=name, phone=phone,
                                id_number=number, address=address, reason=reason)
    return subject, district


# ---- matching to the register -----------------------------------------------------------------

@dataclass(frozen=True)
class Registered:
    """A resident of the register as matching reads them."""

    household_id: UUID
    resident_id: UUID
    micro_grid: str
    name: str | None
    phone: str | None
    id_number: str | None


@dataclass(frozen=True)
class Match:
    household_id: UUID
    resident_id: UUID
    micro_grid: str
    basis: MatchBasis


def match_resident(subject: AssistanceSubject, residents: Iterable[Registered]
                   ) -> Match | None:
    """The resident the person is, when the register says so uniquely: the same ID number;
    else the same phone and the same name. Two candidates (a shared family phone and name,
    the same person registered twice) make no match: the item is routed by address."""
    by_id: list[Registered] = []
    by_phone: list[Registered] = []
    number, phone, name = subject.id_number, subject.phone, subject.name
    for r in residents:
        if number and r.id_number == number:
            by_id.append(r)
        elif phone and name and r.phone == phone and r.name == name:
            by_phone.append(r)
    for found, basis in ((by_id, MatchBasis.ID_NUMBER), (by_phone, MatchBasis.PHONE_NAME)):
        unique = {(r.household_id, r.resident_id): r for r in found}
        if len(unique) == 1:
            r = next(iter(unique.values()))
            return Match(r.household_id, r.resident_id, r.micro_grid, basis)
        if len(unique) > 1:
            return None
    return None


# ---- routing by address ---------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """A node of the receiving scope as routing reads it: its code, name, level, the
    community it lies in (itself for a community), its district, and the names of the nodes
    above it (a district or street name in an address breaks a tie)."""

    code: str
    name: str
    level: Level
    community: str | None = None
    district: str | None = None
    above: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routing:
    place: str
    """the node the person is to be located in (micro-grid, community, district or scope)"""
    owner: str
    """the node that owns the item first (the community; the district or scope if unrouted)"""
    basis: RouteBasis
    reason: str | None = None
    """why it could not be routed to a community (无法落地)"""


def _norm(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split()).lower()


def _short(name: str) -> str:
    """A district's or community's name without its suffix (江岸区 -> 江岸); a name whose
    rest is a number keeps its suffix (712社区: "712" would match a house number)."""
    for suffix in ("社区居委会", "居委会", "社区", "街道", "自治县", "区", "县", "市"):
        rest = name[: -len(suffix)]
        if name.endswith(suffix) and len(rest) >= 2 and not rest.isdigit():
            return rest
    return name


def _best(found: Iterable[tuple[int, str]]) -> list[str]:
    """The codes of the longest matches (ties kept, sorted)."""
    items = list(found)
    if not items:
        return []
    longest = max(n for n, _ in items)
    return sorted({c for n, c in items if n == longest})


def route(address: str | None, district: str | None, scope: str,
          targets: Sequence[Target], addresses: dict[str, list[tuple[str, str]]] | None = None,
          buildings: dict[str, list[str]] | None = None) -> Routing:
    """Where a person is to be located, from the words of their address and district.

    ``targets`` are the active nodes under ``scope``; ``addresses`` maps a community to its
    registered households' (address, micro-grid) pairs, ``buildings`` a community to its
    buildings' names. The result depends on the sets given, never on their order. Order of
    evidence: a node code written in the address (the longest); a community whose full name
    appears in it (幸福社区, not 幸福, which 幸福路 holds) -- several with the longest name are
    told apart by the district or street names around them, else none is chosen; then within
    that community a micro-grid by name, a household address the address ends with, or a
    building it names (the place is the community unless a micro-grid is found). No
    community: a district named by the district field or the address, else the scope, each
    with the reason (无法落地)."""
    text = _norm(address)
    where = _norm(district)
    both = text + "|" + where
    by_code = {t.code: t for t in targets}
    if text:
        coded = _best((len(t.code), t.code) for t in targets
                      if t.level >= Level.COMMUNITY and len(t.code) >= 6 and t.code in text)
        if len(coded) == 1:
            t = by_code[coded[0]]
            return Routing(t.code, t.community or t.code, RouteBasis.CODE)
    communities = [t for t in targets if t.level is Level.COMMUNITY]
    named: list[tuple[int, str]] = []
    for t in communities:  # the full name only: 幸福 of 幸福社区 would match 幸福路
        n = _norm(t.name)
        if len(n) >= 2 and n in text:
            named.append((len(n), t.code))
    chosen = _best(named)
    if len(chosen) > 1:  # the same name in several places: the names above decide
        scored = [(sum(1 for a in by_code[c].above
                       if _norm(a) in both or _norm(_short(a)) in both), c) for c in chosen]
        top = _best(scored)
        chosen = top if top and max(s for s, _ in scored) > 0 else chosen
    if len(chosen) == 1:
        community = chosen[0]
        inside = [t for t in targets if t.level is Level.MICRO_GRID and t.community == community]
        grid = _best((len(_norm(t.name)), t.code) for t in inside
                     if len(_norm(t.name)) >= 2 and _norm(t.name) in text)
        if len(grid) == 1:
            return Routing(grid[0], community, RouteBasis.MICRO_GRID)
        homes = _best((len(_norm(a)), g) for a, g in (addresses or {}).get(community, [])
                      if len(_norm(a)) >= 3 and text.endswith(_norm(a)))
        if len(homes) == 1:
            return Routing(homes[0], community, RouteBasis.HOUSEHOLD_ADDRESS)
        basis = RouteBasis.COMMUNITY
        if any(len(_norm(b)) >= 2 and _norm(b) in text
               for b in (buildings or {}).get(community, [])):
            basis = RouteBasis.BUILDING
        return Routing(community, community, basis)
    why = ("地址对应多个社区 the address names several communities" if len(chosen) > 1
           else "地址未匹配到社区 no community of the address found")
    districts = [t for t in targets if t.level is Level.DISTRICT]
    found = _best((len(n), t.code) for t in districts
                  for n in {_norm(t.name), _norm(_short(t.name)), _norm(t.code)}
                  if len(n) >= 2 and n in both)
    if len(found) == 1:
        return Routing(found[0], found[0], RouteBasis.DISTRICT, why)
    return Routing(scope, scope, RouteBasis.SCOPE, why if (text or where) else
                   "无地址 no address given")


# ---- deadlines ------------------------------------------------------------------------------

def deadline_for(since: datetime, policy: Policy) -> datetime:
    """An item's deadline: the policy's ``assistance_hours`` (24 by default) after its current
    owner took it over (receipt, forwarding, escalation)."""
    return since + timedelta(hours=policy.assistance_hours)


def is_due(status: ItemStatus, deadline: datetime | None, now: datetime) -> bool:
    return status is ItemStatus.PENDING and deadline is not None and deadline <= now


def missed_at(deadline: datetime, last_change: datetime) -> datetime:
    """A missed deadline is dated when it passed, never before the list's last change."""
    return max(deadline, last_change)


def check_transition(status: ItemStatus, action: str) -> None:
    """A pending item is reported or forwarded; one not found may still be forwarded (the
    person turned up elsewhere); a found, moved-away or wrong-data item is done."""
    allowed = {"report": status is ItemStatus.PENDING,
               "forward": status in FORWARDABLE,
               "escalate": status is ItemStatus.PENDING}[action]
    if not allowed:
        raise ForbiddenTransition(
            f"An item that is {status.label} cannot be "
            f"{'reported' if action == 'report' else action + 'ed'}.",
            "A pending item is reported or forwarded; one not found may be forwarded; "
            "found, moved-away and wrong-data items are done.")


# ---- state ----------------------------------------------------------------------------------

class AssistanceItem(Immutable):
    """One person of a list and where their check stands."""

    no: int
    subject: AssistanceSubject
    district: str | None
    place: str
    owner: str
    owner_level: Level
    basis: RouteBasis
    unrouted: str | None = None
    household_id: UUID | None = None
    resident_id: UUID | None = None
    match_basis: MatchBasis | None = None
    status: ItemStatus = ItemStatus.PENDING
    since: datetime
    deadline: datetime | None
    missed: int = 0
    escalations: int = 0
    forwards: int = 0
    reported_by: UUID | None = None
    reported_at: datetime | None = None
    on_time: bool | None = None
    measure: str | None = None
    note: str | None = None
    moved_to_city: str | None = None

    @property
    def id(self) -> UUID:
        return self.subject.subject_id

    def overdue(self, now: datetime) -> bool:
        """Pending past its deadline (or a deadline already missed at the city)."""
        return self.status is ItemStatus.PENDING and (
            self.missed > 0 or (self.deadline is not None and self.deadline <= now))


class Completion(Immutable):
    """Counts of a node's items (every item located at or below it)."""

    total: int = 0
    pending: int = 0
    overdue: int = 0
    found: int = 0
    not_found: int = 0
    moved_away: int = 0
    wrong_data: int = 0

    @property
    def done(self) -> int:
        return self.total - self.pending

    @property
    def rate(self) -> float | None:
        return self.done / self.total if self.total else None


def completion(items: Iterable[AssistanceItem], chain: Callable[[str], Sequence[str]],
               now: datetime) -> dict[str, Completion]:
    """Completion per grid node: each item counts at the node it is to be located in and at
    every node above it (``chain(code)``: the code and its ancestors). At every node, total =
    pending + found + not found + moved away + wrong data; overdue items are among the
    pending."""
    counts: dict[str, dict[str, int]] = {}
    for item in items:
        key = item.status.value
        for code in dict.fromkeys(chain(item.place)):
            c = counts.setdefault(code, {})
            c["total"] = c.get("total", 0) + 1
            c[key] = c.get(key, 0) + 1
            if item.overdue(now):
                c["overdue"] = c.get("overdue", 0) + 1
    return {code: Completion(**c) for code, c in counts.items()}


class ReceivedItem(Immutable):
    """An item as received, matched and routed."""

    no: int
    subject: AssistanceSubject
    district: str | None
    place: str
    owner: str
    owner_level: Level
    basis: RouteBasis
    unrouted: str | None = None
    household_id: UUID | None = None
    resident_id: UUID | None = None
    match_basis: MatchBasis | None = None
    deadline: datetime


class AssistanceList(Aggregate):
    source: Source
    source_name: str
    reference: str
    list_format: ListFormat
    scope: str
    received_by: UUID | None
    items: list[AssistanceItem]

    class Received(Created):
        source: Source
        source_name: str
        reference: str
        list_format: ListFormat
        scope: str
        by: UUID | None
        items: list[ReceivedItem]

        def apply(self, a: AssistanceList) -> None:
            a.source, a.source_name, a.reference = self.source, self.source_name, self.reference
            a.list_format, a.scope, a.received_by = self.list_format, self.scope, self.by
            a.items = [AssistanceItem(**i.model_dump(exclude={"subject"}), subject=i.subject,
                                      since=self.timestamp) for i in self.items]

    class Reported(Event):
        no: int
        status: ItemStatus
        by: UUID | None
        measure: str | None = None
        note: str | None = None
        on_time: bool

        def apply(self, a: AssistanceList) -> None:
            a._set(self.no, status=self.status, reported_by=self.by,
                   reported_at=self.timestamp, measure=self.measure, note=self.note,
                   on_time=self.on_time, deadline=None)

    class Forwarded(Event):
        """Moved away (or, from a district, routed by hand): pending at ``to_code`` with a new
        deadline; or moved to another city (``to_city``), which ends it here."""

        no: int
        from_code: str
        to_place: str | None
        to_code: str | None
        to_level: Level | None
        to_city: str | None
        by: UUID | None
        note: str | None = None
        deadline: datetime | None

        def apply(self, a: AssistanceList) -> None:
            item = a.items[self.no - 1]
            if self.to_code is None:
                a._set(self.no, status=ItemStatus.MOVED_AWAY, moved_to_city=self.to_city,
                       reported_by=self.by, reported_at=self.timestamp, note=self.note,
                       on_time=item.missed == 0, deadline=None, forwards=item.forwards + 1)
                return
            assert self.to_level is not None
            a._set(self.no, status=ItemStatus.PENDING, place=self.to_place or self.to_code,
                   owner=self.to_code,
                   owner_level=self.to_level, basis=RouteBasis.FORWARDED, unrouted=None,
                   since=self.timestamp, deadline=self.deadline, missed=0,
                   forwards=item.forwards + 1, note=self.note, reported_by=None,
                   reported_at=None, on_time=None, measure=None)

    class Escalated(Event):
        no: int
        from_code: str
        to_code: str
        to_level: Level
        missed_deadline: datetime
        deadline: datetime

        def apply(self, a: AssistanceList) -> None:
            item = a.items[self.no - 1]
            a._set(self.no, owner=self.to_code, owner_level=self.to_level,
                   since=self.timestamp, deadline=self.deadline, missed=item.missed + 1,
                   escalations=item.escalations + 1)

    class DeadlineMissed(Event):
        """The deadline passed at the top level: recorded once; none runs after."""

        no: int
        missed_deadline: datetime

        def apply(self, a: AssistanceList) -> None:
            a._set(self.no, deadline=None, missed=a.items[self.no - 1].missed + 1)

    class SubjectErased(Event):
        """The item's key was destroyed with the matched resident's erasure: what the list
        said of the person reads back as erased; the routing and the outcome stay."""

        no: int
        subject_id: UUID
        reason: str

        @property
        def erased_subject_ids(self) -> list[UUID]:
            return [self.subject_id]

        def apply(self, a: AssistanceList) -> None:
            a._set(self.no, subject=AssistanceSubject(subject_id=self.subject_id, erased=True))

    def _set(self, no: int, **changes: object) -> None:
        self.items[no - 1] = self.items[no - 1].model_copy(update=changes)

    # ---- decisions ------------------------------------------------------------------------

    @classmethod
    def receive(cls, source: Source, source_name: str, reference: str,
                list_format: ListFormat, scope: str, by: UUID | None,
                items: list[ReceivedItem], at: datetime) -> AssistanceList:
        if not items:
            raise InvalidInput("The list has no person on it.",
                               "Give at least one row (one person to locate).")
        if len(items) > MAX_ITEMS:
            raise InvalidInput(f"The list has {len(items)} persons, more than {MAX_ITEMS}.",
                               f"Split it into lists of at most {MAX_ITEMS}.")
        return cls._create(cls.Received, assistance_list_id(reference), at, source=source,
                           source_name=source_name, reference=normalize_reference(reference),
                           list_format=list_format, scope=scope, by=by, items=items)

    def item(self, no: int) -> AssistanceItem:
        if isinstance(no, bool) or not isinstance(no, int) or not 1 <= no <= len(self.items):
            raise NotFound(f"List {self.reference} has no item {no!r}.",
                           f"Give an item number from 1 to {len(self.items)}.")
        return self.items[no - 1]

    @property
    def pending(self) -> list[AssistanceItem]:
        return [i for i in self.items if i.status is ItemStatus.PENDING]

    @property
    def label(self) -> str:
        return f"协查名单 assistance list {self.reference} ({len(self.items)} persons)"

    def report(self, no: int, status: ItemStatus, by: UUID | None, at: datetime,
               measure: str | None = None, note: str | None = None) -> None:
        """The community's answer for an item: found (with the measure taken), not found, or
        wrong data; a move is a forwarding."""
        item = self.item(no)
        if status is ItemStatus.MOVED_AWAY:
            raise InvalidInput("A person who moved away is forwarded, not reported.",
                               "Forward the item to the community or the city they moved to.")
        if status not in REPORTED:
            raise InvalidInput(f"{status.label} is not an outcome to report.",
                               "Report found, not_found or wrong_data.")
        check_transition(item.status, "report")
        kept = free_text(measure, "measure taken (采取措施)", 200,
                         required=status is ItemStatus.FOUND, example="居家隔离14天") or None
        if status is not ItemStatus.FOUND and kept:
            raise InvalidInput("A measure is recorded only for a person found.",
                               "Leave the measure out, or report the person found.")
        text = free_text(note, "note", 500) or None
        self._trigger(self.Reported, at, no=no, status=status, by=by, measure=kept, note=text,
                      on_time=item.missed == 0 and item.deadline is not None
                      and at <= item.deadline)

    def forward(self, no: int, by: UUID | None, at: datetime, policy: Policy, *,
                to_place: str | None = None, to_code: str | None = None,
                to_city: str | None = None, note: str | None = None) -> None:
        """Forward an item to the community (``to_code``; ``to_place`` its micro-grid when
        known) that must locate the person now (moved within the city, or an unrouted item
        routed by its district), or record them moved to another city (named)."""
        item = self.item(no)
        check_transition(item.status, "forward")
        if (to_code is None) == (to_city is None):
            raise InvalidInput("Forward to a community or to another city, one of them.",
                               "Give the community's code (社区编码), or the city's name.")
        city = free_text(to_city, "city (迁往城市)", 40, required=to_city is not None,
                         example="孝感市") or None
        place = to_place or to_code
        if place is not None and place == item.place:
            raise InvalidInput(f"The item is already at {place}.",
                               "Forward it to another community, or report it.")
        text = free_text(note, "note", 500) or None
        self._trigger(self.Forwarded, at, no=no, from_code=item.owner, to_place=place,
                      to_code=to_code, to_level=Level.COMMUNITY if to_code else None,
                      to_city=city, by=by, note=text,
                      deadline=deadline_for(at, policy) if to_code is not None else None)

    def next_due(self, now: datetime) -> AssistanceItem | None:
        """The pending item whose deadline passed at ``now`` first (by when it is dated)."""
        due = [i for i in self.items if is_due(i.status, i.deadline, now)]
        if not due:
            return None
        return min(due, key=lambda i: (i.deadline or now, i.no))

    def escalate(self, no: int, to_code: str | None, to_level: Level | None, policy: Policy,
                 now: datetime) -> None:
        """The item's deadline passed (seen at ``now``): the next level up owns it from when
        the deadline passed, with a new deadline; with no level above (``to_code`` None) the
        missed deadline is recorded once."""
        item = self.item(no)
        check_transition(item.status, "escalate")
        if item.deadline is None or not is_due(item.status, item.deadline, now):
            raise ForbiddenTransition(f"Item {no}'s deadline has not passed at {now}.",
                                      "Escalate it once its deadline has passed.")
        at = missed_at(item.deadline, self.modified_on)
        if to_code is None or to_level is None:
            self._trigger(self.DeadlineMissed, at, no=no, missed_deadline=item.deadline)
            return
        self._trigger(self.Escalated, at, no=no, from_code=item.owner, to_code=to_code,
                      to_level=to_level, missed_deadline=item.deadline,
                      deadline=deadline_for(at, policy))

    def erase_subjects_of(self, resident: UUID, reason: str, at: datetime) -> bool:
        """Shred every item matched to ``resident``; whether any was."""
        done = False
        for i in self.items:
            if i.resident_id == resident and not i.subject.erased:
                self._trigger(self.SubjectErased, at, no=i.no, subject_id=i.id, reason=reason)
                done = True
        return done

    def __repr__(self) -> str:
        return f"AssistanceList(reference={self.reference!r}, items={len(self.items)})"
