"""Bad input to every command: a specific typed error that says what was wrong and what would
be right, and nothing written. Runs on the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from gridcore.application import MAX_BATCH, GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from gridcore.errors import (
    DuplicateCode,
    Erased,
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    LevelViolation,
    NodeRetired,
    NotFound,
    NotPermitted,
)
from gridcore.household import Vulnerability
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role, staff_id
from gridcore.status import Health, Measure, Tag, TagKind
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, Community, given_community

UNKNOWN = uuid.UUID(int=7)


def rejects(app: GridcoreApp, error: type[GridcoreError], call: Callable[..., Any],
            *args: Any, what: tuple[str, ...] = (), hidden: tuple[str, ...] = (),
            **kwargs: Any) -> GridcoreError:
    """``call`` raises exactly ``error``, naming ``what`` and a remedy, and writes nothing."""
    before = app.recorder.max_notification_id()
    with pytest.raises(GridcoreError) as info:
        call(*args, **kwargs)
    e = info.value
    exact = type(e) is error or (error is NotPermitted and isinstance(e, NotPermitted))
    assert exact, f"expected {error.__name__}, got {type(e).__name__}: {e}"
    message = str(e)
    for word in what:
        assert word in message, f"{word!r} is not named in {message!r}"
    for secret in hidden:
        assert secret not in message
    assert e.problem.strip() and e.problem in message
    assert e.remedy.strip() and e.remedy in message and e.remedy != e.problem
    assert app.recorder.max_notification_id() == before, "a rejected command wrote events"
    return e


@pytest.fixture
def c(app: GridcoreApp) -> Community:
    return given_community(app)


def members_of(app: GridcoreApp, hid: uuid.UUID) -> list[uuid.UUID]:
    return list(app.household(hid).residents)


# ---- grid hierarchy ---------------------------------------------------------------------------

def test_establish_city(app, c):
    rejects(app, DuplicateCode, app.establish_city, CITY, "又一个", what=(CITY,),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.establish_city, "42 01", "市", what=("'42 01'",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.establish_city, "", "市", what=("''",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.establish_city, "4301", "  ", what=("4301", "empty"),
            by=System.OPERATOR)


def test_create_node(app, c):
    rejects(app, NotFound, app.create_node, "999901", "x", "9999", what=("'9999'",),
            by=System.OPERATOR)
    rejects(app, DuplicateCode, app.create_node, ZONES[1], "重复", COMMUNITY, what=(ZONES[1],),
            by=System.OPERATOR)
    rejects(app, LevelViolation, app.create_node, ZONES[0] + "a", "楼", ZONES[0],
            what=(ZONES[0], "micro-grid"), by=System.OPERATOR)
    rejects(app, InvalidInput, app.create_node, "4202", "x", CITY, what=("'4202'", f"'{CITY}'"),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.create_node, CITY, "x", CITY, what=(f"'{CITY}'",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.create_node, DISTRICT + "9", "", STREET,
            what=(f"'{DISTRICT}9'", f"'{STREET}'"), by=System.OPERATOR)
    rejects(app, InvalidInput, app.create_node, CITY + "0 1", "区", CITY, what=(f"'{CITY}0 1'",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.create_node, CITY + "09", "   ", CITY,
            what=(f"{CITY}09", "empty"), by=System.OPERATOR)
    app.create_node(CITY + "09", "旧区", CITY, by=System.OPERATOR)
    app.retire_node(CITY + "09", "撤销 abolished", by=System.OPERATOR)
    rejects(app, NodeRetired, app.create_node, CITY + "0901", "街道", CITY + "09",
            what=(CITY + "09", "retired"), by=System.OPERATOR)
    # a retired node's code is never given out again
    rejects(app, DuplicateCode, app.create_node, CITY + "09", "新区", CITY, what=(CITY + "09",),
            by=System.OPERATOR)


def test_a_code_with_a_trailing_newline_is_rejected(app, c):
    rejects(app, InvalidInput, app.create_node, CITY + "9\n", "区", CITY,
            what=(repr(CITY + "9\n"),), by=System.OPERATOR)


def test_rename_node(app, c):
    rejects(app, NotFound, app.rename_node, "9999", "x", what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.rename_node, ZONES[0], " ", what=(ZONES[0], "empty"),
            by=System.OPERATOR)
    app.create_node(CITY + "09", "旧区", CITY, by=System.OPERATOR)
    app.retire_node(CITY + "09", "撤销", by=System.OPERATOR)
    rejects(app, NodeRetired, app.rename_node, CITY + "09", "新名", what=(CITY + "09",),
            by=System.OPERATOR)


def test_move_node(app, c):
    rejects(app, NotFound, app.move_node, "9999", COMMUNITY, what=("'9999'",), by=System.OPERATOR)
    rejects(app, NotFound, app.move_node, ZONES[0], "9999", what=("'9999'",), by=System.OPERATOR)
    rejects(app, LevelViolation, app.move_node, ZONES[0], STREET,
            what=(ZONES[0], STREET, "community"), by=System.OPERATOR)
    rejects(app, LevelViolation, app.move_node, COMMUNITY, CITY, what=(COMMUNITY, CITY),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.move_node, ZONES[0], COMMUNITY, what=(ZONES[0], COMMUNITY),
            by=System.OPERATOR)
    app.create_node(STREET + "9", "旧社区", STREET, by=System.OPERATOR)
    app.retire_node(STREET + "9", "撤销", by=System.OPERATOR)
    rejects(app, NodeRetired, app.move_node, ZONES[0], STREET + "9", what=(STREET + "9",),
            by=System.OPERATOR)


@pytest.mark.parametrize("parent", [CITY, DISTRICT, ZONES[0]])
def test_moving_the_city_is_a_level_violation(app, c, parent):
    rejects(app, LevelViolation, app.move_node, CITY, parent, what=(CITY,), by=System.OPERATOR)


def test_split_micro_grid(app, c):
    hids = sorted(app.node(ZONES[0]).households, key=str)
    a, b = ZONES[0] + "a", ZONES[0] + "b"
    good = {a: ("A", hids[:1]), b: ("B", hids[1:])}
    rejects(app, NotFound, app.split_micro_grid, "9999", good, what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.split_micro_grid, COMMUNITY, good,
            what=(COMMUNITY, "community"), by=System.OPERATOR)
    rejects(app, InvalidInput, app.split_micro_grid, ZONES[0], {a: ("A", hids)},
            what=("two",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.split_micro_grid, ZONES[0],
            {a: ("A", hids[:1]), b: ("B", hids[2:])}, what=(ZONES[0], str(len(hids))),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.split_micro_grid, ZONES[0],
            {a: ("A", hids), b: ("B", hids[:1])}, what=(ZONES[0],), by=System.OPERATOR)
    rejects(app, DuplicateCode, app.split_micro_grid, ZONES[0],
            {a: ("A", hids[:1]), ZONES[1]: ("B", hids[1:])}, what=(ZONES[1],), by=System.OPERATOR)
    rejects(app, InvalidInput, app.split_micro_grid, ZONES[0],
            {a: ("A", hids[:1]), "4299": ("B", hids[1:])}, what=("'4299'", COMMUNITY),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.split_micro_grid, ZONES[0],
            {a: ("A", hids[:1]), b: (" ", hids[1:])}, what=(b, "empty"), by=System.OPERATOR)
    app.create_node(ZONES[0][:-1] + "9", "空网格", COMMUNITY, by=System.OPERATOR)
    app.retire_node(ZONES[0][:-1] + "9", "撤销", by=System.OPERATOR)
    rejects(app, NodeRetired, app.split_micro_grid, ZONES[0][:-1] + "9",
            {a: ("A", []), b: ("B", [])}, what=(ZONES[0][:-1] + "9",), by=System.OPERATOR)


def test_merge_micro_grids(app, c):
    into = COMMUNITY + "-09"
    rejects(app, NotFound, app.merge_micro_grids, [ZONES[0], "9999"], into, "合",
            what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.merge_micro_grids, [ZONES[0]], into, "合", what=("two",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.merge_micro_grids, [ZONES[0], COMMUNITY], into, "合",
            what=("micro-grid",), by=System.OPERATOR)
    rejects(app, DuplicateCode, app.merge_micro_grids, ZONES, ZONES[1], "合", what=(ZONES[1],),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.merge_micro_grids, ZONES, "4299", "合", what=("'4299'",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.merge_micro_grids, ZONES, into, "", what=(into, "empty"),
            by=System.OPERATOR)
    other = STREET + "9"
    app.create_node(other, "另一社区", STREET, by=System.OPERATOR)
    app.create_node(other + "-01", "片区", other, by=System.OPERATOR)
    rejects(app, InvalidInput, app.merge_micro_grids, [ZONES[0], other + "-01"], into, "合",
            what=("different communities",), by=System.OPERATOR)


def test_merging_a_micro_grid_with_itself_is_invalid_input(app, c):
    rejects(app, InvalidInput, app.merge_micro_grids, [ZONES[0], ZONES[0]],
            COMMUNITY + "-09", "合", what=(ZONES[0],), by=System.OPERATOR)


def test_retire_node(app, c):
    rejects(app, NotFound, app.retire_node, "9999", "x", what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.retire_node, COMMUNITY, "x", what=(COMMUNITY, ZONES[0]),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.retire_node, ZONES[0], "x", what=(ZONES[0], "3 households"),
            by=System.OPERATOR)
    app.create_node(CITY + "09", "旧区", CITY, by=System.OPERATOR)
    app.retire_node(CITY + "09", "撤销", by=System.OPERATOR)
    rejects(app, NodeRetired, app.retire_node, CITY + "09", "again", what=(CITY + "09",),
            by=System.OPERATOR)


# ---- buildings and households -------------------------------------------------------------

def test_register_building(app, c):
    rejects(app, NotFound, app.register_building, "9999", "3", what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_building, ZONES[0], "3",
            what=(ZONES[0], "micro_grid"), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_building, COMMUNITY, " ", what=("number",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_building, COMMUNITY, "3", floors=0, what=("0",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_building, COMMUNITY, "3", floors=201,
            what=("201",), by=System.OPERATOR)
    app.register_building(COMMUNITY, "3", by=System.OPERATOR)
    rejects(app, DuplicateCode, app.register_building, COMMUNITY, "3", what=("3", COMMUNITY),
            by=System.OPERATOR)


def test_register_household(app, c):
    m = [new_member("N1", 1, "王五", "13800001111")]
    rejects(app, DuplicateCode, app.register_household, "712-1-0", ZONES[0], "1栋101",
            [new_member("712-1-0", 9, "王五")], what=("712-1-0",), by=System.OPERATOR)
    rejects(app, NotFound, app.register_household, "N1", "9999", "1栋101", m,
            what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_household, "N1", COMMUNITY, "1栋101", m,
            what=(COMMUNITY, "community"), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_household, "N1", ZONES[0], "", m, what=("''",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_household, "N1", ZONES[0], " 1 ", m,
            what=("' 1 '",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_household, "N1", ZONES[0], "号" * 201, m,
            what=("too long",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_household, "N1", ZONES[0], "1栋101", [],
            what=("N1", "no members"), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_household, "N1", ZONES[0], "1栋101", m + m,
            what=(str(m[0].resident_id), "twice"), by=System.OPERATOR)
    app.create_node(ZONES[0][:-1] + "9", "空网格", COMMUNITY, by=System.OPERATOR)
    app.retire_node(ZONES[0][:-1] + "9", "撤销", by=System.OPERATOR)
    rejects(app, NodeRetired, app.register_household, "N1", ZONES[0][:-1] + "9", "1栋101", m,
            what=(ZONES[0][:-1] + "9",), by=System.OPERATOR)


def test_a_resident_needs_a_name(app, c):
    rejects(app, InvalidInput, lambda: app.register_household(
        "N1", ZONES[0], "1栋101", [new_member("N1", 1, "  ")], by=System.OPERATOR))


@pytest.mark.parametrize("phone", ["1381234123", "12812341234", "138123412345", "0532-812"])
def test_malformed_phones_are_rejected_with_a_masked_message(phone):
    with pytest.raises(InvalidInput) as info:
        new_member("N1", 1, "王五", phone)
    assert "malformed" in str(info.value) and info.value.remedy.strip()
    if len(phone) >= 8:
        assert phone not in str(info.value)


@pytest.mark.parametrize("idn", ["110105194912310021", "11010519491231002", "abc",
                                 "11010519491231002Y"])
def test_malformed_id_numbers_are_rejected_with_a_masked_message(idn):
    with pytest.raises(InvalidInput) as info:
        new_member("N1", 1, "王五", None, idn)
    assert "GB 11643" in str(info.value) and info.value.remedy.strip()
    assert idn not in str(info.value) or len(idn) < 11


@pytest.mark.parametrize("year", [1889, 2101])
def test_an_implausible_birth_year_is_rejected(year):
    with pytest.raises(InvalidInput) as info:
        new_member("N1", 1, "王五", birth_year=year)
    assert str(year) in str(info.value) and info.value.remedy.strip()


def test_register_households(app, c):
    def row(no: str, grid: str = ZONES[0], address: str = "9栋101") -> HouseholdRow:
        return HouseholdRow(no, grid, address, [new_member(no, 1, "王五")])

    rejects(app, InvalidInput, app.register_households, [row("B1"), row("B2"), row("B1")],
            what=("B1", "twice"), by=System.OPERATOR)
    too_many = [row("B1")] * (MAX_BATCH + 1)
    rejects(app, InvalidInput, app.register_households, too_many,
            what=(str(MAX_BATCH + 1), str(MAX_BATCH)), by=System.OPERATOR)
    # one bad row spoils the batch: the good rows before it are not written either
    rejects(app, NotFound, app.register_households, [row("B1"), row("B2", "9999")],
            what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_households, [row("B1"), row("B2", address="x")],
            what=("'x'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_households, [row("B1"), row("B2", COMMUNITY)],
            what=(COMMUNITY,), by=System.OPERATOR)
    with pytest.raises(NotFound):
        app.household_by_no("B1")
    assert len(app.node(ZONES[0]).households) == 3


def test_move_household(app, c):
    hid = c.households[0]
    rejects(app, NotFound, app.move_household, UNKNOWN, ZONES[1], what=(str(UNKNOWN),),
            by=System.OPERATOR)
    rejects(app, NotFound, app.move_household, hid, "9999", what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.move_household, hid, COMMUNITY, what=(COMMUNITY,),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.move_household, hid, ZONES[0], what=(ZONES[0], "already"),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.move_household, hid, ZONES[1], address="x", what=("'x'",),
            by=System.OPERATOR)
    app.create_node(ZONES[0][:-1] + "9", "空网格", COMMUNITY, by=System.OPERATOR)
    app.retire_node(ZONES[0][:-1] + "9", "撤销", by=System.OPERATOR)
    rejects(app, NodeRetired, app.move_household, hid, ZONES[0][:-1] + "9",
            what=(ZONES[0][:-1] + "9",), by=System.OPERATOR)
    # a building that is not registered, or registered in another community, is refused
    from gridcore.building import building_id

    rejects(app, NotFound, app.move_household, hid, ZONES[1], building_id(COMMUNITY, "77"),
            what=("not registered", "registerBuilding"), by=System.OPERATOR)
    app.create_node(COMMUNITY[:-1] + "9", "邻社区", STREET, by=System.OPERATOR)
    app.register_building(COMMUNITY[:-1] + "9", "1", by=System.OPERATOR)
    rejects(app, InvalidInput, app.move_household, hid, ZONES[1],
            building_id(COMMUNITY[:-1] + "9", "1"), what=("not in community", COMMUNITY),
            by=System.OPERATOR)
    app.register_building(COMMUNITY, "7", by=System.OPERATOR)
    app.move_household(hid, ZONES[1], building_id(COMMUNITY, "7"), by=System.OPERATOR)
    assert app.household(hid).building_id == building_id(COMMUNITY, "7")


def test_add_and_remove_members(app, c):
    hid = c.households[0]
    first, second = members_of(app, hid)
    known = new_member("712-1-0", 1, "张三")
    rejects(app, NotFound, app.add_member, UNKNOWN, known, what=(str(UNKNOWN),), by=System.OPERATOR)
    rejects(app, InvalidInput, app.add_member, hid, known, what=(str(first), "already"),
            by=System.OPERATOR)
    rejects(app, NotFound, app.remove_member, hid, UNKNOWN, "迁出", what=(str(UNKNOWN),),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.remove_member, hid, second, "  ", what=("reason",),
            by=System.OPERATOR)
    app.remove_member(hid, second, "迁出 moved out", by=System.OPERATOR)
    rejects(app, InvalidInput, app.remove_member, hid, first, "迁出",
            what=(str(first), "last member", "712-1-0"), by=System.OPERATOR)
    # a former member is still known: re-adding needs a new resident id
    rejects(app, InvalidInput, app.add_member, hid, new_member("712-1-0", 2, "李四"),
            what=(str(second),), by=System.OPERATOR)


def test_mark_vulnerability_and_erase(app, c):
    hid = c.households[0]
    first = members_of(app, hid)[0]
    rejects(app, NotFound, app.mark_vulnerability, hid, UNKNOWN, Vulnerability.DISABILITY,
            what=(str(UNKNOWN),), by=System.OPERATOR)
    rejects(app, NotFound, app.mark_vulnerability, UNKNOWN, first, Vulnerability.DISABILITY,
            what=(str(UNKNOWN),), by=System.OPERATOR)
    rejects(app, NotFound, app.erase_resident, hid, UNKNOWN, "目的已完成",
            what=(str(UNKNOWN),), by=System.OPERATOR)
    rejects(app, InvalidInput, app.erase_resident, hid, first, " ", what=("reason",),
            by=System.OPERATOR)
    app.erase_resident(hid, first, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    rejects(app, Erased, app.erase_resident, hid, first, "again", what=(str(first),),
            by=System.OPERATOR)


# ---- resident status ----------------------------------------------------------------------

def test_change_health(app, c):
    hid = c.households[0]
    rid = members_of(app, hid)[0]
    rejects(app, NotFound, app.change_health, UNKNOWN, rid, Health.SYMPTOMATIC, c.worker,
            what=(str(UNKNOWN),))
    rejects(app, NotFound, app.change_health, hid, UNKNOWN, Health.SYMPTOMATIC, c.worker,
            what=(str(UNKNOWN),))
    rejects(app, NotFound, app.change_health, hid, rid, Health.SYMPTOMATIC, UNKNOWN,
            what=(str(UNKNOWN),))
    rejects(app, ForbiddenTransition, app.change_health, hid, rid, Health.RECOVERED, c.doctor,
            what=("normal", "recovered"))
    rejects(app, ForbiddenTransition, app.change_health, hid, rid, Health.NORMAL, c.doctor,
            what=("normal",))
    rejects(app, NotPermitted, app.change_health, hid, rid, Health.CONFIRMED, c.volunteer,
            what=("volunteer", "confirmed"))
    app.change_health(hid, rid, Health.DECEASED, c.doctor, "死亡")
    rejects(app, ForbiddenTransition, app.change_health, hid, rid, Health.NORMAL, c.doctor,
            what=("deceased", "none"))


def test_change_measure(app, c, clock):
    hid = c.households[0]
    rid, other = members_of(app, hid)
    q = Measure.HOME_QUARANTINE
    rejects(app, NotFound, app.change_measure, hid, UNKNOWN, q, c.worker, what=(str(UNKNOWN),))
    rejects(app, NotPermitted, app.change_measure, hid, rid, Measure.HOSPITALIZED, c.volunteer,
            what=("volunteer", "hospitalized"))
    rejects(app, ForbiddenTransition, app.change_measure, hid, rid, Measure.NONE, c.doctor,
            what=("none",))
    app.change_measure(hid, rid, q, c.worker, "密接")
    rejects(app, NotPermitted, app.change_measure, hid, rid, Measure.NONE, c.worker,
            what=("grid_worker", "home_quarantine"))
    rejects(app, ForbiddenTransition, app.change_measure, hid, rid, Measure.NONE, c.official,
            what=("14-day", "home_quarantine"))
    clock.advance(days=14)
    rejects(app, ForbiddenTransition, app.change_measure, hid, rid, Measure.NONE, c.official,
            what=("negative test", "48 hours"))
    app.record_test(hid, rid, True, clock.now - timedelta(hours=49), by=System.OPERATOR)
    rejects(app, ForbiddenTransition, app.change_measure, hid, rid, Measure.NONE, c.official,
            what=("negative test",))
    rejects(app, NotPermitted, app.change_measure, hid, rid, Measure.NONE, c.official,
            override_reason="领导同意", what=("official", "override"))
    app.change_health(hid, other, Health.DECEASED, c.doctor)
    rejects(app, ForbiddenTransition, app.change_measure, hid, other, q, c.doctor,
            what=("deceased",))


def test_record_test(app, c, clock):
    hid = c.households[0]
    rid = members_of(app, hid)[0]
    rejects(app, InvalidInput, app.record_test, hid, rid, True,
            clock.now + timedelta(minutes=1), what=("future",), by=System.OPERATOR)
    rejects(app, NotFound, app.record_test, hid, UNKNOWN, True, what=(str(UNKNOWN),),
            by=System.OPERATOR)
    rejects(app, NotFound, app.record_test, UNKNOWN, rid, True, what=(str(UNKNOWN),),
            by=System.OPERATOR)


def test_a_naive_test_time_is_invalid_input(app, c):
    hid = c.households[0]
    rejects(app, InvalidInput, app.record_test, hid, members_of(app, hid)[0], True,
            datetime(2020, 2, 17, 7, 0), by=System.OPERATOR)


def test_tags(app, c):
    hid = c.households[0]
    rid = members_of(app, hid)[0]
    app.enrol_staff("PM1", "物业", Role.PROPERTY_MANAGER, COMMUNITY, 0, by=System.OPERATOR)
    pm = staff_id("PM1")
    close = Tag(kind=TagKind.CLOSE_CONTACT)
    rejects(app, NotPermitted, app.tag_resident, hid, rid, close, pm,
            what=("property_manager",))
    rejects(app, InvalidInput, app.tag_resident, hid, rid, Tag(kind=TagKind.RISK_AREA_ARRIVAL),
            c.worker, what=("origin", "arrival"))
    rejects(app, InvalidInput, app.tag_resident, hid, rid,
            Tag(kind=TagKind.RISK_AREA_ARRIVAL, origin="云南"), c.worker, what=("arrival date",))
    rejects(app, NotFound, app.tag_resident, hid, UNKNOWN, close, c.worker,
            what=(str(UNKNOWN),))
    rejects(app, InvalidInput, app.untag_resident, hid, rid, TagKind.CLOSE_CONTACT, c.doctor,
            "解除", what=("close_contact",))
    app.tag_resident(hid, rid, close, c.worker)
    rejects(app, NotPermitted, app.untag_resident, hid, rid, TagKind.CLOSE_CONTACT,
            c.volunteer, "解除", what=("volunteer", "untag resident"))


def test_adopt_policy(app, c):
    rejects(app, InvalidInput, app.adopt_policy, DEFAULT_POLICY, datetime(2020, 3, 1),
            "naive", what=("time zone",), by=System.OPERATOR)


# ---- staff and assignment -----------------------------------------------------------------

def test_enrol_staff(app, c):
    rejects(app, DuplicateCode, app.enrol_staff, "GW1", "又一个", Role.GRID_WORKER, COMMUNITY,
            what=("GW1",), by=System.OPERATOR)
    rejects(app, NotFound, app.enrol_staff, "GW9", "王", Role.GRID_WORKER, "9999",
            what=("'9999'",), by=System.OPERATOR)
    e = rejects(app, InvalidInput, app.enrol_staff, "GW9", "王", Role.GRID_WORKER, COMMUNITY,
                40, "13900001", what=("malformed",), by=System.OPERATOR)
    assert "phone" in e.remedy
    rejects(app, InvalidInput, app.enrol_staff, "GW9", "王", Role.GRID_WORKER, COMMUNITY, 40,
            "139000011112", what=("malformed",), hidden=("139000011112",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.enrol_staff, "GW9", "王", Role.GRID_WORKER, COMMUNITY, 501,
            what=("501",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.enrol_staff, "GW9", "王", Role.GRID_WORKER, COMMUNITY, -1,
            what=("-1",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.enrol_staff, "GW9", " ", Role.GRID_WORKER, COMMUNITY,
            what=("name",), by=System.OPERATOR)
    rejects(app, NotFound, app.enrol_staff, "GW9", "王", Role.VOLUNTEER, COMMUNITY,
            resident=(UNKNOWN, UNKNOWN), what=(str(UNKNOWN),), by=System.OPERATOR)
    hid = c.households[0]
    rejects(app, NotFound, app.enrol_staff, "GW9", "王", Role.VOLUNTEER, COMMUNITY,
            resident=(hid, UNKNOWN), what=(str(UNKNOWN),), by=System.OPERATOR)
    app.create_node(STREET + "9", "旧社区", STREET, by=System.OPERATOR)
    app.retire_node(STREET + "9", "撤销", by=System.OPERATOR)
    rejects(app, NodeRetired, app.enrol_staff, "GW9", "王", Role.GRID_WORKER, STREET + "9",
            what=(STREET + "9",), by=System.OPERATOR)


def test_set_staff_availability(app, c):
    rejects(app, NotFound, app.set_staff_availability, UNKNOWN, False, what=(str(UNKNOWN),),
            by=System.OPERATOR)


def test_assign_responsible_worker(app, c):
    rejects(app, NotFound, app.assign_responsible_worker, ZONES[0], UNKNOWN,
            what=(str(UNKNOWN),), by=System.OPERATOR)
    rejects(app, NotFound, app.assign_responsible_worker, "9999", c.worker, what=("'9999'",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.assign_responsible_worker, COMMUNITY, c.worker,
            what=(COMMUNITY,), by=System.OPERATOR)
    rejects(app, NotPermitted, app.assign_responsible_worker, ZONES[0], c.volunteer,
            what=("volunteer", ZONES[0]), by=System.OPERATOR)
    other = STREET + "9"
    app.create_node(other, "另一社区", STREET, by=System.OPERATOR)
    app.enrol_staff("GW9", "外社区", Role.GRID_WORKER, other, by=System.OPERATOR)
    rejects(app, NotPermitted, app.assign_responsible_worker, ZONES[0], staff_id("GW9"),
            what=(ZONES[0], other), by=System.OPERATOR)
    app.set_staff_availability(c.worker, False, "病假", by=System.OPERATOR)
    rejects(app, NotPermitted, app.assign_responsible_worker, ZONES[0], c.worker,
            what=("unavailable",), by=System.OPERATOR)


def test_form_squad(app, c):
    rejects(app, InvalidInput, app.form_squad, ZONES[0], [], what=(ZONES[0], "no members"),
            by=System.OPERATOR)
    rejects(app, NotFound, app.form_squad, ZONES[0], [UNKNOWN], what=(str(UNKNOWN),),
            by=System.OPERATOR)
    rejects(app, NotFound, app.form_squad, "9999", [c.volunteer], what=("'9999'",),
            by=System.OPERATOR)
    rejects(app, NotPermitted, app.form_squad, ZONES[0], [c.volunteer, c.worker],
            what=(str(c.worker), "grid_worker"), by=System.OPERATOR)
    other = STREET + "9"
    app.create_node(other, "另一社区", STREET, by=System.OPERATOR)
    app.enrol_staff("VOL9", "外社区", Role.VOLUNTEER, other, by=System.OPERATOR)
    rejects(app, NotPermitted, app.form_squad, ZONES[0], [staff_id("VOL9")],
            what=(str(staff_id("VOL9")),), by=System.OPERATOR)
    app.form_squad(ZONES[1], [c.volunteer], by=System.OPERATOR)
    rejects(app, InvalidInput, app.form_squad, ZONES[0], [c.volunteer],
            what=(str(c.volunteer), ZONES[1]), by=System.OPERATOR)


def test_assign_and_reassign(app, c):
    rejects(app, NotFound, app.assign_scope, "9999", 1, 3, what=("'9999'",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.assign_scope, COMMUNITY, 1, 0, what=("0 days",),
            by=System.OPERATOR)
    rejects(app, NotFound, app.reassign_work_of, c.worker, COMMUNITY, 1, "病假",
            what=(COMMUNITY, "round 1"), by=System.OPERATOR)
    app.assign_scope(COMMUNITY, 1, 3, by=System.OPERATOR)
    rejects(app, DuplicateCode, app.assign_scope, COMMUNITY, 1, 3, what=(COMMUNITY, "Round 1"),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.reassign_work_of, c.official, COMMUNITY, 1, "病假",
            what=("陈书记", COMMUNITY), by=System.OPERATOR)
    rejects(app, NotFound, app.reassign_work_of, UNKNOWN, COMMUNITY, 1, "病假",
            what=(str(UNKNOWN),), by=System.OPERATOR)


# ---- client command ids ---------------------------------------------------------------------

def test_client_ids(app, c):
    hid = c.households[0]
    rid = members_of(app, hid)[0]
    app.record_test(hid, rid, True, client_id="device-1/cmd-1", by=System.OPERATOR)
    rejects(app, InvalidInput, app.tag_resident, hid, rid, Tag(kind=TagKind.CLOSE_CONTACT),
            c.worker, client_id="device-1/cmd-1", what=("device-1/cmd-1", "record_test"))
    rejects(app, InvalidInput, app.record_test, hid, rid, True, client_id="x" * 201,
            what=("client id",), by=System.OPERATOR)
    # the same command again is a no-op, not an error
    before = app.recorder.max_notification_id()
    assert app.record_test(hid, rid, True, client_id="device-1/cmd-1", by=System.OPERATOR) == before
    assert app.recorder.max_notification_id() == before


def test_an_empty_client_id_is_rejected(app, c):
    hid = c.households[0]
    rejects(app, InvalidInput, app.record_test, hid, members_of(app, hid)[0], True,
            client_id="", what=("client id",), by=System.OPERATOR)


def test_a_retried_command_returns_what_it_returned_first(app, c):
    rows = [HouseholdRow("R1", ZONES[0], "9栋101", [new_member("R1", 1, "王五")])]
    first = app.register_households(rows, client_id="batch-1", by=System.OPERATOR)
    before = app.recorder.max_notification_id()
    again = app.register_households(rows, client_id="batch-1", by=System.OPERATOR)
    assert type(again) is type(first) and first.registered == 1
    assert again.registered + again.already_registered == len(rows)
    plan = app.assign_scope(COMMUNITY, 1, 3, client_id="plan-1", by=System.OPERATOR)
    replayed = app.assign_scope(COMMUNITY, 1, 3, client_id="plan-1", by=System.OPERATOR)
    assert sorted(replayed.items, key=lambda i: str(i.household_id)) == sorted(
        plan.items, key=lambda i: str(i.household_id))
    assert replayed.shortfall == plan.shortfall
    assert app.recorder.max_notification_id() > before
