"""Enterprise resumption (复工复产): one specialist per enterprise, filings against the checklist
in force, reviews, employee health declarations, inspections and rectifications with the overdue
tick; bad inputs on every store."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.enterprise import (
    ChecklistIncomplete,
    Enterprise,
    Resumption,
    SpecialistMissing,
    enterprise_id,
    missing_items,
    rectification_changes,
)
from gridcore.errors import (
    DuplicateCode,
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from gridcore.policy import DEFAULT_POLICY
from gridcore.staff import Role
from tests.scenario import COMMUNITY, ZONES, Community, given_community

CODE, OTHER = "91510100MA61R8XK2B", "91510100MA61R8XK3C"
CHECKLIST = list(DEFAULT_POLICY.resumption_checklist)
ITEMS = list(DEFAULT_POLICY.inspection_items)
ALL_PASS = dict.fromkeys(ITEMS, True)


@dataclass
class Bureau:
    c: Community
    s1: UUID
    s2: UUID


def given_bureau(app: GridcoreApp) -> Bureau:
    """The community with two enterprise specialists (企业服务专员)."""
    c = given_community(app, households_per_zone=1)
    app.enrol_staff("ES1", "专员甲", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0, by=System.OPERATOR)
    app.enrol_staff("ES2", "专员乙", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0, by=System.OPERATOR)
    return Bureau(c, app.staff_by_no("ES1").id, app.staff_by_no("ES2").id)


def register(app: GridcoreApp, b: Bureau, code: str = CODE, zone: str = ZONES[0]) -> UUID:
    app.register_enterprise(code, f"企业{code[-3:]}", "经济运行局", zone, b.s1, by=System.OPERATOR)
    return enterprise_id(code)


def resumed(app: GridcoreApp, b: Bureau, code: str = CODE) -> UUID:
    eid = register(app, b, code)
    app.file_resumption(eid, CHECKLIST, employees=40, by=System.OPERATOR)
    app.declare_employee_health(eid, 40, by=System.OPERATOR)
    app.review_resumption(eid, b.s1, approved=True)
    return eid


# ---- registry ------------------------------------------------------------------------------------

def test_an_enterprise_has_exactly_one_specialist_and_another_replaces_them(app):
    b = given_bureau(app)
    eid = register(app, b)
    e = app.enterprise(eid)
    assert (e.specialist, e.location, e.department, e.resumption) == (
        b.s1, ZONES[0], "经济运行局", Resumption.NOT_FILED)
    assert [x.id for x in app.enterprises_of(b.s1)] == [eid]
    app.assign_specialist(eid, b.s2, by=System.OPERATOR)
    assert app.enterprise(eid).specialist == b.s2
    assert app.enterprises_of(b.s1) == [] and [x.id for x in app.enterprises_of(b.s2)] == [eid]
    last = list(app.events.get(eid))[-1]
    assert isinstance(last, Enterprise.SpecialistAssigned) and last.previous == b.s1
    register(app, b, OTHER, ZONES[1])
    assert [x.id for x in app.enterprises_in(COMMUNITY)] == [eid, enterprise_id(OTHER)]
    assert [x.id for x in app.enterprises_in(ZONES[1])] == [enterprise_id(OTHER)]


def test_registering_without_a_specialist_is_refused(app):
    b = given_bureau(app)
    before = app.recorder.max_notification_id()
    with pytest.raises(SpecialistMissing, match="no enterprise specialist"):
        app.register_enterprise(CODE, "企业", "经济运行局", ZONES[0], None, by=System.OPERATOR)
    with pytest.raises(InvalidInput, match="volunteer"):
        app.register_enterprise(CODE, "企业", "经济运行局", ZONES[0], b.c.volunteer,
                                by=System.OPERATOR)
    assert app.recorder.max_notification_id() == before


# ---- filing and review ---------------------------------------------------------------------------

def test_a_filing_missing_checklist_items_is_refused_listing_them(app):
    b = given_bureau(app)
    eid = register(app, b)
    with pytest.raises(ChecklistIncomplete) as info:
        app.file_resumption(eid, ["测温", "消毒", "员工健康申报"], employees=40, by=System.OPERATOR)
    assert info.value.missing == ["口罩储备", "应急预案"]
    assert pickle.loads(pickle.dumps(info.value)).missing == ["口罩储备", "应急预案"]
    assert "口罩储备 mask stock" in str(info.value) and "应急预案 emergency plan" in str(info.value)
    assert missing_items(CHECKLIST, CHECKLIST) == []
    app.file_resumption(eid, [*CHECKLIST, "错峰上下班 staggered shifts"], employees=40,
                        by=System.OPERATOR)
    e = app.enterprise(eid)
    assert (e.resumption, e.employees) == (Resumption.FILED, 40)
    assert e.checklist == [*CHECKLIST, "错峰上下班 staggered shifts"]


def test_a_filing_is_rejected_with_reasons_filed_again_and_approved(app):
    b = given_bureau(app)
    eid = register(app, b)
    app.file_resumption(eid, CHECKLIST, employees=40, by=System.OPERATOR)
    with pytest.raises(InvalidInput, match="reasons"):
        app.review_resumption(eid, b.s1, approved=False, reasons=[" "])
    app.review_resumption(eid, b.s1, approved=False, reasons=["口罩储备不足 too few masks"])
    e = app.enterprise(eid)
    assert (e.resumption, e.reasons) == (Resumption.REJECTED, ["口罩储备不足 too few masks"])
    with pytest.raises(ForbiddenTransition):
        app.review_resumption(eid, b.s1, approved=True)
    app.file_resumption(eid, CHECKLIST, employees=35, by=System.OPERATOR)
    app.declare_employee_health(eid, 35, by=System.OPERATOR)
    app.review_resumption(eid, b.c.official, approved=True)  # an official may review too
    e = app.enterprise(eid)
    assert (e.resumption, e.reasons, e.employees) == (Resumption.APPROVED, [], 35)
    with pytest.raises(ForbiddenTransition):
        app.file_resumption(eid, CHECKLIST, employees=35, by=System.OPERATOR)


def test_approval_needs_a_health_declaration_without_symptoms(app):
    b = given_bureau(app)
    eid = register(app, b)
    app.file_resumption(eid, CHECKLIST, employees=40, by=System.OPERATOR)
    with pytest.raises(ForbiddenTransition, match="health declaration"):
        app.review_resumption(eid, b.s1, approved=True)
    with pytest.raises(InvalidInput):
        app.declare_employee_health(eid, 41, by=System.OPERATOR)  # more than filed
    app.declare_employee_health(eid, 38, symptomatic=2, by=System.OPERATOR)
    with pytest.raises(ForbiddenTransition, match="2 employee"):
        app.review_resumption(eid, b.s1, approved=True)
    app.declare_employee_health(eid, 38, by=System.OPERATOR)
    app.review_resumption(eid, b.s1, approved=True)
    declarations = app.enterprise(eid).declarations
    assert [(d.declared, d.symptomatic) for d in declarations] == [(38, 2), (38, 0)]


def test_filing_while_the_specialist_is_unavailable_is_refused(app):
    b = given_bureau(app)
    eid = register(app, b)
    app.set_staff_availability(b.s1, False, "密接 close contact", by=System.OPERATOR)
    with pytest.raises(SpecialistMissing, match="unavailable"):
        app.file_resumption(eid, CHECKLIST, employees=40, by=System.OPERATOR)
    with pytest.raises(SpecialistMissing):
        app.register_enterprise(OTHER, "企业", "经济运行局", ZONES[0], b.s1, by=System.OPERATOR)
    app.assign_specialist(eid, b.s2, by=System.OPERATOR)
    app.file_resumption(eid, CHECKLIST, employees=40, by=System.OPERATOR)
    assert app.enterprise(eid).resumption is Resumption.FILED


def test_the_checklist_is_the_one_in_force(app, clock):
    b = given_bureau(app)
    longer = DEFAULT_POLICY.with_changes(resumption_checklist=[*CHECKLIST, "通风"])
    app.adopt_policy(longer, clock.now + timedelta(days=1), "增加通风 add ventilation",
                     by=System.OPERATOR)
    first, second = register(app, b), register(app, b, OTHER)
    app.file_resumption(first, CHECKLIST, employees=10, by=System.OPERATOR)
    clock.advance(days=1)
    with pytest.raises(ChecklistIncomplete) as info:
        app.file_resumption(second, CHECKLIST, employees=10, by=System.OPERATOR)
    assert info.value.missing == ["通风"]
    app.file_resumption(second, [*CHECKLIST, "通风"], employees=10, by=System.OPERATOR)


# ---- inspections and rectifications --------------------------------------------------------------

def test_a_failed_item_opens_a_rectification_closed_when_it_passes_again(app, clock):
    b = given_bureau(app)
    eid = resumed(app, b)
    t0 = clock.now
    with pytest.raises(InvalidInput, match="not assessed"):
        app.inspect_enterprise(eid, b.s1, {"洗手": True})
    app.inspect_enterprise(eid, b.s1, {**ALL_PASS, "就餐": False}, "集中就餐 shared tables")
    e = app.enterprise(eid)
    deadline = t0 + timedelta(days=3)
    assert list(e.rectifications) == ["就餐"] and e.rectifications["就餐"].deadline == deadline
    assert app.enterprise_desk(COMMUNITY).due == {eid: deadline}
    clock.advance(days=1)
    app.inspect_enterprise(eid, b.s1, {**ALL_PASS, "就餐": False})  # still failing: no new one
    assert app.enterprise(eid).rectifications["就餐"].deadline == deadline
    app.inspect_enterprise(eid, b.s1, ALL_PASS)
    e = app.enterprise(eid)
    assert (e.rectifications, e.rectified, e.inspections) == ({}, 1, 3)
    assert app.enterprise_desk(COMMUNITY).due == {}
    assert app.tick_enterprises(t0 + timedelta(days=30)) == 0


def test_close_rectification_reinspects_one_item(app):
    b = given_bureau(app)
    eid = resumed(app, b)
    app.inspect_enterprise(eid, b.s1, {**ALL_PASS, "洗手": False, "就餐": False})
    app.close_rectification(eid, "洗手", b.s1, "已配洗手液 soap in place")
    e = app.enterprise(eid)
    assert list(e.rectifications) == ["就餐"] and e.rectified == 1
    inspected = [ev for ev in app.events.get(eid) if isinstance(ev, Enterprise.Inspected)]
    assert inspected[-1].results == {"洗手": True} and inspected[-1].inspection_no == 1
    assert e.inspections == 1  # a follow-up is part of its round, not another inspection
    with pytest.raises(InvalidInput, match="no open rectification"):
        app.close_rectification(eid, "洗手", b.s1)
    assert rectification_changes(["就餐"], {"就餐": False, "洗手": False}) == (["洗手"], [])
    assert rectification_changes(["就餐"], {"就餐": True}) == ([], ["就餐"])


def test_an_overdue_rectification_is_recorded_once(app, clock):
    b = given_bureau(app)
    eid = resumed(app, b)
    t0 = clock.now
    app.inspect_enterprise(eid, b.s1, {**ALL_PASS, "就餐": False})
    clock.advance(days=1)
    app.inspect_enterprise(eid, b.s1, {**ALL_PASS, "就餐": False, "开会间距": False})
    assert app.tick_enterprises(t0 + timedelta(days=3, seconds=-1)) == 0
    assert app.tick_enterprises(t0 + timedelta(days=3)) == 1
    assert app.tick_enterprises(t0 + timedelta(days=3, hours=1)) == 0
    e = app.enterprise(eid)
    assert e.rectifications["就餐"].overdue and not e.rectifications["开会间距"].overdue
    clock.now = t0 + timedelta(days=4)
    assert app.tick()["enterprises"] == 1
    assert app.tick()["enterprises"] == 0
    overdue = [ev for ev in app.events.get(eid) if isinstance(ev, Enterprise.RectificationOverdue)]
    assert [ev.item for ev in overdue] == ["就餐", "开会间距"]
    app.close_rectification(eid, "就餐", b.s1)  # late, but closed when it passes
    assert list(app.enterprise(eid).rectifications) == ["开会间距"]


def test_only_the_own_specialist_or_an_official_inspects(app):
    b = given_bureau(app)
    eid = resumed(app, b)
    with pytest.raises(NotPermitted):
        app.inspect_enterprise(eid, b.s2, ALL_PASS)
    with pytest.raises(NotPermitted):
        app.inspect_enterprise(eid, b.c.worker, ALL_PASS)
    app.inspect_enterprise(eid, b.c.official, ALL_PASS)
    assert app.enterprise(eid).inspections == 1


# ---- bad inputs, on every store ------------------------------------------------------------------

def test_bad_inputs_give_typed_errors_and_write_nothing(app):
    b = given_bureau(app)
    eid = register(app, b)
    done = resumed(app, b, OTHER)
    nobody = UUID(int=7)
    cases: list[tuple[str, type[GridcoreError], Callable[[], object]]] = [
        ("register: no specialist", SpecialistMissing, lambda: app.register_enterprise(
            "91510100MA61R8XK9Z", "企业", "经济运行局", ZONES[0], None, by=System.OPERATOR)),
        ("register: not a specialist", InvalidInput, lambda: app.register_enterprise(
            "91510100MA61R8XK9Z", "企业", "经济运行局", ZONES[0], b.c.worker, by=System.OPERATOR)),
        ("register: unknown specialist", NotFound, lambda: app.register_enterprise(
            "91510100MA61R8XK9Z", "企业", "经济运行局", ZONES[0], nobody, by=System.OPERATOR)),
        ("register: malformed code", InvalidInput, lambda: app.register_enterprise(
            "9151-bad", "企业", "经济运行局", ZONES[0], b.s1, by=System.OPERATOR)),
        ("register: no name", InvalidInput, lambda: app.register_enterprise(
            "91510100MA61R8XK9Z", " ", "经济运行局", ZONES[0], b.s1, by=System.OPERATOR)),
        ("register: unknown location", NotFound, lambda: app.register_enterprise(
            "91510100MA61R8XK9Z", "企业", "经济运行局", "nowhere", b.s1, by=System.OPERATOR)),
        ("register: twice", DuplicateCode, lambda: app.register_enterprise(
            CODE, "企业", "经济运行局", ZONES[0], b.s1, by=System.OPERATOR)),
        ("assign: unknown enterprise", NotFound, lambda: app.assign_specialist(nobody, b.s2,
                                                                               by=System.OPERATOR)),
        ("assign: same specialist", InvalidInput, lambda: app.assign_specialist(eid, b.s1,
                                                                                by=System.OPERATOR)),
        ("assign: not a specialist", InvalidInput, lambda: app.assign_specialist(
            eid, b.c.volunteer, by=System.OPERATOR)),
        ("file: checklist incomplete", ChecklistIncomplete, lambda: app.file_resumption(
            eid, CHECKLIST[:2], 10, by=System.OPERATOR)),
        ("file: no employees", InvalidInput, lambda: app.file_resumption(eid, CHECKLIST, 0,
                                                                         by=System.OPERATOR)),
        ("file: unknown enterprise", NotFound,
         lambda: app.file_resumption(nobody, CHECKLIST, 10, by=System.OPERATOR)),
        ("file: already approved", ForbiddenTransition, lambda: app.file_resumption(
            done, CHECKLIST, 10, by=System.OPERATOR)),
        ("review: not filed", ForbiddenTransition, lambda: app.review_resumption(
            eid, b.s1, approved=True)),
        ("review: other specialist", NotPermitted, lambda: app.review_resumption(
            eid, b.s2, approved=True)),
        ("review: unknown reviewer", NotFound, lambda: app.review_resumption(eid, nobody, True)),
        ("declare: none declared", InvalidInput,
         lambda: app.declare_employee_health(eid, 0, by=System.OPERATOR)),
        ("declare: more symptomatic than declared", InvalidInput,
         lambda: app.declare_employee_health(eid, 3, symptomatic=4, by=System.OPERATOR)),
        ("declare: more than filed", InvalidInput,
         lambda: app.declare_employee_health(done, 41, by=System.OPERATOR)),
        ("inspect: not resumed", ForbiddenTransition, lambda: app.inspect_enterprise(
            eid, b.s1, ALL_PASS)),
        ("inspect: unknown item", InvalidInput, lambda: app.inspect_enterprise(
            done, b.s1, {**ALL_PASS, "跳舞": True})),
        ("inspect: other specialist", NotPermitted, lambda: app.inspect_enterprise(
            done, b.s2, ALL_PASS)),
        ("close: nothing open", InvalidInput, lambda: app.close_rectification(done, "洗手",
                                                                               b.s1)),
        ("close: unknown enterprise", NotFound, lambda: app.close_rectification(nobody, "洗手",
                                                                                 b.s1)),
    ]
    for name, error, call in cases:
        before = app.recorder.max_notification_id()
        with pytest.raises(GridcoreError) as info:
            call()
            pytest.fail(f"{name}: accepted")
        assert type(info.value) is error, f"{name}: {info.value!r}"
        assert info.value.remedy.strip(), name
        assert app.recorder.max_notification_id() == before, f"{name} wrote"


def test_a_second_application_reads_the_same_enterprises_and_desk(make_app, clock):
    app = make_app()
    b = given_bureau(app)
    eid = resumed(app, b)
    app.declare_employee_health(eid, 30, symptomatic=1, by=System.OPERATOR)
    app.inspect_enterprise(eid, b.s1, {**ALL_PASS, "洗手": False, "就餐": False})
    app.close_rectification(eid, "洗手", b.s1)
    app.assign_specialist(eid, b.s2, by=System.OPERATOR)
    assert app.tick_enterprises(clock.now + timedelta(days=4)) == 1
    second = make_app()
    for aid in (eid, app.enterprise_desk(COMMUNITY).id):
        first, again = app.repository.get(aid), second.repository.get(aid)
        assert {k: v for k, v in vars(first).items() if k != "_pending"} == {
            k: v for k, v in vars(again).items() if k != "_pending"}
    assert second.enterprise(eid).rectifications["就餐"].overdue
