"""Commands and queries of residents' requests (群众诉求): filing through a channel, handling,
the resident's rating and reopening, escalation by ``tick``, and public statistics.

Each community has a request desk (an index aggregate with a deterministic id) listing its
requests and those still awaiting action, saved in the same transaction as the request; a
directory lists the communities that have a desk. ``tick_requests`` walks them to find what
is overdue; read models will answer the same questions later.

A filing's reference is drawn from ``reference_bytes`` (``secrets.token_bytes`` unless a test
gives the application another source) and returned once. A filing given a client id also
leaves a receipt under that id naming the request, whose sealed details keep the reference and
a fingerprint of the filing (who filed what): the same filer retrying the same filing gets the
same reference back, anyone else presenting that client id is refused and learns nothing, and
after an erasure nobody gets it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar
from uuid import UUID

from gridcore.app_base import ApplicationBase, command
from gridcore.authority import Actor, System, staff_of
from gridcore.base import Aggregate, Created, Event, stable_id
from gridcore.errors import DuplicateCode, ForbiddenTransition, InvalidInput, NotFound
from gridcore.grid import Level
from gridcore.household import Household
from gridcore.identity import Phone
from gridcore.requests import (
    REFERENCE_BYTES,
    Category,
    Channel,
    Grade,
    RequestDetails,
    RequestStatistics,
    ResidentRequest,
    check_text,
    is_due,
    new_reference,
    request_id,
    request_number,
    summarize,
)

E = TypeVar("E", bound=StrEnum)

DIRECTORY_ID = stable_id("request-desks", "all")


def desk_id(community: str) -> UUID:
    return stable_id("request-desk", community)


class RequestDesk(Aggregate):
    """A community's requests (in filing order) and those awaiting action (not yet answered)."""

    community: str
    requests: list[UUID]
    open: list[UUID]

    class Opened(Created):
        community: str

        def apply(self, d: RequestDesk) -> None:
            d.community, d.requests, d.open = self.community, [], []

    class Filed(Event):
        request_id: UUID

        def apply(self, d: RequestDesk) -> None:
            d.requests.append(self.request_id)
            d.open.append(self.request_id)

    class Answered(Event):
        request_id: UUID

        def apply(self, d: RequestDesk) -> None:
            d.open.remove(self.request_id)

    class Reopened(Event):
        request_id: UUID

        def apply(self, d: RequestDesk) -> None:
            d.open.append(self.request_id)

    @classmethod
    def open_for(cls, community: str, at: datetime) -> RequestDesk:
        return cls._create(cls.Opened, desk_id(community), at, community=community)

    def file(self, request_id: UUID, at: datetime) -> None:
        """A new request of the community awaits action."""
        if request_id in self.requests:
            raise DuplicateCode(f"Request {request_id} is already on the desk.",
                                "File a new request with a new reference.")
        self._trigger(self.Filed, at, request_id=request_id)

    def answer(self, request_id: UUID, at: datetime) -> None:
        """The request was answered: it no longer awaits action."""
        self._require_open(request_id, True)
        self._trigger(self.Answered, at, request_id=request_id)

    def reopen(self, request_id: UUID, at: datetime) -> None:
        """The resident reopened the request: it awaits action again."""
        self._require_open(request_id, False)
        self._trigger(self.Reopened, at, request_id=request_id)

    def _require_open(self, request_id: UUID, awaiting: bool) -> None:
        if request_id not in self.requests:
            raise NotFound(f"Request {request_id} is not on the desk of {self.community}.",
                           "Check the request's community.")
        if (request_id in self.open) != awaiting:
            state = "awaits action" if not awaiting else "was answered"
            raise ForbiddenTransition(f"Request {request_id} already {state}.",
                                      "Nothing to change on the desk.")


class RequestDirectory(Aggregate):
    """The communities that have a request desk (it changes once per community)."""

    communities: list[str]

    class Started(Created):
        def apply(self, d: RequestDirectory) -> None:
            d.communities = []

    class DeskOpened(Event):
        community: str

        def apply(self, d: RequestDirectory) -> None:
            d.communities.append(self.community)

    @classmethod
    def start(cls, at: datetime) -> RequestDirectory:
        return cls._create(cls.Started, DIRECTORY_ID, at)

    def add(self, community: str, at: datetime) -> None:
        """A community's first request opened its desk."""
        if community not in self.communities:
            self._trigger(self.DeskOpened, at, community=community)


