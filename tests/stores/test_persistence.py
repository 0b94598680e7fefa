"""The application on every store: what one application writes, a second one replays identically;
commands return increasing notification ids; client ids make retries no-ops; a batch is one
transaction."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.vault import KEY_TABLE
from gridcore.application import (
    GridcoreApp,
    HouseholdRow,
    RegistrationReport,
    new_member,
)
from gridcore.assignment import assignment_id
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.errors import (
    DuplicateCode,
    ForbiddenTransition,
    InvalidInput,
    NodeRetired,
    NotFound,
)
from gridcore.grid import GridNode, node_id
from gridcore.household import Vulnerability, household_id, resident_id
from gridcore.policy import DEFAULT_POLICY, POLICY_BOOK_ID
from gridcore.staff import Role
from gridcore.status import Health, Measure, Tag, TagKind
from tests.conftest import PG_DSN
from tests.scenario import CITY, COMMUNITY, ZONES, given_community
from tests.stores import (
    KEYS_IN_ROW_POSTGRES,
    KEYS_IN_ROW_SQLITE,
    key_rows,
    keys_in,
    store_kind,
    subject_keys,
)

BATCH = 10_000


# ---- looking underneath the application ----------------------------------------------------

def last_id(app: GridcoreApp) -> int:
    return app.recorder.max_notification_id() or 0


def all_originators(app: GridcoreApp) -> list[UUID]:
    seen: dict[UUID, None] = {}
    for n in app.recorder.select_notifications(start=1, limit=1_000_000):
        oid = n.originator_id
        seen[oid if isinstance(oid, UUID) else UUID(oid)] = None
    return list(seen)


def state_of(app: GridcoreApp, aid: UUID) -> dict[str, Any]:
    agg = app.repository.get(aid)
    return {"class": type(agg).__qualname__, **vars(agg)}


@contextlib.contextmanager
def pg_watchdog(app: GridcoreApp, seconds: float) -> Iterator[dict[str, bool]]:
    """If the block outlasts ``seconds`` on PostgreSQL, keep terminating the sessions busy in the
    application's schema, so a hung insert fails the test instead of hanging the run."""
    state = {"fired": False}
    if store_kind(app) != "postgres":
        yield state
        return
    import psycopg

    schema = app.recorder.datastore.schema  # type: ignore[attr-defined]
    done = threading.Event()

    def watch() -> None:
        if done.wait(seconds):
            return
        state["fired"] = True
        with psycopg.connect(PG_DSN, autocommit=True) as c:
            while not done.wait(0.2):
                c.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE pid <> pg_backend_pid() AND state <> 'idle' "
                          "AND position(%s in query) > 0", (f'"{schema}"',))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield state
    finally:
        done.set()
        watcher.join()


