"""Contact follow-up (密接随访): per grid node the contacts under follow-up (their generation,
measure, end date, case and status), and the cases with their contacts per generation and the
size of the cluster they belong to, now or as they were at a past time.

A contact is placed at its household's micro-grid once it is a resident of the register (given
so, or matched), else at the node that follows the case up (``Case.scope``: a person outside
the register, to be located, 待落地排查); a household's move takes its contacts along. A
board of a node answers for the node and every node under it, as the tree is now (the
projection keeps its own copy of the tree, ``cf_nodes``).

``cf_contacts`` holds each contact as it is now; every change of one is also appended, whole,
to ``cf_contact_history`` with the event's time, and each case's status changes to
``cf_case_history``, so the same questions are answered ``at`` a past time (the last row of
each contact at or before it, in log order). A contact is under follow-up at a time when it
was not released then and its measure had not ended (``until`` after that time).

No personal data: people, households and cases appear by id (and case number) only; what is
known of a person outside the register stays sealed in the case (the API opens it at read time
for those allowed to see it, as it does a resident's name).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from gridcore.grid import GridNode
from gridcore.household import Household
from gridcore.status import TagKind
from gridcore.tracing import Case, CaseStatus, Generation
from projections.base import LeanEvent, Notified, Projection, ReadViews, Row, ViewCursor, handles
from projections.grid_rollup import micros
from projections.support import Under, apply_nodes, chunks, marks, node_ddl, roots, subtree_cte

NODES = "cf_nodes"
FOLLOWING, ENDED, RELEASED = "following", "ended", "released"
"""A contact's status at a time: under follow-up, its measure's end passed, released (its
index ruled out)."""

CONTACT_COLUMNS = ("generation", "kind", "measure", "until", "last_exposure", "household_id",
                   "resident_id", "grid", "released", "became_case", "promoted_by_case")
CASE_COLUMNS = ("case_no", "scope", "status", "index_household_id", "index_resident_id",
                "source_case_id", "root_case_id", "opened_at", "status_since")
_CONTACT_DDL = ("generation BIGINT NOT NULL, kind TEXT NOT NULL, measure TEXT NOT NULL, "
                "until BIGINT NOT NULL, last_exposure BIGINT NOT NULL, household_id TEXT, "
                "resident_id TEXT, grid TEXT NOT NULL, released BIGINT NOT NULL, "
                "became_case TEXT, promoted_by_case TEXT")
_CASE_EVENTS = frozenset({Case.Opened, Case.ExposureRecorded, Case.ContactMatched,
                          Case.ContactOpenedAsCase, Case.ContactPromoted, Case.Confirmed,
                          Case.RuledOut})


class _Changes:
    """One batch: the cases and contacts it touches (loaded once), households' micro-grids,
    the history rows it appends and the grid's node events."""

    def __init__(self) -> None:
        self.cases: dict[str, dict[str, Any]] = {}
        self.contacts: dict[tuple[str, str], dict[str, Any]] = {}
        self.grids: dict[str, str] = {}
        self.new_grids: dict[str, str] = {}
        self.registered: set[str] = set()  # registered in this batch: no stored rows yet
        self.dirty_cases: set[str] = set()
        self.dirty_contacts: set[tuple[str, str]] = set()
        self.history: list[tuple[Any, ...]] = []
        self.case_history: list[tuple[Any, ...]] = []
        self.nodes: list[Any] = []

    def touch(self, key: tuple[str, str], nid: int, at: datetime) -> None:
        """The contact changed: written at the end, and appended whole to the history."""
        self.dirty_contacts.add(key)
        row = self.contacts[key]
        self.history.append((*key, nid, micros(at), *(row[c] for c in CONTACT_COLUMNS)))

    def grid_of(self, household_id: str | None, case_id: str) -> str:
        if household_id is not None and household_id in self.grids:
            return self.grids[household_id]
        return str(self.cases[case_id]["scope"]) if case_id in self.cases else ""


def _load(cur: ViewCursor, sql: str, keys: Sequence[str]) -> list[Row]:
    found: list[Row] = []
    for part in chunks(keys):
        cur.execute(f"{sql} ({marks(len(part))})", part)
        found.extend(cur.fetchall())
    return found


