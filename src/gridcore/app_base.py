"""What every command module shares: the ``command`` decorator (retries on concurrent
writes, client ids applied once), saving in one transaction, and the look-ups by id and code.

Each command loads, calls the decision methods of the aggregates it changes (each checks its
rule, a pure function given the policy in force and the time, then records), and saves in one
transaction, returning the notification id of its last event so a caller can wait for
projections to catch up. A decision spanning aggregates (a referral's admission changes the
resident's measure) is each aggregate deciding its own part, coordinated by the command; only
an aggregate records its own events (tests/domain/test_domain_shape.py). A
command that raises writes nothing. A ``client_id`` makes a retried command a no-op.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gc
import inspect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar, ParamSpec, Protocol, TypeVar, cast, overload
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import EventStore, IntegrityError, Mapper

from gridcore.assignment import (
    Assignment,
    assignment_id,
)
from gridcore.authority import AUTHORITY, Actor, Place, System, check_authority
from gridcore.base import Aggregate, Event
from gridcore.clock import check_instant
from gridcore.errors import (
    HOUSEHOLD_HINT,
    NODE_HINT,
    ConcurrencyConflict,
    InvalidInput,
    NotFound,
)
from gridcore.geo import Crs, Point
from gridcore.grid import GridNode, Level, node_id
from gridcore.household import Household, Member, household_id
from gridcore.idempotency import ClientCommand, client_command_id
from gridcore.policy import DEFAULT_POLICY, POLICY_BOOK_ID, Policy, PolicyBook
from gridcore.staff import StaffMember, staff_id
from gridcore.sweep import Campaign, Visit, campaign_id, visit_id
from gridcore.wellformed import check_wellformed
from gridcore.zoning import RiskZoning, Zone
from gridcore.zoning_index import RISK_ZONINGS_ID, RiskZonings

P = ParamSpec("P")
R = TypeVar("R")
A = TypeVar("A", bound=Aggregate)

_client = contextvars.ContextVar[tuple[str, str] | None]("gridcore_client_command", default=None)

MAX_BATCH = 20_000

_AGGREGATE_LOCKS = tuple(threading.Lock() for _ in range(64))
"""Striped by aggregate id: fast-forwarding and copying one cached aggregate take turns."""
MAX_ATTEMPTS = 8


Replay = Callable[..., Any]


@overload
def command(fn: Callable[..., R]) -> Callable[..., R]: ...


@overload
def command(fn: None = None, *,
            replay: Replay | None = None) -> Callable[[Callable[..., R]], Callable[..., R]]: ...


def command(fn: Callable[..., R] | None = None, *, replay: Replay | None = None
            ) -> Callable[..., R] | Callable[[Callable[..., R]], Callable[..., R]]:
    """Retry on a concurrent write (reloading everything), and apply a client id once.

    A command already applied under its client id is not run again: it returns the newest
    notification id (which is at or after the original write), or what ``replay(self, *args,
    **kwargs)`` rebuilds for commands that return a report. Every command takes its acting
    party as ``by`` (no default: a staff member's id or a ``System`` actor) and is refused
    before it runs when ``gridcore.authority`` does not let that party give it there, or the
    staff member is deactivated (``NotPermitted``).

    The command keeps its return type; its parameters read ``...`` because the added
    keyword ``client_id`` cannot be spelled with a ``ParamSpec`` (``Concatenate`` adds
    positional parameters only).
    """
    if fn is None:
        def with_replay(f: Callable[..., R]) -> Callable[..., R]:
            return _command(f, replay)
        return with_replay
    return _command(fn, replay)


def _command(fn: Callable[..., R], replay: Replay | None) -> Callable[..., R]:

    def replayed(self: ApplicationBase, args: tuple[Any, ...], kwargs: dict[str, Any]) -> R:
        # what the command returned: its report rebuilt, or (a command returning a
        # notification id) the newest notification id
        if replay is not None:
            return cast(R, replay(self, *args, **kwargs))
        return cast(R, self.recorder.max_notification_id())

    signature = inspect.signature(fn)
    names = list(signature.parameters)[1:]
    actor = signature.parameters.get("by")
    if actor is None or actor.default is not inspect.Parameter.empty:
        raise TypeError(f"The command {fn.__name__} must take its actor as a required "
                        "parameter `by` (a staff member's id or a System actor).")
    if fn.__name__ not in AUTHORITY:
        raise TypeError(f"The command {fn.__name__} names no authority: add it to "
                        "gridcore.authority.AUTHORITY.")

    @functools.wraps(fn)
    def run(self: ApplicationBase, *args: Any, client_id: str | None = None, **kwargs: Any) -> R:
        check_wellformed(dict(zip(names, args, strict=False)), kwargs)
        try:
            arguments = signature.bind(self, *args, **kwargs).arguments
        except TypeError as e:
            raise TypeError(f"{fn.__name__}: {e}") from None
        self._authorise(fn.__name__, arguments["by"], arguments)
        if client_id is not None:
            if not 1 <= len(client_id) <= 200:
                raise InvalidInput(f"The client id {client_id[:40]!r} must be 1-200 characters.",
                                   "Send the device's UUID for this command.")
            done = self._find(ClientCommand, client_command_id(client_id))
            if done is not None:
                done.check_same(fn.__name__)
                return replayed(self, args, kwargs)
        client = (client_id, fn.__name__) if client_id is not None else None
        token = _client.set(client)
        try:
            for attempt in range(MAX_ATTEMPTS):
                _client.set(client)  # a failed attempt may have used it up; see _save
                try:
                    return fn(self, *args, **kwargs)
                except IntegrityError:
                    if client_id is not None and self._find(
                            ClientCommand, client_command_id(client_id)) is not None:
                        return replayed(self, args, kwargs)
                    if attempt == MAX_ATTEMPTS - 1:
                        raise ConcurrencyConflict(
                            f"{fn.__name__} kept colliding with concurrent changes "
                            f"({MAX_ATTEMPTS} attempts).",
                            "Retry the command later; nothing was written.",
                        ) from None
            raise AssertionError("unreachable")
        finally:
            _client.reset(token)

    return run


@dataclass
class HouseholdRow:
    """One household of a bulk registration (a row of a register)."""

    household_no: str
    micro_grid: str
    address: str
    members: list[Member]
    building_id: UUID | None = None
    point: Point | None = None
    """the household's own point (WGS-84), sealed as its address is; None: none"""
    crs: Crs = Crs.WGS84
    """the system the point was given in (for the record)"""


@dataclass
class RegistrationReport:
    registered: int = 0
    already_registered: int = 0
    over_cap: dict[str, int] = field(default_factory=dict)
    notification_id: int | None = None
    misplaced: list[str] = field(default_factory=list)
    """households registered whose point (own, else their building's) lies outside their
    micro-grid's boundary (位置不在所属网格内): accepted, to be checked"""


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Pause CPython's cyclic garbage collector during a bulk load: it would otherwise scan
    the batch's many new, long-lived objects again and again (it cost half the time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_MAX_DEPTH = 16
"""More levels than any grid has (city, district, street, community, micro-grid)."""


def check_batch(given: object, what: str, limit: int, *, mapping: str | None = None) -> None:
    """A bulk command's items: present (a mapping when ``mapping`` says what it maps), at
    least one, at most ``limit``; refused with what would be right."""
    if mapping is not None and not isinstance(given, Mapping):
        raise InvalidInput(f"The {what} must be given as a mapping of {mapping}.",
                           "Send a mapping (a dict), one entry per item.")
    if mapping is None and not isinstance(given, Sequence):
        raise InvalidInput(f"The {what} must be given as a list.", "Send a list of them.")
    count = len(cast("Sequence[object]", given))
    if not count:
        raise InvalidInput(f"No {what} given.", f"Name at least one of the {what}.")
    if count > limit:
        raise InvalidInput(f"{count} {what} are too many for one command.",
                           f"Send at most {limit:,} at a time.")


def utc_now() -> datetime:
    return datetime.now(UTC)



def fold(aggregate: Any, events: Iterable[Any]) -> Any:
    """Apply events in order (the library's projector also checks a runtime Protocol per
    event, which cost more than the replay itself)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class BulkEventReader(Protocol):
    """A store that reads the events of many aggregates in one query (the adapters'
    recorders), ordered by aggregate and version."""

    def select_events_of(self, ids: Sequence[UUID]) -> Sequence[Any]: ...

    def select_events_after(self, after: Sequence[tuple[UUID, int]]) -> Sequence[Any]:
        """The events of each aggregate after its own version (0: all), ordered alike."""
        ...


class ApplicationBase(Application[UUID]):
    """The persistence helpers and look-ups the command mixins build on."""

    name = "gridcore"
    # The store, transcoder and mapper come with the environment a process is given (the
    # adapters' settings and their composition root, bootstrap): the pure layer names none.
    env: ClassVar[dict[str, str]] = {
        # Aggregates are cached and fast-forwarded with the events stored since; commands
        # get a deep copy, so a command that fails leaves the cache untouched.
        "AGGREGATE_CACHE_MAXSIZE": "20000",
    }

    def __init__(self, env: dict[str, str] | None = None,
                 clock: Callable[[], datetime] = utc_now) -> None:
        super().__init__(env)
        if type(self.mapper) is Mapper:
            raise TypeError(
                "GridcoreApp needs the environment of a store: its events are pydantic models "
                "that the library's default mapper cannot store. Pass one from the adapters' "
                "settings (memory_env(), sqlite_env(path), postgres_env(dsn)) or build the "
                "application with their bootstrap().")
        self.clock = clock

    # ---- persistence helpers -------------------------------------------------------------

    def _save(self, *aggregates: Aggregate | None, first: Sequence[Event] = ()) -> int | None:
        """Store the aggregates' new events in one transaction, after ``first``: events of
        new aggregates a bulk command stores without building them (a registration)."""
        events = [*first, *(e for a in aggregates if a is not None for e in a.collect_events())]
        client = _client.get()
        if client is not None:
            events.extend(ClientCommand.record(client[0], client[1], self.clock()).collect_events())
        if not events:
            return None
        recordings = self.events.put(events)
        if client is not None:
            _client.set(None)  # recorded: later saves of this command must not repeat it
        return recordings[-1].notification.id if recordings else None

    def _find(self, cls: type[A], aid: UUID, *, for_reading: bool = False) -> A | None:
        """The aggregate (None when there is none of ``cls``): a copy to change, or with
        ``for_reading`` the cached object itself (cheaper; it must not be changed).

        The repository fast-forwards a cached aggregate in place under a lock of its own but
        deep-copies it outside that lock, so a thread copying could see another thread's
        fast-forward change a dict under it ("dictionary changed size during iteration",
        sixteen threads on one household under load). One of a few striped locks per
        aggregate id makes the fast-forward and the copy of one aggregate take turns."""
        try:
            with _AGGREGATE_LOCKS[aid.int % len(_AGGREGATE_LOCKS)]:
                agg = self.repository.get(aid, projector_func=fold,
                                          deepcopy_from_cache=not for_reading)
        except AggregateNotFoundError:
            return None
        if not isinstance(agg, cls):
            return None
        return agg

    def _find_many(self, cls: type[A], ids: Iterable[UUID], *,
                   for_reading: bool = False) -> dict[UUID, A]:
        """``_find`` for many aggregates at once, by id (a copy of each to change, or with
        ``for_reading`` the cached objects themselves; those that are not of ``cls`` left
        out). With a store that reads the events of many
        aggregates each after a version of its own (``BulkEventReader``), those in the
        repository's cache are fast-forwarded and the others replayed (and cached) from one
        query, instead of a query each: a batch of 10,000 registrations over 1,000
        micro-grids spent a third of its time on PostgreSQL, and an eighth on SQLite, reading
        its micro-grids one by one. Each cached aggregate changes under its striped lock, as
        in ``_find``, taking only the events past its own version (another thread may have
        moved it on since the read)."""
        wanted = list(dict.fromkeys(ids))
        bulk = getattr(self.recorder, "select_events_after", None)
        cache = self.repository.cache
        if bulk is None or cache is None or not self.repository.fastforward:
            found = {aid: self._find(cls, aid, for_reading=for_reading) for aid in wanted}
            return {aid: agg for aid, agg in found.items() if agg is not None}
        cached: dict[UUID, Any] = {}
        for aid in wanted:
            with contextlib.suppress(KeyError):
                cached[aid] = cache.get(aid)
        events: dict[UUID, list[Any]] = {}
        for stored in bulk([(aid, cached[aid].version if aid in cached else 0)
                            for aid in wanted]):
            event = self.mapper.to_domain_event(stored)
            events.setdefault(event.originator_id, []).append(event)
        out: dict[UUID, A] = {}
        for aid in wanted:
            with _AGGREGATE_LOCKS[aid.int % len(_AGGREGATE_LOCKS)]:
                agg = cached.get(aid)
                if agg is not None:
                    agg = fold(agg, [e for e in events.get(aid, ())
                                     if e.originator_version > agg.version])
                elif aid in events:
                    agg = fold(None, events[aid])
                    cache.put(aid, agg)
                if isinstance(agg, cls):
                    out[aid] = agg if for_reading else deepcopy(agg)
        return out

    def read_without_personal_data(self, mapper: Mapper[UUID]) -> None:
        """Give the reads that need no personal data a ``mapper`` that decodes the same events
        without opening a sealed value (the composition root passes the adapters'
        ``without_personal_data``): planning a round (households and staff), checking a batch
        of visits and a campaign's coverage then replay from a cache of their own with no key
        look-up. Unsealing was half of a launch: one key query per resident and address, for
        names the plan never reads. A command that changes or shows an aggregate reads it
        whole, as before."""
        size = int(self.env.get("AGGREGATE_CACHE_MAXSIZE") or 20_000)
        self._withheld = Repository(EventStore(mapper, self.recorder), cache_maxsize=size)

    _withheld: Repository[UUID] | None = None

    def _find_withheld(self, cls: type[A], aid: UUID) -> A | None:
        """The aggregate for reading what is not personal data (ids, micro-grid, building,
        members, birth years, vulnerabilities, statuses): with its personal values withheld
        (None, not erased) when the application was given a mapper for that, else the cached
        aggregate itself. Never change, save or show it."""
        if self._withheld is None:
            return self._find(cls, aid, for_reading=True)
        try:
            with _AGGREGATE_LOCKS[aid.int % len(_AGGREGATE_LOCKS)]:
                agg = self._withheld.get(aid, projector_func=fold, deepcopy_from_cache=False)
        except AggregateNotFoundError:
            return None
        return agg if isinstance(agg, cls) else None

    def _withheld_many(self, cls: type[A], ids: Sequence[UUID]) -> dict[UUID, A]:
        """``_find_withheld`` for many aggregates at once, by id (those that are not of
        ``cls`` left out): with a store that reads the events of many aggregates in one
        query (``BulkEventReader``), replayed from those, else one by one. A sweep's launch
        and its batches of visits read thousands of households; one query each was most of
        their time."""
        bulk = getattr(self.recorder, "select_events_of", None)
        if self._withheld is None or bulk is None:
            found = {aid: self._find_withheld(cls, aid) for aid in ids}
            return {aid: agg for aid, agg in found.items() if agg is not None}
        reader = cast("BulkEventReader", self.recorder)
        mapper = self._withheld.event_store.mapper
        out: dict[UUID, A] = {}
        agg: Any = None
        current: Any = None
        for stored in reader.select_events_of(list(dict.fromkeys(ids))):
            if stored.originator_id != current:
                if isinstance(agg, cls):
                    out[agg.id] = agg
                current, agg = stored.originator_id, None
            agg = cast("Any", mapper.to_domain_event(stored)).mutate(agg)
        if isinstance(agg, cls):
            out[agg.id] = agg
        return out

    def _get_withheld(self, cls: type[A], aid: UUID, what: str, hint: str) -> A:
        """``_get`` for reading what is not personal data only (``_find_withheld``)."""
        agg = self._find_withheld(cls, aid)
        if agg is None:
            raise NotFound(f"No {what}.", hint)
        return agg

    def _household_withheld(self, hid: UUID) -> Household:
        return self._get_withheld(Household, hid, f"household {hid}",
                                  HOUSEHOLD_HINT)

    def _get(self, cls: type[A], aid: UUID, what: str, hint: str) -> A:
        agg = self._find(cls, aid)
        if agg is None:
            raise NotFound(f"No {what}.", hint)
        return agg

    def node(self, code: str) -> GridNode:
        return self._get(GridNode, node_id(code), f"grid node with code {code!r}", NODE_HINT)

    def household(self, hid: UUID) -> Household:
        return self._get(Household, hid, f"household {hid}", HOUSEHOLD_HINT)

    def sealed_households(self, community: str) -> set[UUID]:
        """The households of ``community`` in the sealed zone (封控区) of a risk zoning in
        force: deliveries reach their door first (``delivery_commands``), and
        ``door_to_door`` answers for one of them."""
        index = self._find(RiskZonings, RISK_ZONINGS_ID, for_reading=True)
        sealed: set[UUID] = set()
        for zid in index.of(community) if index is not None else ():
            z = self._find(RiskZoning, zid, for_reading=True)
            if z is not None and z.in_force:
                sealed.update(z.households.get(Zone.SEALED, ()))
        return sealed

    def household_by_no(self, household_no: str) -> Household:
        return self.household(household_id(household_no))

    def staff(self, sid: UUID) -> StaffMember:
        return self._get(StaffMember, sid, f"staff member {sid}", "Enrol the staff member first.")

    def _authorise(self, command: str, by: Actor, arguments: dict[str, Any]) -> None:
        """Refuse ``command`` unless ``by`` may give it with these ``arguments``
        (``gridcore.authority.AUTHORITY``): a system actor the rule names, or an active staff
        member of a role it names, from a jurisdiction at its level or above (a jurisdiction
        of several nodes ranks as its lowest), each place the command acts at inside one of
        its nodes."""
        if isinstance(by, System):
            check_authority(command, by)
            return
        if not isinstance(by, UUID):
            raise InvalidInput("No actor was given." if by is None else f"{by!r} is not an actor.",
                               "Give `by` a staff member's id or a gridcore.authority.System.")
        actor = self.staff(by)
        actor.require_active()  # a deactivated member gives no command at all
        rule = AUTHORITY[command]
        own = rule.own is not None and arguments.get(rule.own) == by
        homes = [self.node(code) for code in actor.jurisdictions]
        level = max(home.level for home in homes)
        check_authority(command, by, actor.role, level, own=own)
        outside = [code or "全市 the whole city" for place in rule.places
                   for code in self._places_of(place, arguments)
                   if not any(self._within(home, code) for home in homes)]
        if outside:
            check_authority(command, by, actor.role, level, outside, own)

    def _places_of(self, place: Place, arguments: dict[str, Any]) -> list[str | None]:
        """The node codes ``place`` names among a command's arguments (None: the whole city);
        the application, which knows every area, finds them."""
        raise NotImplementedError

    def _within(self, home: GridNode, code: str | None) -> bool:
        """Whether node ``code`` lies in the subtree of ``home`` (None: the whole tree, which
        only a root's subtree holds)."""
        if code is None:
            return home.parent_code is None
        current: str | None = code
        while current is not None:
            if current == home.code:
                return True
            current = self.node(current).parent_code
        return False

    def staff_by_no(self, staff_no: str) -> StaffMember:
        return self.staff(staff_id(staff_no))

    def staff_enrolled(self, ids: Iterable[UUID]) -> set[UUID]:
        """Which of these staff ids are enrolled (read in one query, names left sealed)."""
        return set(self._withheld_many(StaffMember, list(dict.fromkeys(ids))))

    def policy_book(self) -> PolicyBook | None:
        return self._find(PolicyBook, POLICY_BOOK_ID)

    def policy_at(self, when: datetime) -> Policy:
        """The policy in force at ``when``."""
        return self.policy_reader()(when)

    def policy_reader(self) -> Callable[[datetime], Policy]:
        """The policy in force at any time, from one read of the book (the cached book, not a
        copy): for a caller asking about many times, such as a stream worker's batch."""
        book = self._find(PolicyBook, POLICY_BOOK_ID, for_reading=True)
        return book.in_force if book else (lambda when: DEFAULT_POLICY)

    def check_time(self, value: Any, what: str, *, scheduled: bool = False) -> datetime:
        """A time given from outside, checked against the window of the policy in force
        now (``gridcore.clock``): every door (API, CLI, files, streams, sync) goes through
        the commands that call this, so none can store a time the read models cannot hold."""
        return self.time_checker()(value, what, scheduled=scheduled)

    def time_checker(self, in_force: Callable[[datetime], Policy] | None = None
                     ) -> Callable[..., datetime]:
        """``check_time`` with the policy read once (or given: ``policy_reader``), for a
        command checking many times."""
        now = self.clock()
        policy = (in_force or self.policy_reader())(now)

        def check(value: Any, what: str, *, scheduled: bool = False) -> datetime:
            return check_instant(value, now, policy, what, scheduled=scheduled)

        return check

    def assignment(self, scope: str, round_no: int) -> Assignment:
        return self._get(Assignment, assignment_id(scope, round_no),
                         f"assignment for {scope} round {round_no}", "Assign the scope first.")

    # ---- look-ups several areas share (grid, sweeps) -------------------------------------

    def ancestry(self, code: str) -> list[str]:
        """The node's code and its ancestors' codes, nearest first.

        The chain the cached nodes give is read in one query (``_find_many``, which brings
        each up to date), and walked on what that read; a node it did not read (a chain that
        changed since it was cached, or nothing cached) is read alone. Each node used to be
        a query of its own and a copy (boundary and all): several per command that checks a
        jurisdiction or a squad, over a third of a generated city's aggregate reads."""
        guess: list[str] = []
        cache, at = self.repository.cache, cast("str | None", code)
        while cache is not None and at is not None and len(guess) < _MAX_DEPTH:
            guess.append(at)
            try:
                at = cast("GridNode", cache.get(node_id(at))).parent_code
            except KeyError:
                break
        found = self._find_many(GridNode, [node_id(c) for c in guess or [code]],
                                for_reading=True)
        chain: list[str] = []
        current: str | None = code
        while current is not None:
            node = found.get(node_id(current)) or self._node_for_reading(current)
            chain.append(node.code)
            current = node.parent_code
        return chain

    def _node_for_reading(self, code: str) -> GridNode:
        """``node`` without the copy: never change it."""
        found = self._find(GridNode, node_id(code), for_reading=True)
        if found is None:
            raise NotFound(f"No grid node with code {code!r}.", NODE_HINT)
        return found

    def _chains(self, member: StaffMember) -> list[str]:
        """The member's nodes and their ancestors (each once)."""
        return list(dict.fromkeys(c for j in member.jurisdictions for c in self.ancestry(j)))

    def subtree(self, code: str) -> list[GridNode]:
        """The active nodes of the subtree rooted at ``code`` (root first)."""
        root = self.node(code)
        nodes, frontier = {root.code: root}, list(root.children)
        while frontier:  # a level in one query (``_find_many``), not a query per node
            read = self._find_many(GridNode, [node_id(c) for c in frontier])
            for c in frontier:
                nodes[c] = read.get(node_id(c)) or self.node(c)  # else: its NotFound
            frontier = [c for n in frontier for c in nodes[n].children]
        out, stack = [], [root]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(nodes[c] for c in reversed(node.children))
        return out

    def micro_grids(self, code: str) -> list[GridNode]:
        return [n for n in self.subtree(code) if n.level is Level.MICRO_GRID]

    def households_in(self, code: str, *, for_reading: bool = False,
                      withheld: bool = False) -> list[Household]:
        """The households of a subtree (``for_reading``: the cached objects, not copies;
        ``withheld``: read with personal values withheld, see ``_find_withheld``)."""
        if withheld:
            ids = [h for g in self.micro_grids(code) for h in g.households]
            read = self._withheld_many(Household, ids)
            return [read[h] for h in ids if h in read]
        if not for_reading:
            return [self.household(h) for g in self.micro_grids(code) for h in g.households]
        found = [self._find(Household, h, for_reading=True)
                 for g in self.micro_grids(code) for h in g.households]
        return [h for h in found if h is not None]

    def _micro_grid(self, code: str, found: GridNode | None = None) -> GridNode:
        """The active micro-grid of ``code`` (``found``: already read, see ``_find_many``)."""
        grid = found if found is not None else self.node(code)
        grid.require_active()
        if grid.level is not Level.MICRO_GRID:
            raise InvalidInput(f"{code} is a {grid.level.name.lower()}, not a micro-grid.",
                               "Register households in a micro-grid (微网格).")
        return grid

    def visit(self, cid: UUID, hid: UUID) -> Visit | None:
        return self._find(Visit, visit_id(cid, hid))

    def _done_households(self, scope: str, round_no: int, hids: list[UUID]) -> set[UUID]:
        """Households of a round its sweep already covered: moving a member's open work
        (the staff area) leaves them alone."""
        c = self._find(Campaign, campaign_id(scope, round_no))
        if c is None:
            return set()
        done = set()
        for hid in hids:
            v = self.visit(c.id, hid)
            if v is not None and v.covered(set(self.household(hid).residents)):
                done.add(hid)
        return done
