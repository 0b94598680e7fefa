"""Who may give each command, and where: one table (``gridcore.authority.AUTHORITY``), one
check, every path.

The table-driven test gives every command with a staff member of every role whose
jurisdiction contains the place it acts at (community A) and with one whose jurisdiction does
not (community B), and with every system actor. Where the table lets the actor give it, the
check passes; where it does not, the real command is refused with ``NotAuthorised`` before it
runs and nothing is written. A command the table does not name, or one without a required
actor, cannot even be defined.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import memory_env
from gridcore.app_base import HouseholdRow, command
from gridcore.application import GridcoreApp, new_member
from gridcore.assistance import AssistanceRow
from gridcore.authority import AUTHORITY, NotAuthorised, Of, System
from gridcore.delivery import Item
from gridcore.errors import InvalidInput, NotPermitted
from gridcore.geo import Point, circle
from gridcore.grid import Level
from gridcore.household import Vulnerability
from gridcore.mass_testing import SamplingSite, mass_testing_id
from gridcore.mass_testing_commands import SampleRow
from gridcore.requests import Category, Channel, Grade
from gridcore.staff import Role, StaffRow
from gridcore.status import Health, Measure
from gridcore.sweep import Method
from gridcore.sweep_commands import VisitRow
from gridcore.tracing import case_id
from tests.conftest import Clock

CITY, DISTRICT, STREET = "4201", "420102", "420102001"
A, B = "420102001712", "420102001713"
A1, B1 = f"{A}-01", f"{B}-01"
OP = System.OPERATOR


def _commands() -> list[str]:
    return sorted(name for name in dir(GridcoreApp)
                  if hasattr(getattr(GridcoreApp, name), "__wrapped__")
                  and getattr(GridcoreApp, name).__module__.startswith("gridcore"))


COMMANDS = _commands()


@dataclass
class World:
    app: GridcoreApp
    clock: Clock
    inside: dict[Role, UUID]
    """a staff member of each role whose jurisdiction is community A"""
    outside: dict[Role, UUID]
    """the same roles in community B"""
    city: dict[Role, UUID]
    """the same roles at the city (for the commands that act at the whole city)"""
    values: dict[str, Any]


def _enrol(app: GridcoreApp, prefix: str, jurisdiction: str) -> dict[Role, UUID]:
    out = {}
    for role in Role:
        no = f"{prefix}-{role.value}"
        app.enrol_staff(no, f"{prefix}{role.value}", role, jurisdiction, 10, by=OP)
        out[role] = app.staff_by_no(no).id
    return out


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    clock = Clock()
    app = bootstrap(memory_env(), clock=clock).app
    t = clock.now
    app.establish_city(CITY, "武汉市", by=OP)
    app.create_node(DISTRICT, "江岸区", CITY, by=OP)
    app.create_node(STREET, "后湖街道", DISTRICT, by=OP)
    for community, grid in ((A, A1), (B, B1)):
        app.create_node(community, f"社区{community[-3:]}", STREET, by=OP)
        app.create_node(grid, "第1片区", community, by=OP)
        no = f"H-{community[-3:]}"
        app.register_household(no, grid, "1栋101", [
            new_member(no, 1, "张三", "13812341234", None, 1950, [Vulnerability.LIVES_ALONE]),
            new_member(no, 2, "李四", None, None, 1985)], by=OP)
    inside, outside, city = _enrol(app, "A", A), _enrol(app, "B", B), _enrol(app, "C", CITY)
    h = app.household_by_no("H-712")
    rid = next(iter(h.residents))
    worker = inside[Role.GRID_WORKER]
    app.assign_responsible_worker(A1, worker, by=OP)
    plan = app.launch_campaign(A, 1, 3, by=OP)
    cid = app.campaign_of(A, 1).id
    assert plan is not None
    app.change_health(h.id, rid, Health.SYMPTOMATIC, worker, "发热")
    referral = app.open_referral(h.id, rid, "fever_clinic", "发热", by=inside[Role.FAMILY_DOCTOR])
    specialist = inside[Role.ENTERPRISE_SPECIALIST]
    credit = "91420100MA4KXXXX1A"
    app.register_enterprise(credit, "企业", "经济运行局", A1, specialist, by=OP)
    enterprise = app.enterprise_by_code(credit).id
    app.seal_scope(A, t - timedelta(hours=1), by=OP)
    app.place_order(h.id, "TG-1", [Item(name="大米", quantity=5, unit="kg")], by=OP)
    delivery = app.open_deliveries(A)[0].id
    filing = app.file_request(Channel.ONLINE, Category.SUPPLIES, Grade.URGENT, "需要买菜",
                              household=h.id, resident=rid, by=System.PUBLIC)
    app.register_camera("CAM-A", A1, household_id=h.id, by=OP)
    app.register_checkpoint("KK-A", A, "卡口", by=OP)
    app.register_quarantine_site("QS-A", "隔离点", STREET, 10, by=OP)
    app.record_vehicle_pass("P-1", "KK-A", "鄂A12345", t, by=System.FEED)
    alert = app.raise_vehicle_alert("P-1", "KK-A", "鄂A12345", t, "来自高风险地区",
                                    by=System.FEED)
    app.declare_risk_area("DECL-A", "鄂B", "high", t, scope=A, by=OP)
    app.open_case("CASE-A", A, "发热", by=inside[Role.FAMILY_DOCTOR], hid=h.id, rid=rid)
    app.launch_testing_campaign(A, 1, [SamplingSite(site_id="CY-A", name="采样点", place=A)],
                                by=inside[Role.OFFICIAL])
    app.record_samples(mass_testing_id(A, 1), [SampleRow(h.id, rid, "TUBE-A")],
                       by=inside[Role.FAMILY_DOCTOR])
    assistance = app.receive_assistance_list(
        "other_city", "协查-A", [AssistanceRow(name="某某", address=f"社区{A[-3:]}")], CITY,
        by=OP).list_id
    zoning = app.draw_risk_zones(A, points=[Point(lng=114.3, lat=30.6)],
                                 by=city[Role.OFFICIAL]).zoning_id
    values: dict[str, Any] = {
        "zoning_id": zoning, "community_code": A,
        "hid": h.id, "household": h.id, "household_id": None, "rid": rid,
        "micro_grid": A1, "code": A1, "parent_code": A, "new_parent_code": A, "codes": [A1],
        "community": A, "scope": A, "zone": A1, "from_zone": A1, "jurisdiction": A, "node_code": A,
        "grid_code": A1, "location": A1, "grid": A1,
        "sid": inside[Role.VOLUNTEER], "cid": cid, "referral_id": referral.referral_id,
        "enterprise": enterprise, "delivery": delivery, "request": filing.request_id,
        "alert_id": alert, "camera_id": "CAM-A", "checkpoint_id": "KK-A",
        "declaration_id": "DECL-A", "area": "鄂B", "case_id": case_id("CASE-A"),
        "list_id": assistance, "item_no": 1, "testing_id": mass_testing_id(A, 1),
        "tube_code": "TUBE-A",
        "site_code": "QS-A", "site_id": "CY-A",
        "features": [(A1, circle(Point(lng=114.3, lat=30.6), 100.0))],
        "squads": {A1: [UUID(int=1)]}, "assignments": {A1: UUID(int=1)},
        "rows": None,  # per command, below
        "reference": filing.reference, "health": Health.SYMPTOMATIC,
        "measure": Measure.HOME_OBSERVATION, "method": Method.DOOR,
    }
    yield World(app, clock, inside, outside, city, values)


def arguments(w: World, name: str) -> dict[str, Any]:
    """Every parameter of the command: the world's targets by name, something of the right
    shape for the rest (a refused command never reads them)."""
    fn = getattr(GridcoreApp, name).__wrapped__
    out: dict[str, Any] = {}
    for p in list(inspect.signature(fn).parameters.values())[1:]:
        if p.name == "by" or p.kind is p.VAR_KEYWORD:
            continue
        if p.name == "rows":
            out["rows"] = ([VisitRow(household_id=w.values["hid"], method=Method.DOOR)]
                           if name == "record_visits" else
                           [StaffRow("S-NEW", "新", Role.VOLUNTEER, A1)]
                           if name == "enrol_staff_many" else
                           [HouseholdRow("H-NEW", A1, "2栋101", [])])
        elif p.name in w.values and w.values[p.name] is not None:
            out[p.name] = w.values[p.name]
        elif p.default is not p.empty:
            continue
        else:
            out[p.name] = _filler(p)
    return out


def _filler(p: inspect.Parameter) -> Any:
    hint = str(p.annotation)
    if "datetime" in hint:
        return datetime(2020, 2, 17, 8, 0).astimezone()
    if "UUID" in hint:
        return UUID(int=1)
    if "int" in hint or "float" in hint:
        return 1
    if "bool" in hint:
        return True
    if "list" in hint or "Sequence" in hint or "Mapping" in hint or "dict" in hint:
        return []
    return "x"


def _inside(w: World, name: str) -> dict[Role, UUID]:
    """The staff whose jurisdiction contains where ``name`` acts (the city for a command on
    the whole city)."""
    places, level = AUTHORITY[name].places, AUTHORITY[name].level
    above_community = level is not None and level < Level.COMMUNITY
    return w.city if above_community or any(p.of is Of.CITY for p in places) else w.inside


def allowed(name: str, role: Role, inside: bool) -> bool:
    rule = AUTHORITY[name]
    return role in rule.roles and (inside or not rule.places)


def refused_and_nothing_written(w: World, name: str, by: Any) -> NotAuthorised:
    before = w.app.recorder.max_notification_id()
    with pytest.raises(NotAuthorised) as info:
        getattr(w.app, name)(**arguments(w, name), by=by)
    assert w.app.recorder.max_notification_id() == before, f"{name} wrote for {by}"
    assert info.value.problem and info.value.remedy
    return info.value


# ---- the table and the commands are the same set ------------------------------------------------

def test_every_command_names_who_may_give_it_and_nothing_else_is_named() -> None:
    assert set(COMMANDS) <= set(AUTHORITY)
    assert set(AUTHORITY) - set(COMMANDS) == {"process_findings",  # loops of commands
                                              "process_monitoring"}
    for name in COMMANDS:
        by = inspect.signature(getattr(GridcoreApp, name).__wrapped__).parameters["by"]
        assert by.default is inspect.Parameter.empty, f"{name}: the actor has a default"


def test_a_command_without_a_rule_or_a_required_actor_cannot_be_defined() -> None:
    with pytest.raises(TypeError, match="names no authority"):
        command(lambda self, *, by: None)
    with pytest.raises(TypeError, match="required parameter `by`"):
        command(lambda self, by=None: None)
    with pytest.raises(TypeError, match="required parameter `by`"):
        command(lambda self, x: None)


def test_every_command_refuses_someone() -> None:
    for name, rule in AUTHORITY.items():
        assert len(rule.roles) < len(Role) or rule.places or len(rule.systems) < len(System), \
            name


# ---- every command x every role x inside/outside, and every system actor -----------------------

@pytest.mark.parametrize("name", COMMANDS)
def test_every_role_inside_and_outside_the_jurisdiction(world: World, name: str) -> None:
    w = world
    inside = _inside(w, name)
    for role in Role:
        for is_inside, who in ((True, inside[role]), (False, w.outside[role])):
            if allowed(name, role, is_inside):
                w.app._authorise(name, who, arguments(w, name))
                continue
            if AUTHORITY[name].own is not None and is_inside and \
                    arguments(w, name).get(AUTHORITY[name].own) == who:
                continue  # about themself: covered below
            e = refused_and_nothing_written(w, name, who)
            said = e.problem + e.remedy
            if role not in AUTHORITY[name].roles:
                assert role.value in e.problem and "Ask one of" in e.remedy, said
            elif not is_inside and AUTHORITY[name].level is not None \
                    and AUTHORITY[name].level < Level.COMMUNITY:
                assert "or above" in e.remedy, said  # a community's staff: below the level
            else:
                assert "outside your jurisdiction" in e.problem, said


@pytest.mark.parametrize("name", COMMANDS)
def test_every_system_actor(world: World, name: str) -> None:
    for actor in System:
        if actor in AUTHORITY[name].systems:
            world.app._authorise(name, actor, arguments(world, name))
        else:
            e = refused_and_nothing_written(world, name, actor)
            assert actor.label in e.problem and "staff member" in e.remedy


# ---- what the matrix does not show -------------------------------------------------------------

def test_an_official_below_the_level_a_rule_names_is_refused_inside_their_jurisdiction(
        world: World) -> None:
    w = world
    w.app.enrol_staff("A1-OFF", "片区干部", Role.OFFICIAL, A1, 0, by=OP)
    grid_official = w.app.staff_by_no("A1-OFF").id
    for name in ("declare_risk_area", "lift_risk_area"):
        assert AUTHORITY[name].level is Level.COMMUNITY
        e = refused_and_nothing_written(w, name, grid_official)
        assert "micro-grid" in e.problem or "微网格" in e.problem, e.problem
        w.app._authorise(name, w.inside[Role.OFFICIAL], arguments(w, name))


def test_a_staff_member_may_report_themself_unavailable_whatever_their_role(
        world: World) -> None:
    w = world
    volunteer = w.inside[Role.VOLUNTEER]
    w.app._authorise("set_staff_availability", volunteer, {"sid": volunteer})
    other = w.inside[Role.PARTY_MEMBER]
    before = w.app.recorder.max_notification_id()
    with pytest.raises(NotAuthorised):
        w.app.set_staff_availability(other, False, "生病", by=volunteer)
    assert w.app.recorder.max_notification_id() == before


def test_a_deactivated_member_and_a_missing_actor_give_nothing(world: World) -> None:
    w = world
    hid, rid = w.values["hid"], w.values["rid"]
    with pytest.raises(InvalidInput, match="No actor was given"):
        w.app.record_test(hid, rid, True, by=None)
    with pytest.raises(TypeError, match="missing a required argument: 'by'"):
        w.app.record_test(hid, rid, True)
    w.app.enrol_staff("A-GONE", "离岗网格员", Role.GRID_WORKER, A, 10, by=OP)
    gone = w.app.staff_by_no("A-GONE").id
    w.app.deactivate_staff(gone, "调离", by=w.inside[Role.OFFICIAL])
    before = w.app.recorder.max_notification_id()
    with pytest.raises(NotPermitted):
        w.app.record_test(hid, rid, True, by=gone)
    assert w.app.recorder.max_notification_id() == before


def test_the_register_is_kept_by_registrars_on_every_path(world: World) -> None:
    """The issue's example: registering a household from a library caller (the CLI, the
    importer, a municipal system) used to check no role at all."""
    w = world
    member = [new_member("H-LIB", 1, "王五", None, None, 1970)]
    for role in (Role.VOLUNTEER, Role.PROPERTY_MANAGER, Role.FAMILY_DOCTOR):
        before = w.app.recorder.max_notification_id()
        with pytest.raises(NotAuthorised, match=role.value):
            w.app.register_household("H-LIB", A1, "3栋101", member, by=w.inside[role])
        assert w.app.recorder.max_notification_id() == before
    with pytest.raises(NotAuthorised, match="outside your jurisdiction"):
        w.app.register_household("H-LIB", A1, "3栋101", member,
                                 by=w.outside[Role.GRID_WORKER])
    w.app.register_household("H-LIB", A1, "3栋101", member, by=w.inside[Role.GRID_WORKER])
    assert w.app.household_by_no("H-LIB").micro_grid == A1