class ContactFollowup(Projection):
    name = "contact_followup"
    tables = ("cf_cases", "cf_case_history", "cf_contacts", "cf_contact_history",
              "cf_households", NODES)
    ddl = (
        "CREATE TABLE IF NOT EXISTS cf_cases (case_id TEXT PRIMARY KEY, case_no TEXT NOT NULL, "
        "scope TEXT NOT NULL, status TEXT NOT NULL, index_household_id TEXT, "
        "index_resident_id TEXT, source_case_id TEXT, root_case_id TEXT NOT NULL, "
        "opened_at BIGINT NOT NULL, status_since BIGINT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS cf_cases_scope ON cf_cases (scope)",
        "CREATE INDEX IF NOT EXISTS cf_cases_root ON cf_cases (root_case_id)",
        "CREATE TABLE IF NOT EXISTS cf_case_history (case_id TEXT NOT NULL, seq BIGINT NOT "
        "NULL, at BIGINT NOT NULL, status TEXT NOT NULL, PRIMARY KEY (case_id, seq))",
        "CREATE TABLE IF NOT EXISTS cf_contacts (case_id TEXT NOT NULL, person_id TEXT NOT "
        f"NULL, {_CONTACT_DDL}, PRIMARY KEY (case_id, person_id))",
        "CREATE INDEX IF NOT EXISTS cf_contacts_grid ON cf_contacts (grid)",
        "CREATE INDEX IF NOT EXISTS cf_contacts_household ON cf_contacts (household_id)",
        "CREATE TABLE IF NOT EXISTS cf_contact_history (case_id TEXT NOT NULL, person_id TEXT "
        f"NOT NULL, seq BIGINT NOT NULL, at BIGINT NOT NULL, {_CONTACT_DDL}, "
        "PRIMARY KEY (case_id, person_id, seq))",
        "CREATE INDEX IF NOT EXISTS cf_contact_history_grid ON cf_contact_history (grid)",
        "CREATE TABLE IF NOT EXISTS cf_households (household_id TEXT PRIMARY KEY, "
        "micro_grid TEXT NOT NULL)",
        *node_ddl(NODES),
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Changes:
        c = _Changes()
        cases: set[str] = set()
        households: set[str] = set()
        moved: set[str] = set()
        for _, e in events:
            kind = type(e)
            if kind in _CASE_EVENTS:
                cases.add(str(e.originator_id))
                if kind is Case.Opened and e.source_case_id is not None:
                    cases.add(str(e.source_case_id))
                if kind in (Case.ExposureRecorded, Case.ContactMatched) \
                        and e.household_id is not None:
                    households.add(str(e.household_id))
            elif kind is Household.Moved:
                moved.add(str(e.originator_id))
        for r in _load(cur, f"SELECT case_id, {', '.join(CASE_COLUMNS)} FROM cf_cases "
                            "WHERE case_id IN", sorted(cases)):
            c.cases[r[0]] = dict(zip(CASE_COLUMNS, r[1:], strict=True))
        columns = f"case_id, person_id, {', '.join(CONTACT_COLUMNS)}"
        rows = [*_load(cur, f"SELECT {columns} FROM cf_contacts WHERE case_id IN",
                       sorted(cases)),
                *_load(cur, f"SELECT {columns} FROM cf_contacts WHERE household_id IN",
                       sorted(moved))]
        for r in rows:
            c.contacts[(r[0], r[1])] = dict(zip(CONTACT_COLUMNS, r[2:], strict=True))
        for hid, grid in _load(cur, "SELECT household_id, micro_grid FROM cf_households "
                                    "WHERE household_id IN", sorted(households | moved)):
            c.grids[hid] = grid
        return c

    def end(self, cur: ViewCursor, c: _Changes) -> None:
        apply_nodes(cur, NODES, c.nodes)
        cur.upsert("cf_households", "household_id, micro_grid", list(c.new_grids.items()),
                   "ON CONFLICT (household_id) DO UPDATE SET micro_grid = excluded.micro_grid",
                   c.registered)
        updates = ", ".join(f"{col} = excluded.{col}" for col in CASE_COLUMNS)
        cur.insert("cf_cases", f"case_id, {', '.join(CASE_COLUMNS)}",
                   [(k, *(c.cases[k][col] for col in CASE_COLUMNS))
                    for k in sorted(c.dirty_cases)],
                   f"ON CONFLICT (case_id) DO UPDATE SET {updates}")
        updates = ", ".join(f"{col} = excluded.{col}" for col in CONTACT_COLUMNS)
        cur.insert("cf_contacts", f"case_id, person_id, {', '.join(CONTACT_COLUMNS)}",
                   [(*k, *(c.contacts[k][col] for col in CONTACT_COLUMNS))
                    for k in sorted(c.dirty_contacts)],
                   f"ON CONFLICT (case_id, person_id) DO UPDATE SET {updates}")
        cur.insert("cf_contact_history",
                   f"case_id, person_id, seq, at, {', '.join(CONTACT_COLUMNS)}", c.history,
                   "ON CONFLICT (case_id, person_id, seq) DO NOTHING")
        cur.insert("cf_case_history", "case_id, seq, at, status", c.case_history,
                   "ON CONFLICT (case_id, seq) DO NOTHING")

    # ---- the grid and households ---------------------------------------------------------

    @handles(GridNode.Established, GridNode.Moved)
    def node(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        c.nodes.append(e)

    @handles(Household.Registered)
    def household_registered(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        hid = str(e.originator_id)
        c.grids[hid] = c.new_grids[hid] = e.micro_grid
        c.registered.add(hid)

    @handles(Household.Moved)
    def household_moved(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        hid = str(e.originator_id)
        c.grids[hid] = c.new_grids[hid] = e.micro_grid
        for key, row in c.contacts.items():
            if row["household_id"] == hid and row["grid"] != e.micro_grid:
                row["grid"] = e.micro_grid
                c.touch(key, nid, e.timestamp)

    # ---- cases ---------------------------------------------------------------------------

    def _status(self, c: _Changes, nid: int, e: LeanEvent, status: CaseStatus) -> None:
        cid = str(e.originator_id)
        case = c.cases.get(cid)
        if case is None:
            return
        case["status"], case["status_since"] = status.value, micros(e.timestamp)
        c.dirty_cases.add(cid)
        c.case_history.append((cid, nid, micros(e.timestamp), status.value))

    @handles(Case.Opened)
    def opened(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        cid, source = str(e.originator_id), e.source_case_id
        root = c.cases[source]["root_case_id"] if source in c.cases else (source or cid)
        at = micros(e.timestamp)
        c.cases[cid] = {
            "case_no": e.case_no, "scope": e.scope, "status": e.status.value,
            "index_household_id": e.index_household_id,
            "index_resident_id": e.index_resident_id, "source_case_id": source,
            "root_case_id": root, "opened_at": at, "status_since": at}
        c.dirty_cases.add(cid)
        c.case_history.append((cid, nid, at, e.status.value))

    @handles(Case.Confirmed)
    def confirmed(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        self._status(c, nid, e, CaseStatus.CONFIRMED)

    @handles(Case.RuledOut)
    def ruled_out(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        self._status(c, nid, e, CaseStatus.RULED_OUT)
        cid = str(e.originator_id)
        for pid in e.released:
            row = c.contacts.get((cid, str(pid)))
            if row is not None and not row["released"]:
                row["released"] = 1
                c.touch((cid, str(pid)), nid, e.timestamp)

    # ---- contacts ------------------------------------------------------------------------

    @handles(Case.ExposureRecorded)
    def exposure(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        cid = str(e.originator_id)
        key = (cid, str(e.person_id))
        exposed = micros(e.exposed_at)
        old = c.contacts.get(key)
        if old is None:
            hid = e.household_id
            c.contacts[key] = {
                "generation": int(e.generation),
                "kind": (TagKind.CLOSE_CONTACT if e.generation == Generation.CLOSE
                         else TagKind.SECONDARY_CONTACT).value,
                "measure": e.measure.value, "until": micros(e.until),
                "last_exposure": exposed, "household_id": hid,
                "resident_id": e.resident_id, "grid": c.grid_of(hid, cid), "released": 0,
                "became_case": None, "promoted_by_case": None}
        else:
            old.update(measure=e.measure.value, until=micros(e.until), released=0,
                       last_exposure=max(exposed, int(old["last_exposure"])))
        c.touch(key, nid, e.timestamp)

    @handles(Case.ContactMatched)
    def matched(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        cid = str(e.originator_id)
        key = (cid, str(e.person_id))
        row = c.contacts.get(key)
        if row is None:
            return
        row.update(household_id=e.household_id, resident_id=e.resident_id,
                   grid=c.grid_of(e.household_id, cid))
        c.touch(key, nid, e.timestamp)

    @handles(Case.ContactOpenedAsCase)
    def opened_as_case(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = (str(e.originator_id), str(e.person_id))
        row = c.contacts.get(key)
        if row is not None:
            row["became_case"] = str(e.case_id)
            c.touch(key, nid, e.timestamp)

    @handles(Case.ContactPromoted)
    def promoted(self, c: _Changes, nid: int, e: LeanEvent) -> None:
        key = (str(e.originator_id), str(e.person_id))
        row = c.contacts.get(key)
        if row is not None:
            row.update(kind=TagKind.CLOSE_CONTACT.value, measure=e.measure.value,
                       until=micros(e.until), promoted_by_case=str(e.because_case_id))
            c.touch(key, nid, e.timestamp)


PROJECTIONS: list[Projection] = [ContactFollowup()]


# ---- queries ---------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_micros(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


def _status(released: int, until: int, at: int) -> str:
    return RELEASED if released else (ENDED if until <= at else FOLLOWING)


@dataclass(frozen=True)
class FollowUpRow:
    """A contact of a case, as it was at the time asked: where it is followed up (``grid``:
    its household's micro-grid, or the case's node while it is to be located), its
    generation (1: close contact 密接 exposed to the index, 2: secondary 次密接), its kind
    (a secondary contact promoted is a close contact of generation 2), its measure and when
    it ends, and its status (``following``, ``ended``, ``released``)."""

    case_id: str
    case_no: str
    person_id: str
    grid: str
    generation: int
    kind: str
    measure: str
    until: datetime
    last_exposure: datetime
    household_id: str | None
    resident_id: str | None
    status: str
    became_case: str | None

    @property
    def to_locate(self) -> bool:
        """Outside the register and not matched yet (待落地排查)."""
        return self.resident_id is None


_CONTACT_SELECT = ("k.case_id, c.case_no, k.person_id, k.grid, k.generation, k.kind, "
                   "k.measure, k.until, k.last_exposure, k.household_id, k.resident_id, "
                   "k.released, k.became_case")


def _contacts_at(at: datetime | None) -> tuple[str, list[Any]]:
    """The contacts' rows ``k`` (now, or the last of each at or before ``at``)."""
    if at is None:
        return "cf_contacts k", []
    return ("(SELECT h.* FROM cf_contact_history h WHERE h.at <= ? AND h.seq = (SELECT "
            "MAX(l.seq) FROM cf_contact_history l WHERE l.case_id = h.case_id AND "
            "l.person_id = h.person_id AND l.at <= ?)) k", [micros(at), micros(at)])


def _follow_up_row(r: Row, at: int) -> FollowUpRow:
    cid, no, pid, grid, gen, kind, measure, until, last, hid, rid, released, became = r
    return FollowUpRow(cid, no, pid, grid, int(gen), kind, measure, _from_micros(until),
                       _from_micros(last), hid, rid, _status(int(released), int(until), at),
                       became)


def contacts_under(views: ReadViews, under: Under, now: datetime, *,
                   as_of: datetime | None = None, following_only: bool = True,
                   limit: int = 500) -> list[FollowUpRow]:
    """The contacts followed up in the subtree of ``under`` (one node, or each of several),
    at ``now`` or as they were at ``as_of``: those under follow-up then (or every contact of
    those nodes, ``following_only=False``), soonest end first."""
    at = as_of or now
    codes = roots(under)
    source, params = _contacts_at(as_of)
    where = " AND k.released = 0 AND k.until > ?" if following_only else ""
    rows = views.query(
        f"{subtree_cte(NODES, len(codes))}SELECT {_CONTACT_SELECT} FROM {source} "
        "JOIN cf_cases c ON c.case_id = k.case_id WHERE k.grid IN (SELECT code FROM sub)"
        f"{where} ORDER BY k.until, c.case_no, k.person_id LIMIT ?",
        (*codes, *params, *([micros(at)] if following_only else []), limit))
    return [_follow_up_row(r, micros(at)) for r in rows]


def contacts_of_case(views: ReadViews, case_id: str, now: datetime,
                     as_of: datetime | None = None) -> list[FollowUpRow]:
    """A case's contacts (every status), by generation then as traced."""
    at = as_of or now
    source, params = _contacts_at(as_of)
    rows = views.query(f"SELECT {_CONTACT_SELECT} FROM {source} JOIN cf_cases c ON "
                       "c.case_id = k.case_id WHERE k.case_id = ? ORDER BY k.generation, "
                       "k.person_id", (*params, case_id))
    return [_follow_up_row(r, micros(at)) for r in rows]


@dataclass(frozen=True)
class CaseRow:
    """A case as it was at the time asked, with its contacts per generation (``close``:
    generation 1, ``secondary``: generation 2; ``following``: those under follow-up then)
    and its cluster: the cases connected to it through their source cases (``root_case_id``
    is the first), and how many people the cluster counts (every case's index, and every
    contact who did not become a case of the cluster)."""

    case_id: str
    case_no: str
    scope: str
    status: str
    source_case_id: str | None
    root_case_id: str
    opened_at: datetime
    close: int
    secondary: int
    following: int
    cluster_cases: int
    cluster_size: int

    @property
    def contacts(self) -> int:
        return self.close + self.secondary


def cases_under(views: ReadViews, under: Under, now: datetime, *,
                as_of: datetime | None = None, limit: int = 200) -> list[CaseRow]:
    """The cases followed up by a node of the subtree of ``under`` opened by then, with their
    status and counts at ``now`` or ``as_of``, oldest first."""
    codes = roots(under)
    at = micros(as_of or now)
    rows = views.query(
        f"{subtree_cte(NODES, len(codes))}SELECT c.case_id FROM cf_cases c WHERE c.scope IN "
        "(SELECT code FROM sub) AND c.opened_at <= ? ORDER BY c.opened_at, c.case_no LIMIT ?",
        (*codes, at, limit))
    return cases_by_id(views, [r[0] for r in rows], now, as_of=as_of)


def cases_by_id(views: ReadViews, ids: Sequence[str], now: datetime, *,
                as_of: datetime | None = None) -> list[CaseRow]:
    """The cases of ``ids`` (those opened by then), in the order given."""
    at = micros(as_of or now)
    found: dict[str, tuple[Any, ...]] = {}
    for part in chunks(list(ids)):
        for r in views.query(
                "SELECT c.case_id, c.case_no, c.scope, c.source_case_id, c.root_case_id, "
                "c.opened_at, (SELECT s.status FROM cf_case_history s WHERE s.case_id = "
                "c.case_id AND s.at <= ? ORDER BY s.seq DESC LIMIT 1) FROM cf_cases c "
                f"WHERE c.case_id IN ({marks(len(part))}) AND c.opened_at <= ?",
                (at, *part, at)):
            found[r[0]] = r
    rootset = sorted({r[4] for r in found.values()})
    clusters = _clusters(views, rootset, as_of, at)
    counts = _counts(views, sorted(found), as_of, at)
    out = []
    for cid in ids:
        if cid not in found:
            continue
        _, no, scope, source, root, opened, status = found[cid]
        close, secondary, following = counts.get(cid, (0, 0, 0))
        n_cases, people = clusters.get(root, (1, 1))
        out.append(CaseRow(cid, no, scope, status or CaseStatus.SUSPECTED.value, source, root,
                           _from_micros(opened), close, secondary, following, n_cases,
                           people))
    return out


def _counts(views: ReadViews, ids: Sequence[str], as_of: datetime | None,
            at: int) -> dict[str, tuple[int, int, int]]:
    source, params = _contacts_at(as_of)
    out: dict[str, tuple[int, int, int]] = {}
    for part in chunks(list(ids)):
        for cid, close, secondary, following in views.query(
                "SELECT k.case_id, SUM(CASE WHEN k.generation = 1 THEN 1 ELSE 0 END), "
                "SUM(CASE WHEN k.generation = 2 THEN 1 ELSE 0 END), SUM(CASE WHEN "
                f"k.released = 0 AND k.until > ? THEN 1 ELSE 0 END) FROM {source} "
                f"WHERE k.case_id IN ({marks(len(part))}) GROUP BY k.case_id",
                (at, *params, *part)):
            out[cid] = (int(close), int(secondary), int(following))
    return out


def _clusters(views: ReadViews, root_ids: Sequence[str], as_of: datetime | None,
              at: int) -> dict[str, tuple[int, int]]:
    """Per cluster (its root case): its cases opened by then, and its people (each case's
    index, and each contact that did not become a case by then: one opened as a case is that
    case's index)."""
    source, params = _contacts_at(as_of)
    out: dict[str, tuple[int, int]] = {}
    for part in chunks(list(root_ids)):
        cases: dict[str, int] = dict(views.query(
            "SELECT root_case_id, COUNT(*) FROM cf_cases WHERE opened_at <= ? AND "
            f"root_case_id IN ({marks(len(part))}) GROUP BY root_case_id", (at, *part)))
        people: dict[str, int] = dict(views.query(
            f"SELECT c.root_case_id, COUNT(*) FROM {source} JOIN cf_cases c ON "
            "c.case_id = k.case_id WHERE k.became_case IS NULL AND "
            f"c.root_case_id IN ({marks(len(part))}) GROUP BY c.root_case_id",
            (*params, *part)))
        for root in part:
            n = int(cases.get(root, 0))
            out[root] = (n, n + int(people.get(root, 0)))
    return out


@dataclass
class GridFollowUp:
    """A node's contacts under follow-up at the time asked, its own and its subtree's
    (rolled up), by kind, with those still to be located and the cases they come from."""

    code: str
    parent: str | None
    close: int = 0
    secondary: int = 0
    to_locate: int = 0
    cases: set[str] = field(default_factory=set)

    @property
    def contacts(self) -> int:
        return self.close + self.secondary


def follow_up_by_node(views: ReadViews, under: Under, now: datetime, *,
                      as_of: datetime | None = None) -> dict[str, GridFollowUp]:
    """Every node of the subtree of ``under`` with the contacts under follow-up at it and
    under it (a micro-grid's own, a community's its micro-grids' and those to locate it
    follows up itself, and so up to the roots), at ``now`` or ``as_of``; by code."""
    codes = roots(under)
    out = {code: GridFollowUp(code, parent) for code, parent in views.query(
        f"{subtree_cte(NODES, len(codes))}SELECT n.code, n.parent FROM {NODES} n "
        "WHERE n.code IN (SELECT code FROM sub)", codes)}
    for r in contacts_under(views, under, now, as_of=as_of, limit=1_000_000):
        code: str | None = r.grid
        seen: set[str] = set()
        while code is not None and code in out and code not in seen:
            seen.add(code)
            g = out[code]
            if r.kind == TagKind.CLOSE_CONTACT.value:
                g.close += 1
            else:
                g.secondary += 1
            g.to_locate += r.to_locate
            g.cases.add(r.case_id)
            code = g.parent
    return dict(sorted(out.items()))


def case_ids(views: ReadViews, numbers: Sequence[str]) -> dict[str, UUID]:
    """Case number -> case id, of the numbers known to the read model."""
    out: dict[str, UUID] = {}
    for part in chunks(list(numbers)):
        for no, cid in views.query("SELECT case_no, case_id FROM cf_cases WHERE case_no IN "
                                   f"({marks(len(part))})", part):
            out[no] = UUID(cid)
    return out
