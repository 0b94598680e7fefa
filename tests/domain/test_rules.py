"""Unit tests of the pure rules: identity masking, grid, status, policy, vulnerability and
assignment rules. No store is involved."""

from __future__ import annotations

import io
import logging
import random
import re
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gridcore.application import new_member
from gridcore.assignment import (
    HouseholdWork,
    Method,
    Worker,
    check_responsible_worker,
    check_squad,
    choose_method,
    distribute,
)
from gridcore.errors import (
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    LevelViolation,
    NotPermitted,
)
from gridcore.grid import Level, check_code, check_move, child_level, soft_cap_excess
from gridcore.household import Vulnerability, derived_vulnerabilities
from gridcore.identity import IdNumber, Phone, ResidentIdentity
from gridcore.policy import DEFAULT_POLICY, Policy, PolicyBook
from gridcore.staff import Role
from gridcore.status import Health, Measure, check_health_change, check_measure_change

T0 = datetime(2020, 2, 17, 8, 0, tzinfo=UTC)
ALL_ROLES = list(Role)
COSTS = {"door": 1.0, "phone": 0.5, "chat": 0.25}


def assert_helpful(e: GridcoreError) -> None:
    """Every domain error says what was wrong and what would be right."""
    assert e.problem.strip()
    assert e.remedy.strip()
    assert e.problem in str(e) and e.remedy in str(e)


# ---- identity: masking -----------------------------------------------------------------

mobiles = st.builds(lambda second, rest: f"1{second}{rest}",
                    st.sampled_from("3456789"), st.from_regex(r"\A\d{9}\Z"))


