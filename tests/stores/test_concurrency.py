"""Sixteen threads hammering one household, on the stores several processes can share.

Every command either returns or raises ConcurrencyConflict (the application retries conflicts
itself); afterwards the household's versions are contiguous and every successful command's
event is stored exactly once.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.errors import ConcurrencyConflict
from gridcore.grid import node_id
from gridcore.household import Household, Vulnerability, resident_id
from tests.scenario import ZONES, given_community

pytestmark = pytest.mark.slow

THREADS = 16
COMMANDS = 6  # per thread: a test result, a vulnerability toggle and a new member, twice
HOUSEHOLD = "CC-1"


@dataclass
class Outcome:
    tests: list[datetime] = field(default_factory=list)
    toggles: list[bool] = field(default_factory=list)
    members: list[UUID] = field(default_factory=list)
    nids: list[int] = field(default_factory=list)
    conflicts: int = 0
    unexpected: list[BaseException] = field(default_factory=list)

    @property
    def successes(self) -> int:
        return len(self.tests) + len(self.toggles) + len(self.members)


def work(app: GridcoreApp, hid: UUID, i: int, start: threading.Barrier, now: datetime,
         out: Outcome) -> None:
    own = resident_id(HOUSEHOLD, i + 1)
    marked = False
    start.wait()
    for k in range(COMMANDS):
        try:
            if k % 3 == 0:
                taken = now - timedelta(minutes=i * COMMANDS + k + 1)
                nid = app.record_test(hid, own, negative=True, taken_at=taken, by=System.OPERATOR)
                out.tests.append(taken)
            elif k % 3 == 1:
                nid = app.mark_vulnerability(hid, own, Vulnerability.DISABILITY, not marked,
                                             by=System.OPERATOR)
                marked = not marked
                out.toggles.append(marked)
            else:
                member = new_member(HOUSEHOLD, 100 + i * COMMANDS + k, f"新成员{i}-{k}")
                nid = app.add_member(hid, member, by=System.OPERATOR)
                out.members.append(member.resident_id)
            assert isinstance(nid, int)
            out.nids.append(nid)
        except ConcurrencyConflict:
            out.conflicts += 1
        except BaseException as e:
            out.unexpected.append(e)


def given_a_crowded_household(app: GridcoreApp) -> UUID:
    given_community(app, households_per_zone=1)
    members = [new_member(HOUSEHOLD, i + 1, f"住户{i}") for i in range(THREADS)]
    app.register_household(HOUSEHOLD, ZONES[0], "1栋1单元101", members, by=System.OPERATOR)
    hid = app.household_by_no(HOUSEHOLD).id
    assert [s.originator_version for s in app.recorder.select_events(hid)] == [1]
    return hid


def check_log(app: GridcoreApp, hid: UUID, outcomes: list[Outcome]) -> None:
    for o in outcomes:
        assert not o.unexpected, o.unexpected
        assert o.successes + o.conflicts == COMMANDS
    stored = app.recorder.select_events(hid)
    versions = [s.originator_version for s in stored]
    assert versions == list(range(1, len(versions) + 1))
    successes = sum(o.successes for o in outcomes)
    assert successes > 0
    assert len(versions) - 1 == successes

    events = [app.mapper.to_domain_event(s) for s in stored[1:]]
    counts = Counter(type(e) for e in events)
    assert counts == Counter({
        Household.TestRecorded: sum(len(o.tests) for o in outcomes),
        Household.VulnerabilityMarked: sum(len(o.toggles) for o in outcomes),
        Household.MemberAdded: sum(len(o.members) for o in outcomes),
    })
    tests = Counter(e.taken_at for e in events if isinstance(e, Household.TestRecorded))
    assert tests == Counter(t for o in outcomes for t in o.tests)
    added = Counter(e.member.resident_id for e in events if isinstance(e, Household.MemberAdded))
    assert added == Counter(m for o in outcomes for m in o.members)
    for i, o in enumerate(outcomes):
        own = resident_id(HOUSEHOLD, i + 1)
        marks = [e.present for e in events
                 if isinstance(e, Household.VulnerabilityMarked) and e.resident_id == own]
        assert marks == o.toggles
    nids = [n for o in outcomes for n in o.nids]
    assert len(set(nids)) == len(nids)

    # the micro-grid's versions (member counts) are contiguous too, and agree
    grid = app.recorder.select_events(node_id(ZONES[0]))
    assert [s.originator_version for s in grid] == list(range(1, len(grid) + 1))
    h = app.household(hid)
    assert len(h.residents) == THREADS + sum(len(o.members) for o in outcomes)
    assert app.node(ZONES[0]).households[hid] == len(h.residents)


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
@pytest.mark.parametrize("apps", ["one shared app", "an app per thread"])
def test_sixteen_threads_on_one_household(store: dict[str, str], make_app, clock, apps):
    first = make_app()
    hid = given_a_crowded_household(first)
    if apps == "one shared app":
        per_thread = [first] * THREADS
    else:
        # small pools: sixteen applications must fit in the server's connection limit
        env: dict[str, Any] = {**store, "POSTGRES_POOL_SIZE": "1",
                               "POSTGRES_MAX_OVERFLOW": "2"}
        per_thread = [GridcoreApp(env, clock=clock) for _ in range(THREADS)]
    start = threading.Barrier(THREADS)
    outcomes = [Outcome() for _ in range(THREADS)]
    threads = [threading.Thread(target=work, args=(per_thread[i], hid, i, start, clock.now,
                                                   outcomes[i]))
               for i in range(THREADS)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a command hung"
    finally:
        if apps != "one shared app":
            for a in per_thread:
                a.close()
    check_log(first, hid, outcomes)
    check_log(make_app(), hid, outcomes)