class Ids:
    """Collects the notification ids commands return and checks they increase."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(self, nid: int | None) -> int:
        assert isinstance(nid, int), f"a command that wrote returned {nid!r}"
        assert not self.seen or nid > self.seen[-1], (self.seen[-1], nid)
        self.seen.append(nid)
        return nid


def rows_for(n: int, zone: str, prefix: str = "B") -> list[HouseholdRow]:
    return [HouseholdRow(f"{prefix}-{i}", zone, f"{i // 100}栋{i % 100 + 1:02d}01",
                         [new_member(f"{prefix}-{i}", 1, f"居民{i}")]) for i in range(n)]


# ---- a second application replays identical state -------------------------------------------

def test_everything_a_community_does_replays_identically(make_app, clock):
    app = make_app()
    c = given_community(app, households_per_zone=3)
    ids = Ids()
    t0 = clock.now
    h0, h1, h2, h3, h4, h5 = c.households
    r0a, r0b = resident_id("712-1-0", 1), resident_id("712-1-0", 2)
    r1a, r1b = resident_id("712-1-1", 1), resident_id("712-1-1", 2)

    # statuses
    ids(app.change_health(h1, r1a, Health.SUSPECTED, c.doctor, "发热 fever"))
    ids(app.tag_resident(h1, r1a, Tag(kind=TagKind.CLOSE_CONTACT, note="同楼"), c.worker))
    ids(app.untag_resident(h1, r1a, TagKind.CLOSE_CONTACT, c.doctor, "核实排除"))
    ids(app.tag_resident(h2, resident_id("712-1-2", 1),
                         Tag(kind=TagKind.RISK_AREA_ARRIVAL, origin="云南",
                             arrived_on=t0.date() - timedelta(days=2)), c.worker))
    ids(app.mark_vulnerability(h1, r1b, Vulnerability.CHRONIC_ILLNESS, by=System.OPERATOR))
    ids(app.change_measure(h0, r0b, Measure.HOME_QUARANTINE, c.worker, "密接"))

    # a policy adopted now, effective in five days: decisions use the one in force then
    shorter = DEFAULT_POLICY.with_changes(
        quarantine_days={**DEFAULT_POLICY.quarantine_days, "home_quarantine": 7})
    # the policy holds for the whole city: an official of the city adopts it
    app.enrol_staff("CITY-OF", "市领导", Role.OFFICIAL, CITY, 0, by=System.OPERATOR)
    ids(app.adopt_policy(shorter, t0 + timedelta(days=5), "7天居家隔离",
                         by=app.staff_by_no("CITY-OF").id))
    clock.advance(days=4)
    ids(app.record_test(h0, r0b, True, by=System.OPERATOR))
    with pytest.raises(ForbiddenTransition, match="14-day"):
        app.change_measure(h0, r0b, Measure.NONE, c.doctor, "解除")
    clock.advance(days=4)
    ids(app.record_test(h0, r0b, True, by=System.OPERATOR))
    ids(app.change_measure(h0, r0b, Measure.NONE, c.doctor, "期满解除"))
    assert app.policy_at(t0 + timedelta(days=4)) == DEFAULT_POLICY
    assert app.policy_at(t0 + timedelta(days=8)) == shorter

    # moves, a split and a merge
    zone3, zone4, zone5, zone6 = (f"{COMMUNITY}-{i:02d}" for i in (3, 4, 5, 6))
    ids(app.create_node(zone3, "第3片区", COMMUNITY, by=System.OPERATOR))
    ids(app.register_building(COMMUNITY, "3", floors=18, by=System.OPERATOR))
    bid = building_id(COMMUNITY, "3")
    ids(app.move_household(h0, zone3, bid, "3栋1单元101", by=System.OPERATOR))
    ids(app.rename_node(zone3, "第三片区", by=System.OPERATOR))
    ids(app.split_micro_grid(ZONES[1], {zone4: ("第4片区", [h3]), zone5: ("第5片区", [h4, h5])},
                             by=System.OPERATOR))
    ids(app.merge_micro_grids([zone4, zone5], zone6, "第6片区", by=System.OPERATOR))
    with pytest.raises(NodeRetired):
        app.register_household("712-9-9", zone4, "9栋101", [new_member("712-9-9", 1, "周七")],
                               by=System.OPERATOR)

    # staff, a responsible worker, a squad, an assignment round
    ids(app.enrol_staff("GW2", "孙网格", Role.GRID_WORKER, COMMUNITY, 30, "13700002222",
                        resident=(h1, r1b), by=System.OPERATOR))
    gw2 = app.staff_by_no("GW2").id
    ids(app.assign_responsible_worker(zone6, gw2, by=System.OPERATOR))
    ids(app.form_squad(ZONES[0], [c.volunteer], by=System.OPERATOR))
    before = last_id(app)
    plan = app.assign_scope(COMMUNITY, 1, days=2, by=System.OPERATOR)
    assert last_id(app) > before
    assert {i.household_id for i in plan.items} == set(c.households) and not plan.uncovered
    assert app.assignment(COMMUNITY, 1).owner == {i.household_id: i.staff_id for i in plan.items}
    ids(app.set_staff_availability(c.volunteer, False, "病假",
                                   by=System.OPERATOR))  # moves the volunteer's work

    # the same application, read back
    assert app.household(h0).micro_grid == zone3
    assert app.node(zone6).households == {h3: 2, h4: 2, h5: 2}
    assert app.node(ZONES[1]).retired and app.node(ZONES[1]).successors == [zone4, zone5]
    assert app.node(COMMUNITY).children == [ZONES[0], zone3, zone6]

    second = make_app()
    for aid in all_originators(app):
        assert state_of(second, aid) == state_of(app, aid), aid
    assert len(all_originators(second)) == len(all_originators(app))

    h = second.household(h0)
    assert (h.micro_grid, h.building_id, h.address.text) == (zone3, bid, "3栋1单元101")
    assert [g for _, g in h.grid_history] == [ZONES[0], zone3]
    assert h.residents[r0a].identity.name == "张三"
    assert h.residents[r0a].identity.phone.reveal() == "13812341234"
    assert h.residents[r0b].measure is Measure.NONE
    assert h.residents[r0b].last_negative_test == t0 + timedelta(days=8)
    h1_ = second.household(h1)
    assert h1_.residents[r1a].health is Health.SUSPECTED and not h1_.residents[r1a].tags
    assert h1_.residents[r1b].vulnerabilities == {Vulnerability.CHRONIC_ILLNESS}
    assert h1_.residents[r1b].staff_id == gw2
    assert second.household(h2).residents[resident_id("712-1-2", 1)].tags[
        TagKind.RISK_AREA_ARRIVAL].origin == "云南"
    assert second.household(h4).micro_grid == zone6
    for code in (zone4, zone5):
        n = second.node(code)
        assert n.retired and n.successors == [zone6] and not n.households
    assert second.node(zone3).name == "第三片区"
    assert second.node(zone6).responsible_worker == gw2
    assert second.node(ZONES[0]).squad == [c.volunteer]
    assert second.policy_at(t0 + timedelta(days=4)) == DEFAULT_POLICY
    assert second.policy_at(t0 + timedelta(days=8)).quarantine_days["home_quarantine"] == 7
    owner = second.assignment(COMMUNITY, 1).owner
    assert set(owner) == set(c.households) and c.volunteer not in owner.values()
    assert second.node(COMMUNITY).rounds == [1]
    assert not second.staff(c.volunteer).available
    assert second.staff(gw2).resident == (h1, r1b)
    assert {m.staff_no for m in second.staff_in(COMMUNITY)} == {"GW1", "DOC1", "OFF1", "VOL1",
                                                               "GW2"}
    assert second.repository.get(POLICY_BOOK_ID).version == 2
    assert second.repository.get(assignment_id(COMMUNITY, 1)).days == 2
    assert second.repository.get(node_id(COMMUNITY)).name == "712社区"


def test_notification_ids_increase_across_applications(make_app):
    first = make_app()
    c = given_community(first, households_per_zone=1)
    rid = resident_id("712-1-0", 2)
    ids = Ids()
    ids(first.record_test(c.households[0], rid, True, by=System.OPERATOR))
    second = make_app()
    ids(second.record_test(c.households[0], rid, False, by=System.OPERATOR))
    ids(first.mark_vulnerability(c.households[0], rid, Vulnerability.DISABILITY,
                                 by=System.OPERATOR))
    ids(second.mark_vulnerability(c.households[0], rid, Vulnerability.DISABILITY, False,
                                  by=System.OPERATOR))
    assert ids.seen[-1] == last_id(first) == last_id(second)
    # a command that raises writes nothing
    before = last_id(first)
    with pytest.raises(DuplicateCode):
        first.create_node(ZONES[0], "重复", COMMUNITY, by=System.OPERATOR)
    with pytest.raises(NotFound):
        first.record_test(c.households[0], resident_id("712-1-0", 9), True, by=System.OPERATOR)
    assert last_id(second) == before


# ---- idempotency ----------------------------------------------------------------------------

def test_a_command_retried_with_its_client_id_writes_once(make_app):
    app = make_app()
    c = given_community(app, households_per_zone=1)
    hid, rid = c.households[0], resident_id("712-1-0", 1)
    versions = len(app.recorder.select_events(hid))
    first = app.record_test(hid, rid, True, client_id="phone-17/cmd-0001", by=System.OPERATOR)
    assert isinstance(first, int)
    assert len(app.recorder.select_events(hid)) == versions + 1
    written = last_id(app)

    again = app.record_test(hid, rid, True, client_id="phone-17/cmd-0001", by=System.OPERATOR)
    assert isinstance(again, int) and again >= first
    assert last_id(app) == written
    assert len(app.recorder.select_events(hid)) == versions + 1

    other = make_app()
    third = other.record_test(hid, rid, True, client_id="phone-17/cmd-0001", by=System.OPERATOR)
    assert isinstance(third, int) and third >= first
    assert last_id(other) == written

    # a retried registration is not a duplicate: it was applied once
    members = [new_member("712-8-1", 1, "钱八")]
    n = app.register_household("712-8-1", ZONES[0], "8栋101", members, client_id="reg-8-1",
                               by=System.OPERATOR)
    assert other.register_household("712-8-1", ZONES[0], "8栋101", members,
                                    client_id="reg-8-1", by=System.OPERATOR) >= n
    with pytest.raises(DuplicateCode):
        other.register_household("712-8-1", ZONES[0], "8栋101", members, client_id="reg-8-2",
                                 by=System.OPERATOR)
    assert other.node(ZONES[0]).households[household_id("712-8-1")] == 1

    # one client id names one command
    with pytest.raises(InvalidInput, match="already used for record_test"):
        app.mark_vulnerability(hid, rid, Vulnerability.DISABILITY,
                               client_id="phone-17/cmd-0001", by=System.OPERATOR)
    assert last_id(other) == last_id(app)


def test_a_retried_batch_is_a_no_op(make_app):
    app = make_app()
    given_community(app, households_per_zone=1)
    rows = rows_for(60, ZONES[0], prefix="R")
    report = app.register_households(rows[:40], by=System.OPERATOR)
    assert (report.registered, report.already_registered) == (40, 0)
    assert isinstance(report.notification_id, int)
    written, keys = last_id(app), subject_keys(app)

    retry = app.register_households(rows[:40], by=System.OPERATOR)
    assert (retry.registered, retry.already_registered) == (0, 40)
    assert last_id(app) == written and subject_keys(app) == keys

    second = make_app()
    retry = second.register_households(rows[:40], by=System.OPERATOR)
    assert (retry.registered, retry.already_registered) == (0, 40)
    assert last_id(second) == written

    more = second.register_households(rows, by=System.OPERATOR)
    assert (more.registered, more.already_registered) == (20, 40)
    assert len(second.node(ZONES[0]).households) == 1 + 60
    assert subject_keys(second) == keys + 20 * 2


def test_a_large_batch_overlapping_a_registered_one_adds_only_the_new_households(make_app):
    """Large enough for PostgreSQL's COPY path: a duplicate there fails the whole COPY, and
    the batch is registered again without the households already in."""
    app = make_app()
    given_community(app, households_per_zone=1)
    rows = rows_for(900, ZONES[0], prefix="L")
    first = app.register_households(rows[:400], by=System.OPERATOR)
    assert (first.registered, first.already_registered) == (400, 0)
    keys = subject_keys(app)
    ids = Ids()
    ids(first.notification_id)
    more = app.register_households(rows, by=System.OPERATOR)
    assert (more.registered, more.already_registered) == (500, 400)
    assert ids(more.notification_id) == last_id(app) == first.notification_id + 500 + 1
    assert subject_keys(app) == keys + 2 * 500
    second = make_app()
    assert len(second.node(ZONES[0]).households) == 1 + 900
    assert second.household_by_no("L-899").address.text == "8栋10001"
    ids(second.record_test(household_id("L-450"), resident_id("L-450", 1), True,
                           by=System.OPERATOR))


def test_a_batch_retried_with_its_client_id_returns_a_report(make_app):
    app = make_app()
    given_community(app, households_per_zone=1)
    rows = rows_for(5, ZONES[0], prefix="C")
    first = app.register_households(rows, client_id="sync-batch-1", by=System.OPERATOR)
    assert isinstance(first, RegistrationReport)
    again = app.register_households(rows, client_id="sync-batch-1", by=System.OPERATOR)
    assert isinstance(again, RegistrationReport)


# ---- a batch is one transaction --------------------------------------------------------------

def _count_inserts(app: GridcoreApp, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    original = app.recorder.insert_events

    def counting(stored_events, **kwargs):
        calls.append(len(stored_events))
        return original(stored_events, **kwargs)

    monkeypatch.setattr(app.recorder, "insert_events", counting)
    return calls


# The watchdog turns a hang into a failure: at HEAD (commit 8ccb8a0) eventsourcing's pipelined
# insert hung here on PostgreSQL (psycopg pipeline mode stalls on a ~7.5 MB bind message).
def test_a_batch_of_ten_thousand_households_is_one_transaction(make_app, monkeypatch):
    app = make_app()
    given_community(app, households_per_zone=1)
    before, keys = last_id(app), subject_keys(app)
    calls = _count_inserts(app, monkeypatch)
    with pg_watchdog(app, seconds=6) as watchdog:
        try:
            report = app.register_households(rows_for(BATCH, ZONES[0]), by=System.OPERATOR)
        except Exception as e:
            if watchdog["fired"]:
                pytest.fail(f"the batch hung on PostgreSQL and was terminated ({e!r})")
            raise
    assert report.registered == BATCH and report.already_registered == 0
    assert calls == [BATCH + 1]  # 10,000 registrations and the micro-grid's update, one insert
    assert report.notification_id == last_id(app) == before + BATCH + 1
    assert subject_keys(app) == keys + 2 * BATCH  # each resident and each address
    second = make_app()
    assert len(second.node(ZONES[0]).households) == BATCH + 1
    h = second.household_by_no(f"B-{BATCH - 1}")
    assert next(iter(h.residents.values())).identity.name == f"居民{BATCH - 1}"


@pytest.mark.parametrize("bad", ["retired micro-grid", "duplicate number"])
def test_a_bad_row_in_the_middle_of_a_batch_writes_nothing(make_app, bad):
    app = make_app()
    given_community(app, households_per_zone=1)
    retired = f"{COMMUNITY}-09"
    app.create_node(retired, "第9片区", COMMUNITY, by=System.OPERATOR)
    app.retire_node(retired, "并入第1片区", by=System.OPERATOR)
    before, keys = last_id(app), key_rows(app)
    rows = rows_for(BATCH, ZONES[0])
    middle = BATCH // 2
    if bad == "retired micro-grid":
        rows[middle].micro_grid = retired
        error: type[Exception] = NodeRetired
    else:
        rows[middle].household_no = rows[10].household_no
        error = InvalidInput
    with pytest.raises(error):
        app.register_households(rows, by=System.OPERATOR)
    assert last_id(app) == before
    assert key_rows(app) == keys
    for i in (0, middle - 1, middle + 1, BATCH - 1):
        with pytest.raises(NotFound):
            app.household_by_no(f"B-{i}")
    assert set(app.node(ZONES[0]).households) == {household_id("712-1-0")}
    # nothing pending was left behind: the corrected batch goes in whole
    report = app.register_households(rows_for(BATCH // 10, ZONES[0]), by=System.OPERATOR)
    assert report.registered == BATCH // 10
    assert subject_keys(app) == sum(map(keys_in, keys.values())) + 2 * (BATCH // 10)


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_a_store_failure_after_the_rows_went_in_rolls_the_whole_batch_back(
        make_app, monkeypatch):
    """The rows are inserted, then the database fails inside the same transaction."""
    app = make_app()
    given_community(app, households_per_zone=1)
    before, keys = last_id(app), key_rows(app)
    recorder: Any = app.recorder
    n = BATCH
    if store_kind(app) == "sqlite":
        original: Callable[..., Any] = recorder._insert_events

        def failing(c, stored_events, **kwargs):
            ids = original(c, stored_events, **kwargs)
            c.execute(f"SELECT SUM({KEYS_IN_ROW_SQLITE}) FROM {KEY_TABLE}")
            assert c.fetchone()[0] == sum(map(keys_in, keys.values())) + 2 * n  # uncommitted
            c.execute("SELECT * FROM no_such_table")
            return ids

        monkeypatch.setattr(recorder, "_insert_events", failing)
    else:  # a batch this large is written with COPY (adapters.postgres_store.COPY_FROM)
        original = recorder._copy_stored_events

        def failing(curs, stored_events):
            ids = original(curs, stored_events)
            curs.execute(f"SELECT SUM({KEYS_IN_ROW_POSTGRES}) AS n "
                         f"FROM {recorder.key_table.as_string(curs)}")
            assert curs.fetchone()["n"] == sum(map(keys_in, keys.values())) + 2 * n
            curs.execute("SELECT * FROM no_such_table")
            return ids

        monkeypatch.setattr(recorder, "_copy_stored_events", failing)

    with pg_watchdog(app, seconds=6), pytest.raises(Exception, match="no_such_table"):
        app.register_households(rows_for(n, ZONES[0]), by=System.OPERATOR)
    monkeypatch.undo()
    assert last_id(app) == before
    assert key_rows(app) == keys
    second = make_app()
    assert last_id(second) == before and key_rows(second) == keys
    with pytest.raises(NotFound):
        second.household_by_no("B-0")
    assert set(second.node(ZONES[0]).households) == {household_id("712-1-0")}
    report = app.register_households(rows_for(50, ZONES[0]), by=System.OPERATOR)
    assert report.registered == 50 and subject_keys(second) == sum(
        map(keys_in, keys.values())) + 100


def _state(agg: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(agg).items() if k != "_pending"}


def test_many_aggregates_read_at_once_equal_each_read_alone(make_app, clock):
    """``_find_many`` (a registration batch's micro-grids in one query) gives what ``_find``
    gives for each: aggregates cached and current, cached and behind (another application
    wrote since), not cached, missing and of another class (left out); a copy changed leaves
    the cache as it was; read ``for_reading``, the cached objects themselves."""
    app = make_app()
    given_community(app, households_per_zone=2)
    zones = [node_id(z) for z in ZONES]
    for z in zones:  # cached in ``app``
        app._find(GridNode, z)
    other = make_app()  # moves the first zone on behind ``app``'s back
    other.register_households([HouseholdRow("M-1", ZONES[0], "1号", [
        new_member("M-1", 1, "李明", "13700000000", None, 1980)])], by=System.OPERATOR)
    ids = [*zones, node_id(COMMUNITY), household_id("M-1"), node_id("990199")]
    for reader in (make_app(), app):  # nothing cached yet (but on the memory store); cached
        many = reader._find_many(GridNode, ids)
        one = {aid: reader._find(GridNode, aid) for aid in ids}
        assert set(many) == {aid for aid, agg in one.items() if agg is not None}
        assert set(many) == {*zones, node_id(COMMUNITY)}
        for aid, agg in many.items():
            assert _state(agg) == _state(one[aid])
        assert household_id("M-1") in many[zones[0]].households
    copy = app._find_many(GridNode, zones)[zones[0]]
    copy.update_households({household_id("M-9"): 4}, clock())
    assert household_id("M-9") not in app._find(GridNode, zones[0]).households
    shared = app._find_many(GridNode, zones, for_reading=True)  # the cached objects, no copy
    assert all(shared[z] is app._find(GridNode, z, for_reading=True) for z in zones)


def test_batches_registered_at_once_into_the_same_micro_grids_count_every_household(
        make_app):
    """Four threads (each its own application but on the memory store) register batches into
    the same two micro-grids at once: the micro-grids' aggregates, read for each batch in one
    query from the cache, collide and retry, and end up holding every household."""
    given_community(make_app(), households_per_zone=0)
    errors: list[BaseException] = []

    def register(t: int) -> None:
        app = make_app()
        try:
            for b in range(5):
                app.register_households([HouseholdRow(f"T{t}-{b}-{n}", ZONES[n % 2], f"{n}号", [
                    new_member(f"T{t}-{b}-{n}", 1, "王芳", "13900000000", None, 1990)])
                    for n in range(10)], by=System.OPERATOR)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=register, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    fresh = make_app()
    held = [fresh.node(z).households for z in ZONES]
    assert [len(h) for h in held] == [100, 100]
    assert set(held[0]) | set(held[1]) == {household_id(f"T{t}-{b}-{n}") for t in range(4)
                                           for b in range(5) for n in range(10)}
