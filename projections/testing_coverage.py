"""Testing coverage (全员核酸检测覆盖): per mass-testing campaign and grid node, the residents
expected, sampled, sampled at home (door-to-door households), the tubes pending, the
positives and the residents under the campaign's temporary control, now or as it was at a
past time.

A resident of a campaign is one row (``tc_residents``) at the micro-grid and community the
campaign scheduled their household to; every change of a row is a time set once (sampled,
found positive, put under control, released: a campaign never undoes one), so a question
``at`` a past time compares those times, with no history table. A tube (``tc_tubes``) has the
time of its first sample and of its result; its members (``tc_tube_members``) the time each
went in, so a tube pending at a time counts at the nodes of its members by then.

No personal data: campaigns by id, scope code and round; residents and households by id;
tubes by code; node codes, counts and times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID

from gridcore.mass_testing import TestingCampaign, mass_testing_id
from projections.base import (
    BufferedInserts,
    LeanEvent,
    Notified,
    Projection,
    ReadViews,
    ViewCursor,
    handles,
)
from projections.grid_rollup import micros

NEVER = 2**62
"""A time after any (the answer now)."""


class TestingCoverage(Projection):
    __test__ = False  # not a pytest class
    name = "testing_coverage"
    tables = ("tc_campaigns", "tc_residents", "tc_tubes", "tc_tube_members")
    ddl = (
        "CREATE TABLE IF NOT EXISTS tc_campaigns (campaign_id TEXT PRIMARY KEY, scope TEXT NOT "
        "NULL, round_no BIGINT NOT NULL, launched_at BIGINT NOT NULL, starts BIGINT NOT NULL, "
        "ends BIGINT NOT NULL, pool_size BIGINT NOT NULL, follow_up_of TEXT)",
        "CREATE INDEX IF NOT EXISTS tc_campaigns_scope ON tc_campaigns (scope, round_no)",
        "CREATE TABLE IF NOT EXISTS tc_residents (campaign_id TEXT NOT NULL, resident_id TEXT "
        "NOT NULL, household_id TEXT NOT NULL, micro_grid TEXT NOT NULL, community TEXT NOT "
        "NULL, door_to_door BIGINT NOT NULL, sampled_at BIGINT, positive_at BIGINT, "
        "controlled_at BIGINT, released_at BIGINT, PRIMARY KEY (campaign_id, resident_id))",
        "CREATE TABLE IF NOT EXISTS tc_tubes (campaign_id TEXT NOT NULL, code TEXT NOT NULL, "
        "retest BIGINT NOT NULL, first_at BIGINT NOT NULL, result TEXT, result_at BIGINT, "
        "PRIMARY KEY (campaign_id, code))",
        "CREATE TABLE IF NOT EXISTS tc_tube_members (campaign_id TEXT NOT NULL, code TEXT NOT "
        "NULL, resident_id TEXT NOT NULL, at BIGINT NOT NULL, "
        "PRIMARY KEY (campaign_id, code, resident_id))",
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Batch:
        return _Batch(cur)

    def end(self, cur: ViewCursor, b: _Batch) -> None:
        b.flush()

    @handles(TestingCampaign.Launched)
    def launched(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        cid = str(e.originator_id)
        b.insert("tc_campaigns", "campaign_id, scope, round_no, launched_at, starts, ends, "
                 "pool_size, follow_up_of",
                 [(cid, e.scope, int(e.round_no), micros(e.timestamp), micros(e.starts),
                   micros(e.ends), int(e.pool_size),
                   str(e.follow_up_of) if e.follow_up_of is not None else None)],
                 "ON CONFLICT (campaign_id) DO NOTHING")
        members = {str(h): m for h, m in e.members.items()}
        b.insert("tc_residents", "campaign_id, resident_id, household_id, micro_grid, "
                 "community, door_to_door",
                 [(cid, str(rid), str(a.household_id), a.micro_grid, a.community,
                   int(bool(a.door_to_door_reason)))
                  for a in e.assignments for rid in members.get(str(a.household_id), [])],
                 "ON CONFLICT (campaign_id, resident_id) DO NOTHING")

    @handles(TestingCampaign.Sampled)
    def sampled(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        cid, at = str(e.originator_id), micros(e.timestamp)
        for s in e.samples:
            b.tubes.setdefault((cid, s.tube_code), (cid, s.tube_code, int(s.retest), at))
            b.members.setdefault((cid, s.tube_code, str(s.resident_id)),
                                 (cid, s.tube_code, str(s.resident_id), at))
            if not s.retest:
                b.change(_SAMPLED, (cid, str(s.resident_id)), (at, cid, str(s.resident_id)),
                         first=True)

    @handles(TestingCampaign.ResultRecorded)
    def result(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        cid = str(e.originator_id)
        b.change(_RESULT, (cid, e.code), (e.result.value, micros(e.timestamp), cid, e.code),
                 first=True)

    @handles(TestingCampaign.ControlImposed)
    def controlled(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        cid, at = str(e.originator_id), micros(e.timestamp)
        for r in e.residents:
            b.change(_CONTROLLED, (cid, str(r)), (at, cid, str(r)), first=True)

    @handles(TestingCampaign.ControlReleased)
    def released(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        cid, at = str(e.originator_id), micros(e.timestamp)
        for r in e.residents:
            b.change(_RELEASED, (cid, str(r)), (at, cid, str(r)), first=True)

    @handles(TestingCampaign.CaseOpened)
    def case(self, b: _Batch, nid: int, e: LeanEvent) -> None:
        cid = str(e.originator_id)
        b.change(_POSITIVE, (cid, str(e.resident_id)),
                 (micros(e.timestamp), cid, str(e.resident_id)), first=True)


def _set_once(table: str, column: str, key: str) -> str:
    return (f"UPDATE {table} SET {column} = ? WHERE campaign_id = ? AND {key} = ? "
            f"AND {column} IS NULL")


_SAMPLED = _set_once("tc_residents", "sampled_at", "resident_id")
_CONTROLLED = _set_once("tc_residents", "controlled_at", "resident_id")
_RELEASED = _set_once("tc_residents", "released_at", "resident_id")
_POSITIVE = _set_once("tc_residents", "positive_at", "resident_id")
_RESULT = ("UPDATE tc_tubes SET result = ?, result_at = ? WHERE campaign_id = ? AND code = ? "
           "AND result IS NULL")


class _Batch(BufferedInserts):
    """A batch of testing coverage: its rows and the times it sets wait and go in at its end,
    one statement per table and kind of change instead of one or more per event (on
    PostgreSQL a round trip each: a city's testing round is millions of samples). Every time
    is set once (the statements' ``IS NULL``: the first wins), and so is a tube's first
    sample and each member's, so the first per row of the batch is kept."""

    def __init__(self, inner: ViewCursor) -> None:
        super().__init__(inner)
        self.tubes: dict[tuple[str, str], tuple[str, str, int, int]] = {}
        self.members: dict[tuple[str, str, str], tuple[str, str, str, int]] = {}

    def flush(self) -> None:
        tubes, self.tubes = list(self.tubes.values()), {}
        members, self.members = list(self.members.values()), {}
        self.insert("tc_tubes", "campaign_id, code, retest, first_at", tubes,
                    "ON CONFLICT (campaign_id, code) DO NOTHING")
        self.insert("tc_tube_members", "campaign_id, code, resident_id, at", members,
                    "ON CONFLICT (campaign_id, code, resident_id) DO NOTHING")
        super().flush()  # the new rows, then the times (a result may name a new tube)


PROJECTIONS: list[Projection] = [TestingCoverage()]


# ---- queries ---------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _time(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(value))


def _at(as_of: datetime | None) -> int:
    return NEVER if as_of is None else micros(as_of)


@dataclass(frozen=True)
class CampaignRow:
    campaign_id: str
    scope: str
    round_no: int
    launched_at: datetime
    starts: datetime
    ends: datetime
    pool_size: int
    follow_up_of: str | None


def campaign(views: ReadViews, scope: str, round_no: int,
             as_of: datetime | None = None) -> CampaignRow | None:
    """The campaign of ``round_no`` over ``scope``, if launched by ``as_of``."""
    rows = views.query("SELECT campaign_id, scope, round_no, launched_at, starts, ends, "
                       "pool_size, follow_up_of FROM tc_campaigns WHERE campaign_id = ? AND "
                       "launched_at <= ?",
                       (str(mass_testing_id(scope, round_no)), _at(as_of)))
    if not rows:
        return None
    r = rows[0]
    return CampaignRow(str(r[0]), str(r[1]), int(r[2]), _time(r[3]), _time(r[4]), _time(r[5]),
                       int(r[6]), str(r[7]) if r[7] is not None else None)


@dataclass
class NodeCoverage:
    """A grid node's coverage in a campaign at a time (at its micro-grids, communities and the
    campaign's scope)."""

    code: str
    households: int = 0
    residents: int = 0
    sampled: int = 0
    door_to_door: int = 0
    """households sampled at home (上门采样)"""
    tubes_pending: int = 0
    positives: int = 0
    under_control: int = 0
    unsampled_households: list[str] = field(default_factory=list)

    @property
    def unsampled(self) -> int:
        return self.residents - self.sampled

    @property
    def share(self) -> float:
        return self.sampled / self.residents if self.residents else 1.0


def coverage(views: ReadViews, campaign_id: str | UUID,
             as_of: datetime | None = None) -> dict[str, NodeCoverage]:
    """Per micro-grid, community and the campaign's scope, as it was at ``as_of`` (default
    now): empty when the campaign was not launched by then."""
    at, cid = _at(as_of), str(campaign_id)
    scoped = views.query("SELECT scope FROM tc_campaigns WHERE campaign_id = ? AND "
                         "launched_at <= ?", (cid, at))
    if not scoped:
        return {}
    scope = str(scoped[0][0])
    out: dict[str, NodeCoverage] = {}
    households: dict[str, set[str]] = {}
    unsampled: dict[str, set[str]] = {}
    nodes_of: dict[str, tuple[str, ...]] = {}
    for (rid, hid, micro, community, home, sampled, positive, controlled,
         released) in views.query(
            "SELECT resident_id, household_id, micro_grid, community, door_to_door, "
            "sampled_at, positive_at, controlled_at, released_at FROM tc_residents WHERE "
            "campaign_id = ? ORDER BY resident_id", (cid,)):
        codes = tuple(dict.fromkeys((str(micro), str(community), scope)))
        nodes_of[str(rid)] = codes
        for code in codes:
            n = out.setdefault(code, NodeCoverage(code))
            first = str(hid) not in households.setdefault(code, set())
            households[code].add(str(hid))
            n.households += first
            n.door_to_door += first and bool(home)
            n.residents += 1
            if sampled is not None and int(sampled) <= at:
                n.sampled += 1
            else:
                unsampled.setdefault(code, set()).add(str(hid))
            n.positives += positive is not None and int(positive) <= at
            n.under_control += (controlled is not None and int(controlled) <= at
                                and (released is None or int(released) > at))
    pending: dict[str, set[str]] = {}
    for code, rid in views.query(
            "SELECT t.code, m.resident_id FROM tc_tubes t JOIN tc_tube_members m ON "
            "m.campaign_id = t.campaign_id AND m.code = t.code WHERE t.campaign_id = ? AND "
            "m.at <= ? AND (t.result_at IS NULL OR t.result_at > ?)", (cid, at, at)):
        for node in nodes_of.get(str(rid), ()):
            pending.setdefault(node, set()).add(str(code))
    for code, n in out.items():
        n.tubes_pending = len(pending.get(code, ()))
        n.unsampled_households = sorted(unsampled.get(code, ()))
    return out


def campaigns_of(views: ReadViews, scopes: Sequence[str]) -> list[CampaignRow]:
    """The campaigns over any of ``scopes``, by scope and round."""
    if not scopes:
        return []
    marks = ", ".join("?" * len(scopes))
    return [CampaignRow(str(r[0]), str(r[1]), int(r[2]), _time(r[3]), _time(r[4]),
                        _time(r[5]), int(r[6]), str(r[7]) if r[7] is not None else None)
            for r in views.query(
                "SELECT campaign_id, scope, round_no, launched_at, starts, ends, pool_size, "
                f"follow_up_of FROM tc_campaigns WHERE scope IN ({marks}) ORDER BY scope, "
                "round_no", list(scopes))]
