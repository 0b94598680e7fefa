"""Stateful property tests: random command sequences against a model kept in the test.

a. Resident status: health and measure changes by random roles, negative tests, tags, policy
   changes and the passing of time. A command is accepted iff the model (written here from the
   domain rules, not from the implementation) allows it; a rejected one writes nothing.
b. The grid hierarchy: nodes created, renamed, moved and retired, micro-grids split and merged
   with their households. The tree stays consistent and history stays queryable.

Both check at every step that replaying the stored events gives the state the app reports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from adapters.settings import memory_env
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import NotAuthorised, System
from gridcore.errors import (
    DuplicateCode,
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    LevelViolation,
    NodeRetired,
    NotFound,
    NotPermitted,
)
from gridcore.grid import Level
from gridcore.household import Household
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role
from gridcore.status import Health, Measure, Tag, TagKind
from tests.conftest import Clock
from tests.machines import replay, state
from tests.scenario import given_community

SETTINGS = settings(max_examples=100, stateful_step_count=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])






class Attempts:
    """Run a command the model has judged; check it was accepted or rejected accordingly."""

    app: GridcoreApp

    def attempt(self, errors: set[type[GridcoreError]], fn: Any, *args: Any,
                **kwargs: Any) -> bool:
        before = self.app.recorder.max_notification_id()
        if errors:
            with pytest.raises(GridcoreError) as info:
                fn(*args, **kwargs)
            e = info.value
            assert type(e) in errors, f"{fn.__name__}: expected one of {errors}, got {e!r}"
            assert e.remedy.strip() and e.remedy in str(e)
            assert self.app.recorder.max_notification_id() == before, "a rejection wrote"
            event(f"{fn.__name__}: rejected ({type(e).__name__})")
            return False
        fn(*args, **kwargs)
        assert self.app.recorder.max_notification_id() > before
        event(f"{fn.__name__}: accepted")
        return True


# ---- a. resident status -----------------------------------------------------------------------

H, M = Health, Measure
HEALTH_SPEC = {
    H.NORMAL: {H.SYMPTOMATIC, H.SUSPECTED, H.CONFIRMED, H.DECEASED},
    H.SYMPTOMATIC: {H.NORMAL, H.SUSPECTED, H.CONFIRMED, H.DECEASED},
    H.SUSPECTED: {H.NORMAL, H.CONFIRMED, H.DECEASED},
    H.CONFIRMED: {H.RECOVERED, H.DECEASED},
    H.RECOVERED: {H.SYMPTOMATIC, H.SUSPECTED, H.CONFIRMED, H.DECEASED},
    H.DECEASED: set(),
}
FIELD = {Role.GRID_WORKER, Role.PARTY_MEMBER, Role.VOLUNTEER}
DOCTOR, OFFICIAL, POLICE = Role.FAMILY_DOCTOR, Role.OFFICIAL, Role.COMMUNITY_POLICE
STRICTNESS = [M.NONE, M.HOME_OBSERVATION, M.HOME_QUARANTINE, M.CENTRALIZED_QUARANTINE,
              M.HOSPITALIZED]
IMPOSE = {
    M.HOME_OBSERVATION: FIELD | {DOCTOR, OFFICIAL, POLICE},
    M.HOME_QUARANTINE: FIELD | {DOCTOR, OFFICIAL, POLICE},
    M.CENTRALIZED_QUARANTINE: {DOCTOR, OFFICIAL, POLICE},
    M.HOSPITALIZED: {DOCTOR},
}
RELEASE = {
    M.HOME_OBSERVATION: {DOCTOR, OFFICIAL, Role.GRID_WORKER},
    M.HOME_QUARANTINE: {DOCTOR, OFFICIAL},
    M.CENTRALIZED_QUARANTINE: {DOCTOR, OFFICIAL},
    M.HOSPITALIZED: {DOCTOR},
}
# a doctor can do most things: ask for one more often so that deep states are reached
roles = st.sampled_from([DOCTOR, DOCTOR, DOCTOR, Role.GRID_WORKER, OFFICIAL, Role.VOLUNTEER,
                         POLICE, Role.PROPERTY_MANAGER])
TAGGERS = FIELD | {DOCTOR, OFFICIAL, POLICE}
UNTAGGERS = {DOCTOR, OFFICIAL}
HEALTH_REPORTERS = FIELD | {DOCTOR}
MEASURERS = FIELD | {DOCTOR, OFFICIAL, POLICE}
STAFF = {Role.GRID_WORKER: "GW1", DOCTOR: "DOC1", OFFICIAL: "OFF1", Role.VOLUNTEER: "VOL1",
         POLICE: "POL1", Role.PROPERTY_MANAGER: "PM1"}


@dataclass
class ModelPolicy:
    days: int = 14
    needs_test: bool = True
    test_hours: int = 48


@dataclass
class ModelResident:
    health: Health = H.NORMAL
    measure: Measure = M.NONE
    since: datetime | None = None
    last_negative: datetime | None = None
    tags: dict[TagKind, Tag] = field(default_factory=dict)


class ResidentStatus(RuleBasedStateMachine, Attempts):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        c = given_community(self.app, households_per_zone=1)
        self.app.enrol_staff("POL1", "民警", POLICE, "420102001712", 0, by=System.OPERATOR)
        self.app.enrol_staff("PM1", "物业", Role.PROPERTY_MANAGER, "420102001712", 0,
                             by=System.OPERATOR)
        self.staff = {role: self.app.staff_by_no(no).id for role, no in STAFF.items()}
        self.hid = c.households[0]
        self.rids = sorted(self.app.household(self.hid).residents, key=str)
        self.model = {rid: ModelResident() for rid in self.rids}
        self.policies: list[tuple[datetime, ModelPolicy]] = []

    def teardown(self) -> None:
        self.app.close()

    def policy(self) -> ModelPolicy:
        now = self.clock()
        live = [(eff, n) for n, (eff, _) in enumerate(self.policies) if eff <= now]
        if not live:
            return ModelPolicy()
        return self.policies[max(live)[1]][1]

    def pick(self, i: int) -> UUID:
        return self.rids[i % len(self.rids)]

    def last_event(self) -> Any:
        return list(self.app.events.get(self.hid))[-1]

    @rule(data=st.data(), i=st.integers(0, 9), role=roles)
    def change_health(self, data: st.DataObject, i: int, role: Role) -> None:
        self.health(data, i, role)

    @rule(data=st.data(), i=st.integers(0, 9))
    def doctor_changes_health(self, data: st.DataObject, i: int) -> None:
        self.health(data, i, DOCTOR)

    def health(self, data: st.DataObject, i: int, role: Role) -> None:
        rid, r = self.pick(i), self.model[self.pick(i)]
        # mostly a change the table allows, so that deep states are reached
        nearby = sorted(HEALTH_SPEC[r.health]) or list(Health)
        goal = data.draw(st.one_of(st.sampled_from(nearby), st.sampled_from(list(Health))))
        errors: set[type[GridcoreError]] = set()
        if goal not in HEALTH_SPEC[r.health]:
            errors.add(ForbiddenTransition)
        field_change = goal is H.SYMPTOMATIC or (r.health, goal) == (H.SYMPTOMATIC, H.NORMAL)
        if not (role is DOCTOR or (field_change and role in FIELD)):
            errors.add(NotPermitted)
        if role not in HEALTH_REPORTERS:  # the authority table refuses before anything else
            errors = {NotAuthorised}
        if self.attempt(errors, self.app.change_health, self.hid, rid, goal,
                        self.staff[role], "巡查 check"):
            last = self.last_event()
            assert isinstance(last, Household.HealthChanged)
            assert (last.previous, last.health, last.by) == (r.health, goal, self.staff[role])
            r.health = goal

    @rule(data=st.data(), i=st.integers(0, 9), role=roles,
          override=st.sampled_from(["", "", "", " ", "医嘱 doctor"]))
    def change_measure(self, data: st.DataObject, i: int, role: Role, override: str) -> None:
        self.measure(data, i, role, override, release=False)

    @rule(data=st.data(), i=st.integers(0, 9), role=roles,
          override=st.sampled_from(["", "", "", " ", "医嘱 doctor"]))
    def release(self, data: st.DataObject, i: int, role: Role, override: str) -> None:
        self.measure(data, i, role, override, release=True)

    @rule(data=st.data(), i=st.integers(0, 9), role=roles, hours_ago=st.sampled_from([0, 49]))
    def test_then_release(self, data: st.DataObject, i: int, role: Role, hours_ago: int) -> None:
        """The field workflow: a negative test, then a release."""
        self.record_test(i, True, hours_ago)
        self.measure(data, i, role, "", release=True)

    def measure(self, data: st.DataObject, i: int, role: Role, override: str,
                release: bool) -> None:
        rid, r = self.pick(i), self.model[self.pick(i)]
        looser = STRICTNESS[:STRICTNESS.index(r.measure)]
        goal = data.draw(st.sampled_from(looser if release and looser else list(Measure)))
        now, policy = self.clock(), self.policy()
        errors: set[type[GridcoreError]] = set()
        if r.health is H.DECEASED or goal is r.measure:
            errors.add(ForbiddenTransition)
        elif STRICTNESS.index(goal) > STRICTNESS.index(r.measure):
            if role not in IMPOSE[goal]:
                errors.add(NotPermitted)
        elif role not in RELEASE[r.measure]:
            errors.add(NotPermitted)
        elif override.strip():
            if role is not DOCTOR:
                errors.add(NotPermitted)
        else:
            days = 0 if r.measure is M.HOSPITALIZED else policy.days
            assert r.since is not None
            if now < r.since + timedelta(days=days):
                errors.add(ForbiddenTransition)
            fresh = r.last_negative is not None and (
                now - timedelta(hours=policy.test_hours) <= r.last_negative <= now)
            if policy.needs_test and not fresh:
                errors.add(ForbiddenTransition)
        if role not in MEASURERS:  # the authority table refuses before anything else
            errors = {NotAuthorised}
        if self.attempt(errors, self.app.change_measure, self.hid, rid, goal,
                        self.staff[role], "措施 measure", override_reason=override):
            if STRICTNESS.index(goal) < STRICTNESS.index(r.measure):
                event("change_measure: a release accepted")
            r.measure = goal
            r.since = None if goal is M.NONE else now

    @rule(i=st.integers(0, 9), negative=st.booleans(),
          hours_ago=st.one_of(st.sampled_from([0, 23, 24, 25, 47, 48, 49, -1]),
                              st.integers(-3, 80)))
    def record_test(self, i: int, negative: bool, hours_ago: int) -> None:
        rid, r = self.pick(i), self.model[self.pick(i)]
        taken = self.clock() - timedelta(hours=hours_ago)
        errors = {InvalidInput} if hours_ago < 0 else set()
        if self.attempt(errors, self.app.record_test, self.hid, rid, negative, taken,
                        by=System.OPERATOR) and (
                negative and (r.last_negative is None or taken > r.last_negative)):
            r.last_negative = taken

    @rule(hours=st.sampled_from([1, 12, 24, 47, 24 * 7, 24 * 14]))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(i=st.integers(0, 9), seconds=st.sampled_from([-1, 0, 1, 3600]))
    def advance_to_period_end(self, i: int, seconds: int) -> None:
        """Go to just before, at or after the end of a resident's period (boundaries)."""
        r = self.model[self.pick(i)]
        if r.since is None:
            return
        days = 0 if r.measure is M.HOSPITALIZED else self.policy().days
        end = r.since + timedelta(days=days, seconds=seconds)
        if end > self.clock():
            self.clock.now = end

    @rule(i=st.integers(0, 9), kind=st.sampled_from(list(TagKind)),
          role=roles, detailed=st.booleans())
    def tag(self, i: int, kind: TagKind, role: Role, detailed: bool) -> None:
        rid, r = self.pick(i), self.model[self.pick(i)]
        tag = (Tag(kind=kind, origin="云南", arrived_on=date(2020, 2, 10), note="亲戚")
               if detailed else Tag(kind=kind))
        errors: set[type[GridcoreError]] = set()
        if kind is TagKind.RISK_AREA_ARRIVAL and not detailed:
            errors.add(InvalidInput)
        if role not in TAGGERS:  # the authority table refuses before anything else
            errors = {NotAuthorised}
        if self.attempt(errors, self.app.tag_resident, self.hid, rid, tag, self.staff[role]):
            r.tags[kind] = tag

    @rule(data=st.data(), i=st.integers(0, 9), role=roles)
    def untag(self, data: st.DataObject, i: int, role: Role) -> None:
        rid, r = self.pick(i), self.model[self.pick(i)]
        kinds = sorted(r.tags) or list(TagKind)
        kind = data.draw(st.one_of(st.sampled_from(kinds), st.sampled_from(list(TagKind))))
        errors: set[type[GridcoreError]] = set()
        if kind not in r.tags:
            errors.add(InvalidInput)
        if role not in UNTAGGERS:  # the authority table refuses before anything else
            errors = {NotAuthorised}
        if self.attempt(errors, self.app.untag_resident, self.hid, rid, kind,
                        self.staff[role], "解除 cleared"):
            del r.tags[kind]

    @rule(days=st.sampled_from([7, 14, 21]), needs_test=st.booleans(),
          test_hours=st.sampled_from([24, 48]), offset=st.sampled_from([-48, 0, 72]))
    def adopt_policy(self, days: int, needs_test: bool, test_hours: int, offset: int) -> None:
        effective = self.clock() + timedelta(hours=offset)
        policy = DEFAULT_POLICY.with_changes(
            quarantine_days={"home_observation": days, "home_quarantine": days,
                             "centralized_quarantine": days, "hospitalized": 0},
            release_needs_negative_test=needs_test, negative_test_max_age_hours=test_hours)
        # never retroactive: an effective time before now (beyond the clock skew) is refused
        errors: set[type[GridcoreError]] = {InvalidInput} if offset < 0 else set()
        if self.attempt(errors, self.app.adopt_policy, policy, effective, "调整 adjust",
                        by=System.OPERATOR):
            self.policies.append((effective, ModelPolicy(days, needs_test, test_hours)))

    @invariant()
    def replay_equals_live_and_model(self) -> None:
        live = self.app.household(self.hid)
        replayed = replay(self.app, self.hid)
        assert state(replayed) == state(live)
        assert replayed.version == live.version
        for rid, m in self.model.items():
            r = live.residents[rid]
            assert (r.health, r.measure, r.measure_since, r.last_negative_test, r.tags) == (
                m.health, m.measure, m.since, m.last_negative, m.tags)