def gb11643_check(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character, written out from the standard."""
    total = sum(int(d) * (2 ** (17 - i) % 11) for i, d in enumerate(first17))
    return "10X98765432"[total % 11]


id_bodies = st.from_regex(r"\A\d{17}\Z")
valid_ids = id_bodies.map(lambda body: body + gb11643_check(body))


def rendered(value: object) -> list[str]:
    """Every ordinary way a value ends up in text."""
    texts = [str(value), repr(value), format(value), f"{value}", f"{value!s}", f"{value!r}",
             "{}".format(value), "%s" % (value,),  # noqa: UP031, UP032
             "%r" % (value,), "%20s" % (value,),  # noqa: UP031
             str([value]), str({"v": value})]
    if isinstance(value, str):
        texts += [f"{value:>30}", "{:^40}".format(value)]  # noqa: UP032
    return texts


def logged(*args: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger(f"gridcore.test.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.info(*args)
    logger.warning("%s and %r", args[-1], args[-1])
    handler.flush()
    return stream.getvalue()


def test_known_examples_are_masked_as_documented():
    assert str(Phone.parse("13812341234")) == "138****1234"
    assert str(IdNumber.parse("11010519491231002X")) == "110105********002X"


@given(mobiles)
def test_a_phone_never_prints_in_full(raw):
    phone = Phone.parse(raw)
    assert phone == raw  # stored and compared as the real value
    assert phone.reveal() == raw
    for text in rendered(phone):
        assert raw not in text
    out = logged(phone)
    assert raw not in out and "****" in out
    out = logged("resident phone %s", phone)
    assert raw not in out
    # the masked form keeps at most the prefix and the last four digits
    assert len(re.sub(r"\D", "", str(phone))) <= 7
    assert str(phone).endswith(raw[-4:])


@given(valid_ids)
def test_an_id_number_never_prints_in_full(raw):
    idn = IdNumber.parse(raw)
    assert idn == raw and idn.reveal() == raw
    for text in rendered(idn):
        assert raw not in text
    assert raw not in logged(idn)
    assert raw not in logged("id %s / %r", idn, idn)
    assert str(idn)[:6] == raw[:6] and str(idn)[-4:] == raw[-4:]
    assert sum(ch.isdigit() or ch == "X" for ch in str(idn)) <= 10


@given(mobiles, valid_ids)
def test_a_resident_identity_prints_and_logs_masked(phone, idn):
    identity = ResidentIdentity(subject_id=uuid.uuid4(), name="张三", phone=phone,
                                id_number=idn)
    assert isinstance(identity.phone, Phone) and isinstance(identity.id_number, IdNumber)
    for text in [*rendered(identity), logged(identity), logged("who: %s", identity)]:
        assert phone not in text and idn not in text
    # serialisation keeps the real value (the store seals it)
    dumped = identity.model_dump()
    assert dumped["phone"] == phone and dumped["id_number"] == idn


@pytest.mark.parametrize("raw, normal", [
    ("13812341234", "13812341234"),
    ("+86 138 1234 1234", "13812341234"),
    ("+8613812341234", "13812341234"),
    ("0532-81234567", "0532-81234567"),
    ("(0532)81234567", "053281234567"),
    ("（027）8123456", "0278123456"),
    ("19900001111", "19900001111"),
])
def test_well_formed_phones_parse_to_their_digits(raw, normal):
    assert Phone.parse(raw).reveal() == normal


@pytest.mark.parametrize("raw", [
    "", "abc", "12812341234", "10812341234", "1381234123", "138123412345", "23812341234",
    "1381234123a", "0532-812", "532-81234567", "+1 13812341234",
])
def test_malformed_phones_are_rejected(raw):
    with pytest.raises(ValueError, match="malformed"):
        Phone.parse(raw)


@given(st.from_regex(r"\A\d{8,20}\Z").filter(
    lambda s: not re.fullmatch(r"1[3-9]\d{9}|0\d{9,11}", s)))
def test_a_phone_parse_error_never_shows_the_number(raw):
    with pytest.raises(ValueError) as info:
        Phone.parse(raw)
    assert raw not in str(info.value)
    with pytest.raises(InvalidInput) as info2:
        new_member("H1", 1, "张三", phone=raw)
    assert raw not in str(info2.value)
    assert_helpful(info2.value)


@given(valid_ids, st.sampled_from("0123456789X"))
def test_a_wrong_check_digit_is_rejected_without_showing_the_number(good, check):
    if check == good[-1]:
        return
    bad = good[:-1] + check
    with pytest.raises(ValueError, match="GB 11643") as info:
        IdNumber.parse(bad)
    assert bad not in str(info.value)
    with pytest.raises(InvalidInput) as info2:
        new_member("H1", 1, "张三", id_number=bad)
    assert bad not in str(info2.value)
    assert_helpful(info2.value)


@pytest.mark.parametrize("raw", [
    "", "1101051949123100", "11010519491231002", "110105194912310029X",
    "11010519491231002Y", "X10105194912310021", "1101051949123100 2X",
])
def test_malformed_id_numbers_are_rejected(raw):
    with pytest.raises(ValueError):
        IdNumber.parse(raw)


def test_id_number_check_character_x_is_case_insensitive_and_space_tolerant():
    assert IdNumber.parse(" 11010519491231002x ").reveal() == "11010519491231002X"


@given(valid_ids)
def test_every_correct_check_character_is_accepted(raw):
    assert IdNumber.parse(raw).reveal() == raw


def test_a_pydantic_validation_error_never_shows_the_number():
    raw = "138123412345"
    with pytest.raises(ValidationError) as info:
        ResidentIdentity(subject_id=uuid.uuid4(), phone=raw)
    assert raw not in str(info.value)


# ---- grid rules -------------------------------------------------------------------------

@pytest.mark.parametrize("code", ["4", "4201", "420102001003-07", "a1-B2", "Z" * 40, "0-"])
def test_well_formed_codes_pass(code):
    check_code(code)


@pytest.mark.parametrize("code", ["", "-4201", "Z" * 41, "42 01", "42_01", "社区", "4201/1",
                                  " 4201", "4201 "])
def test_malformed_codes_are_rejected(code):
    with pytest.raises(InvalidInput) as info:
        check_code(code)
    assert repr(code) in str(info.value)
    assert_helpful(info.value)


@given(st.text(min_size=1, max_size=30).filter(
    lambda s: any(not (c.isascii() and (c.isalnum() or c == "-")) for c in s)))
def test_a_code_with_any_other_character_is_rejected(code):
    with pytest.raises(InvalidInput):
        check_code(code)


def test_a_code_with_a_trailing_newline_is_rejected():
    with pytest.raises(InvalidInput):
        check_code("4201\n")


@pytest.mark.parametrize("parent", [Level.CITY, Level.DISTRICT, Level.STREET, Level.COMMUNITY])
def test_a_child_is_one_level_below_its_parent(parent):
    assert child_level(parent, "4201" + "07", "4201") == parent + 1


def test_a_micro_grid_has_no_child_nodes():
    with pytest.raises(LevelViolation) as info:
        child_level(Level.MICRO_GRID, "420102001712-01a", "420102001712-01")
    assert "420102001712-01" in str(info.value)
    assert_helpful(info.value)


@pytest.mark.parametrize("child", ["4202", "4201", "420", "x4201"])
def test_a_child_code_extends_its_parents_code(child):
    with pytest.raises(InvalidInput) as info:
        child_level(Level.CITY, child, "4201")
    assert repr(child) in str(info.value) and "'4201'" in str(info.value)
    assert_helpful(info.value)


@pytest.mark.parametrize("node", [Level.DISTRICT, Level.STREET, Level.COMMUNITY,
                                  Level.MICRO_GRID])
@pytest.mark.parametrize("parent", list(Level))
def test_a_move_keeps_the_parent_one_level_up(node, parent):
    if parent == node - 1:
        check_move(node, parent, "X", "Y")
    else:
        with pytest.raises(LevelViolation) as info:
            check_move(node, parent, "X", "Y")
        assert_helpful(info.value)
        assert Level(node - 1).name.lower() in info.value.remedy


@pytest.mark.parametrize("parent", list(Level))
def test_moving_the_city_is_a_level_violation(parent):
    with pytest.raises(LevelViolation):
        check_move(Level.CITY, parent, "4201", "X")


@given(st.integers(0, 10_000), st.integers(1, 1_000))
def test_soft_cap_excess(residents, cap):
    excess = soft_cap_excess(residents, cap)
    assert excess >= 0
    assert residents - excess <= cap
    assert (excess == 0) == (residents <= cap)
    if excess:
        assert residents - excess == cap


# ---- status rules -------------------------------------------------------------------------

H = Health
# The health state machine, written out as the specification.
HEALTH_SPEC = {
    H.NORMAL: {H.SYMPTOMATIC, H.SUSPECTED, H.CONFIRMED, H.DECEASED},
    H.SYMPTOMATIC: {H.NORMAL, H.SUSPECTED, H.CONFIRMED, H.DECEASED},
    H.SUSPECTED: {H.NORMAL, H.CONFIRMED, H.DECEASED},
    H.CONFIRMED: {H.RECOVERED, H.DECEASED},
    H.RECOVERED: {H.SYMPTOMATIC, H.SUSPECTED, H.CONFIRMED, H.DECEASED},
    H.DECEASED: set(),
}
FIELD = {Role.GRID_WORKER, Role.PARTY_MEMBER, Role.VOLUNTEER}


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("target", list(Health))
@pytest.mark.parametrize("current", list(Health))
def test_health_transition_table_and_roles(current, target, role):
    field_change = target is H.SYMPTOMATIC or (current, target) == (H.SYMPTOMATIC, H.NORMAL)
    if target not in HEALTH_SPEC[current]:
        with pytest.raises(ForbiddenTransition) as info:
            check_health_change(current, target, role, DEFAULT_POLICY)
        assert current.value in str(info.value) and target.value in str(info.value)
        assert_helpful(info.value)
    elif role is Role.FAMILY_DOCTOR or (field_change and role in FIELD):
        check_health_change(current, target, role, DEFAULT_POLICY)
    else:
        with pytest.raises(NotPermitted) as info:
            check_health_change(current, target, role, DEFAULT_POLICY)
        assert role.value in str(info.value)
        assert "family_doctor" in info.value.remedy
        assert_helpful(info.value)


def test_health_roles_come_from_the_policy():
    policy = DEFAULT_POLICY.with_changes(medical_roles=frozenset({Role.OFFICIAL}),
                                         field_roles=frozenset({Role.COMMUNITY_POLICE}))
    check_health_change(H.SUSPECTED, H.CONFIRMED, Role.OFFICIAL, policy)
    check_health_change(H.NORMAL, H.SYMPTOMATIC, Role.COMMUNITY_POLICE, policy)
    with pytest.raises(NotPermitted):
        check_health_change(H.SUSPECTED, H.CONFIRMED, Role.FAMILY_DOCTOR, policy)
    with pytest.raises(NotPermitted):
        check_health_change(H.NORMAL, H.SYMPTOMATIC, Role.GRID_WORKER, policy)


M = Measure
IMPOSE_SPEC = {
    M.HOME_OBSERVATION: FIELD | {Role.FAMILY_DOCTOR, Role.OFFICIAL, Role.COMMUNITY_POLICE},
    M.HOME_QUARANTINE: FIELD | {Role.FAMILY_DOCTOR, Role.OFFICIAL, Role.COMMUNITY_POLICE},
    M.CENTRALIZED_QUARANTINE: {Role.FAMILY_DOCTOR, Role.OFFICIAL, Role.COMMUNITY_POLICE},
    M.HOSPITALIZED: {Role.FAMILY_DOCTOR},
}
RELEASE_SPEC = {
    M.HOME_OBSERVATION: {Role.FAMILY_DOCTOR, Role.OFFICIAL, Role.GRID_WORKER},
    M.HOME_QUARANTINE: {Role.FAMILY_DOCTOR, Role.OFFICIAL},
    M.CENTRALIZED_QUARANTINE: {Role.FAMILY_DOCTOR, Role.OFFICIAL},
    M.HOSPITALIZED: {Role.FAMILY_DOCTOR},
}
ORDER = [M.NONE, M.HOME_OBSERVATION, M.HOME_QUARANTINE, M.CENTRALIZED_QUARANTINE,
         M.HOSPITALIZED]


def measure(current, target, role, *, health=H.NORMAL, since=None, at=T0, test=None,
            override="", policy=DEFAULT_POLICY):
    check_measure_change(health=health, current=current, since=since, target=target,
                         role=role, at=at, last_negative_test=test, override_reason=override,
                         policy=policy)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("target", ORDER[1:])
@pytest.mark.parametrize("current", ORDER)
def test_imposing_a_stricter_measure_needs_an_impose_role(current, target, role):
    if ORDER.index(target) <= ORDER.index(current):
        return
    if role in IMPOSE_SPEC[target]:
        measure(current, target, role, since=T0 if current is not M.NONE else None)
    else:
        with pytest.raises(NotPermitted) as info:
            measure(current, target, role)
        assert role.value in str(info.value) and target.value in str(info.value)
        assert_helpful(info.value)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("target", ORDER[:-1])
@pytest.mark.parametrize("current", ORDER[1:])
def test_a_release_needs_a_release_role(current, target, role):
    if ORDER.index(target) >= ORDER.index(current):
        return
    served = T0 - timedelta(days=30)
    if role in RELEASE_SPEC[current]:
        measure(current, target, role, since=served, test=T0 - timedelta(hours=1))
    else:
        with pytest.raises(NotPermitted) as info:
            measure(current, target, role, since=served, test=T0 - timedelta(hours=1))
        assert current.value in str(info.value)
        assert_helpful(info.value)


@pytest.mark.parametrize("current", [M.HOME_OBSERVATION, M.HOME_QUARANTINE,
                                     M.CENTRALIZED_QUARANTINE])
def test_a_release_waits_for_the_period(current):
    test = T0 - timedelta(hours=2)
    with pytest.raises(ForbiddenTransition) as info:
        measure(current, M.NONE, Role.OFFICIAL, since=T0 - timedelta(days=14) + timedelta(
            seconds=1), test=test)
    assert "14-day" in str(info.value)
    assert_helpful(info.value)
    measure(current, M.NONE, Role.OFFICIAL, since=T0 - timedelta(days=14), test=test)


def test_the_period_comes_from_the_policy():
    policy = DEFAULT_POLICY.with_changes(
        quarantine_days={**DEFAULT_POLICY.quarantine_days, "home_quarantine": 7})
    test = T0 - timedelta(hours=2)
    measure(M.HOME_QUARANTINE, M.NONE, Role.OFFICIAL, since=T0 - timedelta(days=7),
            test=test, policy=policy)
    with pytest.raises(ForbiddenTransition):
        measure(M.HOME_QUARANTINE, M.NONE, Role.OFFICIAL, since=T0 - timedelta(days=6),
                test=test, policy=policy)


def test_hospital_release_has_no_period_but_needs_a_test():
    measure(M.HOSPITALIZED, M.NONE, Role.FAMILY_DOCTOR, since=T0, test=T0)
    with pytest.raises(ForbiddenTransition):
        measure(M.HOSPITALIZED, M.NONE, Role.FAMILY_DOCTOR, since=T0)


@pytest.mark.parametrize("test, ok", [
    (None, False),
    (T0 - timedelta(hours=48), True),
    (T0 - timedelta(hours=48, seconds=1), False),
    (T0 - timedelta(days=10), False),
    (T0, True),
    (T0 + timedelta(minutes=1), False),
])
def test_a_release_needs_a_recent_negative_test(test, ok):
    args = (M.HOME_QUARANTINE, M.NONE, Role.OFFICIAL)
    since = T0 - timedelta(days=20)
    if ok:
        measure(*args, since=since, test=test)
    else:
        with pytest.raises(ForbiddenTransition) as info:
            measure(*args, since=since, test=test)
        assert "48 hours" in str(info.value)
        assert_helpful(info.value)


def test_no_test_needed_when_the_policy_says_so():
    policy = DEFAULT_POLICY.with_changes(release_needs_negative_test=False)
    measure(M.HOME_QUARANTINE, M.NONE, Role.OFFICIAL, since=T0 - timedelta(days=14),
            policy=policy)


def test_a_doctor_may_release_early_with_a_reason():
    measure(M.CENTRALIZED_QUARANTINE, M.NONE, Role.FAMILY_DOCTOR, since=T0,
            override="误判 misclassified contact")
    with pytest.raises(ForbiddenTransition):  # a blank reason is no override
        measure(M.CENTRALIZED_QUARANTINE, M.NONE, Role.FAMILY_DOCTOR, since=T0, override="  ")


@pytest.mark.parametrize("role", [Role.OFFICIAL, Role.GRID_WORKER])
def test_only_override_roles_may_override(role):
    with pytest.raises(NotPermitted) as info:
        measure(M.HOME_OBSERVATION, M.NONE, role, since=T0, override="早放 early")
    assert "override" in str(info.value)
    assert_helpful(info.value)


@pytest.mark.parametrize("current", ORDER)
@pytest.mark.parametrize("target", ORDER)
def test_nothing_changes_for_the_deceased(current, target):
    with pytest.raises(ForbiddenTransition) as info:
        measure(current, target, Role.FAMILY_DOCTOR, health=H.DECEASED, since=T0,
                override="x")
    assert "deceased" in str(info.value)
    assert_helpful(info.value)


@pytest.mark.parametrize("current", ORDER)
def test_the_same_measure_again_is_forbidden(current):
    with pytest.raises(ForbiddenTransition) as info:
        measure(current, current, Role.FAMILY_DOCTOR, since=T0)
    assert_helpful(info.value)


# ---- policy --------------------------------------------------------------------------------

def test_the_policy_in_force_follows_effective_times():
    book = PolicyBook.open(T0)
    p7 = DEFAULT_POLICY.with_changes(micro_grid_soft_cap=7)
    p8 = DEFAULT_POLICY.with_changes(micro_grid_soft_cap=8)
    p9 = DEFAULT_POLICY.with_changes(micro_grid_soft_cap=9)
    day = timedelta(days=1)
    # adopted out of order: the effective time decides, not the adoption time
    book.adopt(p9, T0 + 9 * day, "nine", None, T0)
    book.adopt(p7, T0 + 7 * day, "seven", None, T0 + day)
    book.adopt(p8, T0 + 8 * day, "eight", None, T0 + 2 * day)
    assert book.in_force(T0) == DEFAULT_POLICY
    assert book.in_force(T0 + 7 * day - timedelta(seconds=1)) == DEFAULT_POLICY
    assert book.in_force(T0 + 7 * day) == p7
    assert book.in_force(T0 + 8 * day - timedelta(seconds=1)) == p7
    assert book.in_force(T0 + 8 * day) == p8
    assert book.in_force(T0 + 100 * day) == p9
    # two versions with the same effective time: the later adoption wins
    p10 = DEFAULT_POLICY.with_changes(micro_grid_soft_cap=10)
    book.adopt(p10, T0 + 8 * day, "correction", None, T0 + 3 * day)
    assert book.in_force(T0 + 8 * day) == p10
    assert book.in_force(T0 + 9 * day) == p9


def test_an_effective_time_needs_a_time_zone():
    book = PolicyBook.open(T0)
    with pytest.raises(InvalidInput) as info:
        book.adopt(DEFAULT_POLICY, datetime(2020, 2, 20), "naive", None, T0)
    assert_helpful(info.value)
    assert book.versions == [] and book.collect_events()[1:] == []


def test_policy_rejects_nonsense_numbers():
    with pytest.raises(ValidationError):
        Policy(micro_grid_soft_cap=0)
    with pytest.raises(ValidationError):
        DEFAULT_POLICY.with_changes(negative_test_max_age_hours=0)


# ---- vulnerabilities ------------------------------------------------------------------------

TODAY = date(2020, 2, 17)
V = Vulnerability


@pytest.mark.parametrize("birth_year, size, declared, expected", [
    (1955, 2, set(), {V.AGE_65_PLUS}),
    (1956, 2, set(), set()),
    (1955, 1, set(), {V.AGE_65_PLUS, V.LIVES_ALONE}),
    (1956, 1, set(), set()),
    (None, 1, set(), set()),
    (None, 1, {V.AGE_65_PLUS}, {V.AGE_65_PLUS, V.LIVES_ALONE}),
    (1990, 1, {V.PREGNANCY}, {V.PREGNANCY}),
    (1990, 3, {V.LIVES_ALONE}, {V.LIVES_ALONE}),
    (1930, 4, {V.NO_SMARTPHONE, V.DISABILITY}, {V.NO_SMARTPHONE, V.DISABILITY, V.AGE_65_PLUS}),
])
def test_derived_vulnerabilities(birth_year, size, declared, expected):
    given_declared = set(declared)
    assert derived_vulnerabilities(birth_year, declared, size, TODAY) == expected
    assert declared == given_declared  # the caller's set is not changed


@given(st.one_of(st.none(), st.integers(1890, 2020)), st.integers(1, 8),
       st.sets(st.sampled_from(list(V))))
def test_derived_vulnerabilities_only_add(birth_year, size, declared):
    found = derived_vulnerabilities(birth_year, declared, size, TODAY)
    assert declared <= found
    assert found - declared <= {V.AGE_65_PLUS, V.LIVES_ALONE}
    if birth_year is not None and TODAY.year - birth_year >= 65:
        assert V.AGE_65_PLUS in found
    if size > 1:
        assert found - declared <= {V.AGE_65_PLUS}


# ---- assignment -----------------------------------------------------------------------------

def u(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


@pytest.mark.parametrize("vulnerable, smartphone, method", [
    (True, True, Method.DOOR), (True, False, Method.DOOR),
    (False, True, Method.CHAT), (False, False, Method.PHONE),
])
def test_choose_method(vulnerable, smartphone, method):
    assert choose_method(HouseholdWork(u(1), "g", vulnerable, smartphone)) is method


@st.composite
def workloads(draw):
    grids = [f"g{i}" for i in range(draw(st.integers(1, 4)))]
    n = draw(st.integers(0, 30))
    households = [HouseholdWork(u(1000 + i), draw(st.sampled_from(grids)), draw(st.booleans()),
                                draw(st.booleans()),
                                draw(st.sampled_from([None, u(9000), u(9001)])))
                  for i in range(n)]
    workers = [Worker(u(100 + i), draw(st.integers(0, 8)),
                      frozenset(draw(st.sets(st.sampled_from(grids), max_size=2))))
               for i in range(draw(st.integers(0, 5)))]
    previous = {h.household_id: draw(st.sampled_from([w.staff_id for w in workers] + [u(99)]))
                for h in households if workers and draw(st.booleans())}
    days = draw(st.integers(1, 3))
    return households, workers, days, previous


def check_plan(households, workers, days, costs, plan, already=None):
    already = already or {}
    placed = [i.household_id for i in plan.items] + [x.household_id for x in plan.uncovered]
    assert sorted(placed) == sorted(h.household_id for h in households)  # each exactly once
    by_id = {h.household_id: h for h in households}
    ids = {w.staff_id for w in workers}
    cap = {w.staff_id: w.daily_capacity * days for w in workers}
    load = {sid: already.get(sid, 0.0) for sid in ids}
    for item in plan.items:
        assert item.staff_id in ids
        assert item.method is choose_method(by_id[item.household_id])
        load[item.staff_id] += costs[item.method.value]
    for sid in ids:
        assert load[sid] <= cap[sid] + 1e-6, "a worker is overloaded"
        assert plan.load[sid] == pytest.approx(load[sid], abs=0.01)
    for x in plan.uncovered:
        h = by_id[x.household_id]
        assert x.method is choose_method(h) and x.micro_grid == h.micro_grid
        assert x.cost == costs[x.method.value]
        # nobody is left uncovered while some worker still has room for it
        assert all(cap[s] - load[s] < x.cost - 1e-9 for s in ids)
    assert plan.shortfall == pytest.approx(sum(x.cost for x in plan.uncovered), abs=0.005)
    for item in plan.items:
        if by_id[item.household_id].vulnerable:
            assert item.method is Method.DOOR


@settings(max_examples=150, deadline=None)
@given(workloads())
def test_distribute_properties(load):
    households, workers, days, previous = load
    plan = distribute(households, workers, days, COSTS, previous)
    check_plan(households, workers, days, COSTS, plan)
    # deterministic: the same inputs, in any order, give the same plan
    again = distribute(list(reversed(households)), list(reversed(workers)), days, dict(COSTS),
                       dict(previous))
    assert again.items == plan.items and again.uncovered == plan.uncovered
    assert again.load == plan.load


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workloads(), st.dictionaries(st.sampled_from(["door", "phone", "chat"]),
                                    st.sampled_from([0.1, 0.3, 0.7, 1.3, 2.0]), min_size=3))
def test_distribute_properties_with_odd_costs(load, costs):
    households, workers, days, previous = load
    plan = distribute(households, workers, days, costs, previous)
    check_plan(households, workers, days, costs, plan)


@settings(max_examples=60, deadline=None)
@given(workloads(), st.randoms(use_true_random=False))
def test_distribute_respects_work_already_loaded(load, rnd):
    households, workers, days, previous = load
    already = {w.staff_id: float(rnd.randint(0, w.daily_capacity * days)) for w in workers}
    plan = distribute(households, workers, days, COSTS, previous, already_loaded=already)
    check_plan(households, workers, days, COSTS, plan, already)


@settings(max_examples=60, deadline=None)
@given(workloads())
def test_vulnerable_households_are_served_first(load):
    households, workers, days, previous = load
    plan = distribute(households, workers, days, COSTS, previous)
    vulnerable = [h for h in households if h.vulnerable]
    alone = distribute(vulnerable, workers, days, COSTS, previous)
    covered = {i.household_id: i.staff_id for i in plan.items}
    # the others never take capacity a vulnerable household would have had
    assert {i.household_id: i.staff_id for i in alone.items} == {
        h.household_id: covered[h.household_id] for h in vulnerable
        if h.household_id in covered}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.integers(0, 3)), max_size=25),
       st.integers(1, 2))
def test_last_rounds_worker_is_kept_when_capacity_allows(rows, days):
    households = [HouseholdWork(u(1000 + i), f"g{i % 3}", v, s) for i, (v, s, _) in
                  enumerate(rows)]
    previous = {h.household_id: u(100 + w) for h, (_, _, w) in zip(households, rows,
                                                                     strict=True)}
    need = [0.0] * 4
    for h, (_, _, w) in zip(households, rows, strict=True):
        need[w] += COSTS[choose_method(h).value]
    # each worker has just enough for last round's households (rounded up), some spare
    workers = [Worker(u(100 + w), int(-(-need[w] // days)) + (w % 2), frozenset({"g0"}))
               for w in range(4)]
    plan = distribute(households, workers, days, COSTS, previous)
    assert plan.uncovered == []
    assert {i.household_id: i.staff_id for i in plan.items} == previous


def test_a_previous_worker_who_is_full_hands_over():
    households = [HouseholdWork(u(1000 + i), "g", True, True) for i in range(3)]
    workers = [Worker(u(1), 2), Worker(u(2), 5)]
    plan = distribute(households, workers, 1, COSTS, {h.household_id: u(1) for h in households})
    owners = [i.staff_id for i in plan.items]
    assert owners.count(u(1)) == 2 and owners.count(u(2)) == 1


def test_a_worker_of_the_households_grid_is_preferred():
    households = [HouseholdWork(u(1000), "g2", False, True)]
    workers = [Worker(u(1), 50, frozenset({"g1"})), Worker(u(2), 1, frozenset({"g2"}))]
    assert distribute(households, workers, 1, COSTS).items[0].staff_id == u(2)


def test_short_capacity_leaves_households_uncovered_with_the_shortfall():
    households = [HouseholdWork(u(1000 + i), "g", i < 3, i % 2 == 0) for i in range(6)]
    plan = distribute(households, [Worker(u(1), 2)], 1, COSTS)
    # the three vulnerable households come first: two door visits fill the worker
    assert [i.household_id for i in plan.items] == [u(1000), u(1001)]
    assert {x.household_id for x in plan.uncovered} == {u(1000 + i) for i in range(2, 6)}
    assert plan.shortfall == 1.0 + 0.5 + 0.25 + 0.5
    assert plan.load == {u(1): 2.0}


def test_no_workers_means_everything_is_uncovered():
    households = [HouseholdWork(u(1000 + i), "g", False, False) for i in range(4)]
    plan = distribute(households, [], 3, COSTS)
    assert plan.items == [] and plan.shortfall == 2.0


@pytest.mark.parametrize("days", [0, -1])
def test_an_empty_window_is_rejected(days):
    with pytest.raises(InvalidInput) as info:
        distribute([], [Worker(u(1), 5)], days, COSTS)
    assert_helpful(info.value)


def test_a_newcomer_does_not_displace_a_household_from_its_previous_worker():
    newcomer = HouseholdWork(u(1000), "a", True, True)
    returning = HouseholdWork(u(1001), "b", True, True)
    workers = [Worker(u(1), 1), Worker(u(2), 1)]
    # u(1) had the returning household; u(2) has room for the newcomer
    plan = distribute([newcomer, returning], workers, 1, COSTS, {u(1001): u(1)})
    assert plan.uncovered == []
    assert {i.household_id: i.staff_id for i in plan.items} == {u(1000): u(2), u(1001): u(1)}


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.GRID_WORKER])
def test_only_a_grid_worker_is_responsible(role):
    with pytest.raises(NotPermitted) as info:
        check_responsible_worker(role, True, "C", ["Z", "C", "S"], "Z")
    assert role.value in str(info.value)
    assert_helpful(info.value)


def test_responsible_worker_rules():
    check_responsible_worker(Role.GRID_WORKER, True, "C", ["Z", "C", "S"], "Z")
    check_responsible_worker(Role.GRID_WORKER, True, "Z", ["Z", "C", "S"], "Z")
    with pytest.raises(NotPermitted) as info:
        check_responsible_worker(Role.GRID_WORKER, False, "C", ["Z", "C"], "Z")
    assert_helpful(info.value)
    with pytest.raises(NotPermitted) as info:
        check_responsible_worker(Role.GRID_WORKER, True, "C2", iter(["Z", "C", "S"]), "Z")
    assert "C2" in str(info.value) and "Z" in str(info.value)
    assert_helpful(info.value)


def test_squad_rules():
    a, b, c = u(1), u(2), u(3)
    check_squad("Z1", [(a, Role.PARTY_MEMBER, True), (b, Role.VOLUNTEER, True)], {a: "Z1"})
    with pytest.raises(InvalidInput) as info:
        check_squad("Z1", [], {})
    assert_helpful(info.value)
    for role in Role:
        if role in {Role.PARTY_MEMBER, Role.VOLUNTEER}:
            continue
        with pytest.raises(NotPermitted) as info:
            check_squad("Z1", [(a, Role.VOLUNTEER, True), (c, role, True)], {})
        assert str(c) in str(info.value) and role.value in str(info.value)
        assert_helpful(info.value)
    with pytest.raises(NotPermitted) as info:
        check_squad("Z1", [(a, Role.VOLUNTEER, False)], {})
    assert_helpful(info.value)
    with pytest.raises(InvalidInput) as info:
        check_squad("Z1", [(a, Role.VOLUNTEER, True), (b, Role.PARTY_MEMBER, True)],
                    {b: "Z2"})
    assert "Z2" in str(info.value)
    assert_helpful(info.value)


def test_distribute_scales_to_a_community():
    rnd = random.Random(712)
    households = [HouseholdWork(u(10_000 + i), f"z{i % 11}", rnd.random() < 0.3,
                                rnd.random() < 0.8) for i in range(946)]
    workers = [Worker(u(100 + i), 40, frozenset({f"z{i % 11}"})) for i in range(10)]
    plan = distribute(households, workers, 3, COSTS)
    check_plan(households, workers, 3, COSTS, plan)
    assert plan.uncovered == []