def receipt_id(client_id: str) -> UUID:
    return stable_id("request-receipt", client_id)


class RequestReceipt(Aggregate):
    """The request filed under a client id (its reference and the filing's fingerprint are
    kept sealed in the request's own details, with its key)."""

    client_id: str
    request_id: UUID

    class Issued(Created):
        client_id: str
        request_id: UUID

        def apply(self, r: RequestReceipt) -> None:
            r.client_id, r.request_id = self.client_id, self.request_id

    @classmethod
    def issue(cls, client_id: str, request: UUID, at: datetime) -> RequestReceipt:
        return cls._create(cls.Issued, receipt_id(client_id), at, client_id=client_id,
                           request_id=request)


def filing_fingerprint(*parts: object) -> str:
    """Who filed what, as one digest (kept only sealed, in a receipt)."""
    plain = json.dumps([None if p is None else str(p) for p in parts], ensure_ascii=False)
    return hashlib.sha256(plain.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Filing:
    """What filing returns: the request's id, the secret reference to give the resident (once:
    it is not kept in plain anywhere), and the notification id of the write."""

    request_id: UUID
    reference: str
    notification_id: int | None


class RequestCommands(ApplicationBase):
    reference_bytes: Callable[[int], bytes] = staticmethod(secrets.token_bytes)
    """The source of references' randomness (a test may give the application its own)."""

    # ---- queries ----------------------------------------------------------------------------

    def request(self, rid: UUID) -> ResidentRequest:
        return self._get(ResidentRequest, rid, f"resident request {rid}",
                         "Check the request id, or file the request first.")

    def request_by_reference(self, reference: str) -> ResidentRequest:
        """The request a resident follows with the reference they were given at filing."""
        if not isinstance(reference, str):
            raise InvalidInput("A request is followed, rated and reopened by its reference, "
                               "not by its id.",
                               "Give the 20-character reference the resident was given at "
                               "filing.")
        return self._get(ResidentRequest, request_id(reference),
                         "request with that reference",
                         "Check the reference given at filing (20 characters).")

    def request_by_number(self, number: str) -> ResidentRequest:
        """The request of a public number (``<community>-<seq>``, e.g. '420102001712-000017':
        the Open311 ``service_request_id``), found on its community's desk. The number is no
        secret: it shows nothing of the request but its community and filing order."""
        community, _, seq = number.rpartition("-") if isinstance(number, str) else ("", "", "")
        desk = self._find(RequestDesk, desk_id(community)) if community else None
        if desk is None or not (seq.isascii() and seq.isdigit()
                                and request_number(community, int(seq)) == number
                                and 1 <= int(seq) <= len(desk.requests)):
            raise NotFound(f"No request has the number {str(number)[:60]!r}.",
                           "Give the number the filing answered, e.g. 420102001712-000017 "
                           "(the community's code, a hyphen and six digits).")
        return self.request(desk.requests[int(seq) - 1])

    def open_requests(self, code: str) -> list[ResidentRequest]:
        """Requests filed in the communities under ``code`` (a community or above) that still
        await action, overdue first, then by deadline."""
        found = [self.request(rid) for c in self._request_communities(code)
                 for rid in self._request_desk(c).open]
        return sorted(found, key=lambda r: (r.deadline is not None,
                                            r.deadline or r.created_on, r.number))

    def request_statistics(self, scope: str) -> RequestStatistics:
        """Public counts over every request filed in the communities under ``scope``."""
        return summarize(self.request(rid) for c in self._request_communities(scope)
                         for rid in self._request_desk(c).requests)

    def _requests_erased_with_resident(self, household: Household, rid: UUID,
                                       at: datetime) -> list[Aggregate]:
        """The requests the resident filed, and the household's own requests once its last
        identifiable member is erased, lose their details with the resident (an erasure
        participant, see ``GridcoreApp._erasure_participants``)."""
        found: list[Aggregate] = []
        community = self.node(household.micro_grid).parent_code or household.micro_grid
        desk = self._find(RequestDesk, desk_id(community))
        others = [r for r in household.residents.values() if r.resident_id != rid
                  and not r.erased]
        for filed in desk.requests if desk else []:
            r = self.request(filed)
            mine = r.resident_id == rid
            household_wide = r.household_id == household.id and r.resident_id is None
            if mine or (household_wide and not others):
                r.erase_details("随居民删除 erased with the resident", at)
                found.append(r)
        return found

    def _request_desk(self, community: str) -> RequestDesk:
        return self._get(RequestDesk, desk_id(community), f"request desk of {community}",
                         "File a request in that community first.")

    def _request_communities(self, code: str) -> list[str]:
        node = self.node(code)
        if node.level is Level.MICRO_GRID:
            raise InvalidInput(f"{code} is a micro-grid; requests are kept per community.",
                               "Give a community (社区) or a level above it.")
        directory = self._find(RequestDirectory, DIRECTORY_ID)
        if directory is None:
            return []
        return [c for c in directory.communities if code in self.ancestry(c)]

    def _request_of(self, key: UUID | str) -> ResidentRequest:
        return self.request(key) if isinstance(key, UUID) else self.request_by_reference(key)

    # ---- filing -----------------------------------------------------------------------------

    def file_request(self, channel: Channel | str, category: Category | str,
                     grade: Grade | str, text: str, *, household: UUID | None = None,
                     resident: UUID | None = None, phone: str | None = None,
                     address: str | None = None, grid: str | None = None,
                     by: Actor, client_id: str | None = None) -> Filing:
        """File a request from a registered household (and resident, when known) or from an
        anonymous resident (phone, address and the micro-grid or community concerned); ``by``
        is who files it: ``System.PUBLIC`` (the resident), a staff member filing on the
        resident's behalf (a hotline call), or ``System.OPERATOR`` (a 12345 hotline feed). The
        community owns it first; the returned reference (a secret, returned only here) lets
        the resident follow it. The same filing retried with its client id returns the first
        filing; another filing under a used client id is refused."""
        fingerprint = filing_fingerprint(channel, category, grade, text, household, resident,
                                         phone, address, grid, staff_of(by))
        done = self._file_request(channel, category, grade, text, household, resident, phone,
                                  address, grid, client_id, fingerprint, by=by,
                                  client_id=client_id)
        if isinstance(done, Filing):
            return done
        assert client_id is not None
        receipt = self._find(RequestReceipt, receipt_id(client_id))
        if receipt is None:
            raise NotFound(f"No request was filed under client id {client_id[:40]!r}.",
                           "Use a new client id for a new filing.")
        r = self.request(receipt.request_id)
        return Filing(r.id, r.reference_for_retry(client_id, fingerprint), done)

    @command
    def _file_request(self, channel: Channel | str, category: Category | str,
                      grade: Grade | str, text: str, household: UUID | None,
                      resident: UUID | None, phone: str | None, address: str | None,
                      grid: str | None, key: str | None, fingerprint: str, *, by: Actor) -> Filing:
        at = self.clock()
        kinds = (_as(Channel, channel, "channel"), _as(Category, category, "category"),
                 _as(Grade, grade, "grade"))
        text = check_text(text, "request")
        community, contact = self._request_filer(household, resident, phone, address, grid)
        self.node(community).require_active()
        desk = self._find(RequestDesk, desk_id(community))
        directory = None
        if desk is None:
            desk = RequestDesk.open_for(community, at)
            directory = self._find(RequestDirectory, DIRECTORY_ID) or RequestDirectory.start(at)
            directory.add(community, at)
        number = request_number(community, len(desk.requests) + 1)
        # a clash of 100 random bits is not expected; if one came, the request's creation
        # would conflict and the command would run again with a new draw
        reference = new_reference(self.reference_bytes(REFERENCE_BYTES))
        kept = {"reference": reference, "fingerprint": fingerprint} if key is not None else {}
        details = RequestDetails(subject_id=request_id(reference), text=text, **contact, **kept)
        r = ResidentRequest.file(number, reference, community, *kinds, details,
                                 self.policy_at(at), at, household, resident, key)
        desk.file(r.id, at)
        receipt = RequestReceipt.issue(key, r.id, at) if key is not None else None
        return Filing(r.id, reference, self._save(r, desk, directory, receipt))

    def _request_filer(self, household: UUID | None, resident: UUID | None,
                       phone: str | None, address: str | None,
                       grid: str | None) -> tuple[str, dict[str, object]]:
        """The community that owns a new request, and the anonymous contact (if any)."""
        if household is not None:
            if phone is not None or address is not None or grid is not None:
                raise InvalidInput("Give either a registered household or an anonymous contact.",
                                   "Leave phone, address and grid out when the household is "
                                   "known: its address and grid are on record.")
            h = self.household(household)
            if resident is not None:
                h.require_identifiable(resident)
            return self._request_community(h.micro_grid), {}
        if resident is not None:
            raise InvalidInput("A resident id was given without their household.",
                               "Give the household id too.")
        if phone is None or address is None or grid is None:
            raise InvalidInput("An anonymous request needs a phone, an address and a grid.",
                               "Give the resident's phone and address (门牌) and the micro-grid "
                               "or community it concerns, or the household id if registered.")
        try:
            parsed = Phone.parse(phone)
        except ValueError as e:
            raise InvalidInput(str(e), "Correct the phone number.") from None
        contact: dict[str, object] = {"phone": parsed,
                                      "address": check_text(address, "address", 200)}
        return self._request_community(grid), contact

    def _request_community(self, code: str) -> str:
        """A request is owned first by the lowest level that can act: the community."""
        node = self.node(code)
        if node.level is Level.COMMUNITY:
            return code
        if node.level is Level.MICRO_GRID and node.parent_code is not None:
            return node.parent_code
        raise InvalidInput(f"{code} is a {node.level.name.lower()}.",
                           "File requests with the micro-grid or community (社区) concerned.")

    # ---- handling ---------------------------------------------------------------------------

    @command
    def classify_request(self, request: UUID | str, category: Category | str | None = None,
                         grade: Grade | str | None = None, *, by: Actor) -> int | None:
        """Reclassify or regrade an open request; a new grade moves its deadline (counted from
        when the current level took it over)."""
        at = self.clock()
        r = self._request_of(request)
        r.reclassify(r.category if category is None else _as(Category, category, "category"),
                     r.grade if grade is None else _as(Grade, grade, "grade"),
                     self.policy_at(at), at)
        return self._save(r)

    @command
    def assign_request(self, request: UUID | str, staff: UUID, *, by: Actor) -> int | None:
        """Give an open request to an available staff member of the level that owns it."""
        r, member = self._request_of(request), self.staff(staff)
        r.assign(member.id, self.clock(), staff_no=member.staff_no, available=member.available,
                 jurisdiction_chain=self._chains(member))
        return self._save(r)

    @command
    def resolve_request(self, request: UUID | str, by: UUID, reply: str) -> int | None:
        """Answer the resident: the reply resolves the request, which awaits their rating."""
        at = self.clock()
        r, member = self._request_of(request), self.staff(by)
        r.resolve(member.id, reply, at, staff_no=member.staff_no,
                  jurisdiction_chain=self._chains(member))
        desk = self._request_desk(r.community)
        desk.answer(r.id, at)
        return self._save(r, desk)

    @command
    def rate_request(self, reference: str, rating: int, *, by: Actor) -> int | None:
        """The resident rates the reply from 1 to 5, which closes the request: only with the
        request's reference (its id, which staff screens show, is refused)."""
        r = self.request_by_reference(reference)
        r.rate(rating, self.clock())
        return self._save(r)

    @command
    def reopen_request(self, reference: str, reason: str, *, by: Actor) -> int | None:
        """The resident reopens a closed (rated) request, with its reference only: it awaits
        action again at the same level, with a new deadline."""
        at = self.clock()
        r = self.request_by_reference(reference)
        r.reopen(reason, self.policy_at(at), at)
        desk = self._request_desk(r.community)
        desk.reopen(r.id, at)
        return self._save(r, desk)

    # ---- escalation -------------------------------------------------------------------------

    def tick_requests(self, now: datetime) -> int:
        """Escalate every request whose deadline has passed at ``now`` one level up (or record
        the missed deadline at the city), once per deadline, every deadline missed since the
        last tick dated when it passed; returns how many requests did."""
        directory = self._find(RequestDirectory, DIRECTORY_ID)
        if directory is None:
            return 0
        return sum(1 for c in directory.communities for rid in self._request_desk(c).open
                   if self._escalate_request_if_due(rid, now, by=System.AUTOMATION))

    @command
    def _escalate_request_if_due(self, rid: UUID, now: datetime, *, by: Actor) -> bool:
        r = self.request(rid)
        if not is_due(r.status, r.deadline, now):
            return False
        while is_due(r.status, r.deadline, now):  # one level per deadline missed by now
            parent = self.node(r.owner_code).parent_code
            since = r.overdue_since
            assert since is not None  # a due request has a deadline
            if parent is None:
                r.miss_deadline(now)
            else:
                r.escalate(parent, self.node(parent).level, self.policy_at(since), now)
        self._save(r)
        return True


def _as(kind: type[E], value: E | str, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a request {what}.",
                           f"Use one of: {', '.join(m.value for m in kind)}.") from None