ResidentStatus.TestCase.settings = SETTINGS
test_resident_status = ResidentStatus.TestCase


# ---- b. grid hierarchy -----------------------------------------------------------------------

CITY = "C"


@dataclass
class ModelNode:
    level: Level
    parent: str | None
    name: str
    children: list[str] = field(default_factory=list)
    retired: bool = False
    households: set[UUID] = field(default_factory=set)


@dataclass
class ModelHousehold:
    hid: UUID
    members: int
    history: list[tuple[datetime, str]]

    @property
    def grid(self) -> str:
        return self.history[-1][1]

    def grid_at(self, when: datetime) -> str | None:
        at = [g for t, g in self.history if t <= when]
        return at[-1] if at else None


suffixes = st.text("123", min_size=1, max_size=2)
names = st.sampled_from(["第一网格", "二片区", "", "   "])
choice = st.integers(0, 10**6)


class GridHierarchy(RuleBasedStateMachine, Attempts):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        self.app.establish_city(CITY, "市", by=System.OPERATOR)
        self.nodes = {CITY: ModelNode(Level.CITY, None, "市")}
        self.households: dict[str, ModelHousehold] = {}
        self.counter = 0
        # a skeleton to start from: two communities, three micro-grids with households
        for code in ["C1", "C11", "C111", "C112", "C1111", "C1112", "C1121"]:
            self.app.create_node(code, f"网格{code}", code[:-1], by=System.OPERATOR)
            self.new_node(code, f"网格{code}", code[:-1])
        for grid, members in [("C1111", 2), ("C1112", 1), ("C1121", 3), ("C1111", 1)]:
            self.add_household(grid, members)

    def teardown(self) -> None:
        self.app.close()

    def codes(self, pred: Any = lambda n: True) -> list[str]:
        return sorted(c for c, n in self.nodes.items() if pred(n))

    def pick(self, i: int, pred: Any = lambda n: True) -> str | None:
        codes = self.codes(pred)
        return codes[i % len(codes)] if codes else None

    def new_node(self, code: str, name: str, parent: str) -> None:
        p = self.nodes[parent]
        self.nodes[code] = ModelNode(Level(p.level + 1), parent, name.strip())
        p.children.append(code)

    def retire(self, code: str) -> None:
        node = self.nodes[code]
        node.retired = True
        if node.parent is not None:
            self.nodes[node.parent].children.remove(code)

    def move_households(self, hids: list[UUID], to: str) -> None:
        for h in self.households.values():
            if h.hid in hids:
                self.nodes[h.grid].households.discard(h.hid)
                h.history.append((self.clock(), to))
                self.nodes[to].households.add(h.hid)

    @rule(i=choice, suffix=suffixes, mode=st.sampled_from(["extend"] * 4 + ["foreign",
                                                                             "existing"]),
          name=names, j=choice)
    def create_node(self, i: int, suffix: str, mode: str, name: str, j: int) -> None:
        parent = self.pick(i)
        assert parent is not None
        code = {"extend": parent + suffix, "foreign": "Q" + suffix,
                "existing": self.pick(j)}[mode]
        assert code is not None
        p = self.nodes[parent]
        errors: set[type[GridcoreError]] = set()
        if p.retired:
            errors.add(NodeRetired)
        if p.level is Level.MICRO_GRID:
            errors.add(LevelViolation)
        if not code.startswith(parent) or code == parent:
            errors.add(InvalidInput)
        if code in self.nodes:
            errors.add(DuplicateCode)
        if not name.strip():
            errors.add(InvalidInput)
        if self.attempt(errors, self.app.create_node, code, name, parent, by=System.OPERATOR):
            self.new_node(code, name, parent)

    @rule(suffix=suffixes)
    def create_under_unknown_parent(self, suffix: str) -> None:
        self.attempt({NotFound}, self.app.create_node, "Z" + suffix, "无", "Z", by=System.OPERATOR)

    @rule(i=choice, name=names)
    def rename(self, i: int, name: str) -> None:
        code = self.pick(i)
        assert code is not None
        node = self.nodes[code]
        errors: set[type[GridcoreError]] = set()
        if node.retired:
            errors.add(NodeRetired)
        if not name.strip():
            errors.add(InvalidInput)
        if self.attempt(errors, self.app.rename_node, code, name, by=System.OPERATOR):
            node.name = name.strip()

    @rule(i=choice, j=choice)
    def move(self, i: int, j: int) -> None:
        code = self.pick(i)
        assert code is not None
        target = self.pick(j)
        assert target is not None
        node, new = self.nodes[code], self.nodes[target]
        errors: set[type[GridcoreError]] = set()
        if node.retired or new.retired:
            errors.add(NodeRetired)
        if node.level is Level.CITY or new.level != node.level - 1:
            errors.add(LevelViolation)
        if node.parent == target:
            errors.add(InvalidInput)
        if self.attempt(errors, self.app.move_node, code, target, by=System.OPERATOR):
            assert node.parent is not None
            self.nodes[node.parent].children.remove(code)
            new.children.append(code)
            node.parent = target

    @rule(i=choice)
    def retire_node(self, i: int) -> None:
        code = self.pick(i, lambda n: n.level is not Level.CITY)
        if code is None:
            return
        node = self.nodes[code]
        errors: set[type[GridcoreError]] = set()
        if node.retired:
            errors.add(NodeRetired)
        if node.children or node.households:
            errors.add(InvalidInput)
        if self.attempt(errors, self.app.retire_node, code, "调整 reorganised", by=System.OPERATOR):
            self.retire(code)

    def add_household(self, grid: str, members: int) -> None:
        self.counter += 1
        no = f"H{self.counter}"
        people = [new_member(no, m, f"居民{m}") for m in range(members)]
        self.app.register_household(no, grid, f"{no}号", people, by=System.OPERATOR)
        hid = self.app.household_by_no(no).id
        self.households[no] = ModelHousehold(hid, members, [(self.clock(), grid)])
        self.nodes[grid].households.add(hid)

    @rule(i=choice, members=st.integers(1, 3))
    def register_household(self, i: int, members: int) -> None:
        grid = self.pick(i, lambda n: n.level >= Level.COMMUNITY)
        if grid is None:
            return
        node = self.nodes[grid]
        self.counter += 1
        no = f"H{self.counter}"
        errors: set[type[GridcoreError]] = set()
        if node.retired:
            errors.add(NodeRetired)
        if node.level is not Level.MICRO_GRID:
            errors.add(InvalidInput)
        people = [new_member(no, m, f"居民{m}") for m in range(members)]
        if self.attempt(errors, self.app.register_household, no, grid, f"{no}号", people,
                        by=System.OPERATOR):
            hid = self.app.household_by_no(no).id
            self.households[no] = ModelHousehold(hid, members, [(self.clock(), grid)])
            node.households.add(hid)

    @rule(i=choice, j=choice)
    def move_household(self, i: int, j: int) -> None:
        if not self.households:
            return
        h = self.households[sorted(self.households)[i % len(self.households)]]
        grid = self.pick(j, lambda n: n.level >= Level.COMMUNITY)
        assert grid is not None
        node = self.nodes[grid]
        errors: set[type[GridcoreError]] = set()
        if node.retired:
            errors.add(NodeRetired)
        if node.level is not Level.MICRO_GRID or grid == h.grid:
            errors.add(InvalidInput)
        if self.attempt(errors, self.app.move_household, h.hid, grid, by=System.OPERATOR):
            self.move_households([h.hid], grid)

    @rule(i=choice, part_suffixes=st.lists(suffixes, min_size=1, max_size=3),
          shares=st.lists(st.integers(0, 2), min_size=12, max_size=12),
          drop_one=st.booleans())
    def split(self, i: int, part_suffixes: list[str], shares: list[int],
              drop_one: bool) -> None:
        code = self.pick(i, lambda n: n.level >= Level.COMMUNITY)
        if code is None:
            return
        node = self.nodes[code]
        base = node.parent or ""
        new_codes = list(dict.fromkeys(base + s for s in part_suffixes))
        hids = sorted(node.households, key=str)
        parts: dict[str, tuple[str, list[UUID]]] = {c: ("新网格", []) for c in new_codes}
        for n, hid in enumerate(hids):
            parts[new_codes[shares[n % len(shares)] % len(new_codes)]][1].append(hid)
        dropped = drop_one and bool(hids)
        if dropped:  # leave one household out: the parts no longer share out the grid
            for _, share in parts.values():
                if hids[0] in share:
                    share.remove(hids[0])
        errors: set[type[GridcoreError]] = set()
        if node.level is not Level.MICRO_GRID or len(new_codes) < 2 or dropped:
            errors.add(InvalidInput)
        if node.retired:
            errors.add(NodeRetired)
        if any(c in self.nodes for c in new_codes):
            errors.add(DuplicateCode)
        if self.attempt(errors, self.app.split_micro_grid, code, parts, by=System.OPERATOR):
            for c, (name, moved) in parts.items():
                self.new_node(c, name, base)
                self.move_households(moved, c)
            self.retire(code)

    @rule(i=choice, j=choice, suffix=suffixes, foreign=st.booleans())
    def merge(self, i: int, j: int, suffix: str, foreign: bool) -> None:
        micro = self.codes(lambda n: n.level is Level.MICRO_GRID)
        if len(micro) < 2:
            return
        a = micro[i % len(micro)]
        b = micro[(i + 1 + j % (len(micro) - 1)) % len(micro)]
        assert a != b
        na, nb = self.nodes[a], self.nodes[b]
        into = ("Q" if foreign else (na.parent or "")) + suffix
        errors: set[type[GridcoreError]] = set()
        if na.parent != nb.parent or foreign:
            errors.add(InvalidInput)
        if na.retired or nb.retired:
            errors.add(NodeRetired)
        if into in self.nodes:
            errors.add(DuplicateCode)
        if self.attempt(errors, self.app.merge_micro_grids, [a, b], into, "合并网格",
                        by=System.OPERATOR):
            assert na.parent is not None
            self.new_node(into, "合并网格", na.parent)
            self.move_households(sorted(na.households | nb.households, key=str), into)
            self.retire(a)
            self.retire(b)

    @rule(hours=st.sampled_from([1, 24, 24 * 30]))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @invariant()
    def tree_is_consistent(self) -> None:
        live = {code: self.app.node(code) for code in self.nodes}
        placed: dict[str, str] = {}
        for code, node in live.items():
            m = self.nodes[code]
            assert (node.code, node.level, node.parent_code, node.retired, node.name) == (
                code, m.level, m.parent, m.retired, m.name)
            assert sorted(node.children) == sorted(m.children)
            assert len(set(node.children)) == len(node.children)
            assert set(node.households) == m.households
            if node.parent_code is not None:
                parent = live[node.parent_code]
                assert node.level == parent.level + 1
                assert (code in parent.children) == (not node.retired)
            for child in node.children:
                assert child not in placed, f"{child} is under {placed[child]} and {code}"
                placed[child] = code
                assert live[child].parent_code == code and not live[child].retired
            if node.retired:
                assert node.children == [] and node.households == {}
            assert state(replay(self.app, node.id)) == state(node)

    @invariant()
    def households_are_where_the_model_says(self) -> None:
        for h in self.households.values():
            live = self.app.household(h.hid)
            assert state(replay(self.app, h.hid)) == state(live)
            assert live.micro_grid == h.grid
            assert self.app.node(h.grid).households[h.hid] == h.members
            assert not self.nodes[h.grid].retired
            first = h.history[0][0]
            assert live.micro_grid_at(first - timedelta(seconds=1)) is None
            for t, _ in h.history:
                for when in (t, t + timedelta(minutes=30)):
                    assert live.micro_grid_at(when) == h.grid_at(when)


GridHierarchy.TestCase.settings = settings(SETTINGS, max_examples=50)
test_grid_hierarchy = GridHierarchy.TestCase
