"""Access that should end does end: a deactivated staff member gives no command and is given no
work (their open work moves to colleagues), reactivation restores both; a jurisdiction change
is a command; and who may declare and lift a risk area, and where, follows jurisdiction
through the one authority table (``gridcore.authority``). Every refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.authority import AUTHORITY, System
from gridcore.errors import ForbiddenTransition, GridcoreError, InvalidInput, NotPermitted
from gridcore.grid import Level
from gridcore.staff import Role
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, STREET, ZONES, Community, given_community

OTHER = "420102001713"


@pytest.fixture
def app(clock: Clock) -> GridcoreApp:
    """The rules here do not depend on the store (tests/stores/test_staff_privacy.py covers all)."""
    return GridcoreApp(memory_env(), clock=clock)


def unchanged(app: GridcoreApp, act: Callable[[], Any], error: type[GridcoreError]) -> str:
    """Run ``act``, which must raise ``error`` and write nothing; its words."""
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as refused:
        act()
    assert app.recorder.max_notification_id() == before
    return f"{refused.value.problem} {refused.value.remedy}"


# ---- deactivation ------------------------------------------------------------------------------

def test_a_deactivated_member_gets_no_work_and_their_open_work_moves(app: GridcoreApp) -> None:
    c = given_community(app)
    app.assign_scope(COMMUNITY, 1, 2, by=System.OPERATOR)
    mine = app.assignment(COMMUNITY, 1).open_work_of(c.worker)
    assert mine
    app.deactivate_staff(c.worker, "离职 left", by=c.official)
    member = app.staff(c.worker)
    assert (member.active, member.available, member.deactivation_reason) == (
        False, False, "离职 left")
    a = app.assignment(COMMUNITY, 1)
    assert a.open_work_of(c.worker) == []
    assert all(a.owner.get(h) not in (None, c.worker) or h in a.uncovered for h in mine)
    app.assign_scope(COMMUNITY, 2, 2, by=System.OPERATOR)
    assert c.worker not in set(app.assignment(COMMUNITY, 2).owner.values())
    words = unchanged(app, lambda: app.assign_responsible_worker(ZONES[0], c.worker,
                                                                 by=System.OPERATOR),
                      NotPermitted)
    assert "unavailable" in words
    unchanged(app, lambda: app.form_squad(ZONES[0], [c.volunteer, c.worker],
                                          by=System.OPERATOR), NotPermitted)


def test_a_deactivated_member_gives_no_command(app: GridcoreApp, clock: Clock) -> None:
    c = given_community(app)
    app.deactivate_staff(c.official, "停职 suspended", by=System.OPERATOR)
    words = unchanged(app, lambda: app.declare_risk_area("D-1", "鄂A", "high", clock.now,
                                                         by=c.official), NotPermitted)
    assert "deactivated" in words and "Reactivate" in words
    unchanged(app, lambda: app.deactivate_staff(c.worker, "离职", by=c.official), NotPermitted)


def test_reactivation_restores_work_and_commands(app: GridcoreApp, clock: Clock) -> None:
    c = given_community(app)
    app.deactivate_staff(c.official, "停职", by=System.OPERATOR)
    app.reactivate_staff(c.official, "复岗", by=System.OPERATOR)
    member = app.staff(c.official)
    assert (member.active, member.available) == (True, True)
    assert app.declare_risk_area("D-1", "鄂A", "high", clock.now, by=c.official)
    app.deactivate_staff(c.worker, "离职", by=c.official)
    app.reactivate_staff(c.worker, "", by=c.official)
    app.assign_scope(COMMUNITY, 1, 2, by=System.OPERATOR)
    assert app.assignment(COMMUNITY, 1).open_work_of(c.worker)


def test_deactivation_needs_a_reason_an_official_of_the_jurisdiction_and_a_change(
        app: GridcoreApp) -> None:
    c = given_community(app)
    app.create_node(OTHER, "713社区", STREET, by=System.OPERATOR)
    app.enrol_staff("OFF713", "孙书记", Role.OFFICIAL, OTHER, 0, by=System.OPERATOR)
    other = app.staff_by_no("OFF713").id
    unchanged(app, lambda: app.deactivate_staff(c.worker, " ", by=c.official), InvalidInput)
    assert "volunteer" in unchanged(
        app, lambda: app.deactivate_staff(c.worker, "离职", by=c.volunteer), NotPermitted)
    assert "outside your jurisdiction" in unchanged(
        app, lambda: app.deactivate_staff(c.worker, "离职", by=other), NotPermitted)
    unchanged(app, lambda: app.reactivate_staff(c.worker, "", by=c.official),
              ForbiddenTransition)
    app.deactivate_staff(c.worker, "离职", by=c.official)
    unchanged(app, lambda: app.deactivate_staff(c.worker, "离职", by=c.official),
              ForbiddenTransition)


# ---- jurisdiction ------------------------------------------------------------------------------

def test_changing_jurisdiction_moves_the_member_and_their_work_left_behind(
        app: GridcoreApp) -> None:
    c = given_community(app)
    app.create_node(OTHER, "713社区", STREET, by=System.OPERATOR)
    app.enrol_staff("STR1", "街道干部", Role.OFFICIAL, STREET, 0, by=System.OPERATOR)
    street = app.staff_by_no("STR1").id
    app.assign_scope(COMMUNITY, 1, 2, by=System.OPERATOR)
    assert app.assignment(COMMUNITY, 1).open_work_of(c.worker)
    app.change_staff_jurisdiction(c.worker, OTHER, by=street)
    assert app.staff(c.worker).jurisdictions == (OTHER,)
    assert c.worker in app.node(OTHER).staff and c.worker not in app.node(COMMUNITY).staff
    assert app.assignment(COMMUNITY, 1).open_work_of(c.worker) == []
    assert c.worker in {s.id for s in app.staff_in(OTHER)}
    # the community's official may not send them back from outside their jurisdiction
    assert "outside your jurisdiction" in unchanged(
        app, lambda: app.change_staff_jurisdiction(c.worker, COMMUNITY, by=c.official),
        NotPermitted)
    unchanged(app, lambda: app.change_staff_jurisdiction(c.worker, OTHER, by=street),
              InvalidInput)


def test_a_move_within_the_jurisdiction_keeps_the_work_of_scopes_still_above(
        app: GridcoreApp) -> None:
    c = given_community(app)
    app.assign_scope(COMMUNITY, 1, 2, by=System.OPERATOR)
    before = app.assignment(COMMUNITY, 1).open_work_of(c.worker)
    app.change_staff_jurisdiction(c.worker, ZONES[0], by=c.official)
    assert app.assignment(COMMUNITY, 1).open_work_of(c.worker) == before


# ---- risk areas: role x level x place ----------------------------------------------------------

OFFICIALS = {"OFFC": CITY, "OFFS": STREET, "OFF1": COMMUNITY, "OFF713": OTHER,
             "OFFZ": ZONES[0]}


def risk_world(app: GridcoreApp) -> dict[str, UUID]:
    c: Community = given_community(app)
    app.create_node(OTHER, "713社区", STREET, by=System.OPERATOR)
    for no, node in OFFICIALS.items():
        if no != "OFF1":
            app.enrol_staff(no, "干部", Role.OFFICIAL, node, 0, by=System.OPERATOR)
    return {**{no: app.staff_by_no(no).id for no in OFFICIALS}, "GW1": c.worker,
            "VOL1": c.volunteer}


@pytest.mark.parametrize(("who", "allowed", "words"), [
    ("OFFC", True, ""), ("OFFS", True, ""), ("OFF1", True, ""), ("OFF713", True, ""),
    ("OFFZ", False, "micro-grid"), ("GW1", False, "grid_worker"), ("VOL1", False, "volunteer"),
])
def test_who_may_declare_a_risk_area(app: GridcoreApp, clock: Clock, who: str, allowed: bool,
                                     words: str) -> None:
    ids = risk_world(app)

    def declare() -> int | None:
        return app.declare_risk_area("D-1", "鄂A", "high", clock.now, by=ids[who])

    if allowed:
        assert declare() is not None
        assert [p.declaration_id for p in app.risk_periods()["鄂A"]] == ["D-1"]
    else:
        assert words in unchanged(app, declare, NotPermitted)
        assert app.risk_periods() == {}


@pytest.mark.parametrize(("declarer", "lifter", "allowed"), [
    ("OFF1", "OFF1", True), ("OFF1", "OFFS", True), ("OFF1", "OFFC", True),
    ("OFF1", "OFF713", False), ("OFF1", "OFFZ", False), ("OFF1", "GW1", False),
    ("OFF713", "OFF1", False), ("OFFS", "OFF1", False), ("OFFS", "OFFS", True),
    (None, "OFFC", True), (None, "OFFS", False), (None, "OFF1", False), (None, None, True),
])
def test_who_may_lift_a_risk_area_follows_the_declarations_scope(
        app: GridcoreApp, clock: Clock, declarer: str | None, lifter: str | None,
        allowed: bool) -> None:
    ids = risk_world(app)
    app.declare_risk_area("D-1", "鄂A", "high", clock.now - timedelta(days=1),
                          by=ids[declarer] if declarer else System.FEED)

    def lift() -> int | None:
        return app.lift_risk_area("D-1", "鄂A", clock.now,
                                  by=ids[lifter] if lifter else System.FEED)

    if allowed:
        assert lift() is not None
        assert app.risk_periods()["鄂A"][0].until == clock.now
    else:
        unchanged(app, lift, NotPermitted)
        assert app.risk_periods()["鄂A"][0].until is None


def test_a_declaration_for_a_node_outside_the_jurisdiction_is_refused(
        app: GridcoreApp, clock: Clock) -> None:
    ids = risk_world(app)
    assert "outside your jurisdiction" in unchanged(
        app, lambda: app.declare_risk_area("D-1", "鄂A", "high", clock.now, scope=OTHER,
                                           by=ids["OFF1"]), NotPermitted)
    app.declare_risk_area("D-2", "鄂A", "high", clock.now, scope=ZONES[0], by=ids["OFF1"])
    app.lift_risk_area("D-2", "鄂A", clock.now, by=ids["OFF1"])  # their own zone's


def test_the_table_names_the_level_of_risk_areas_and_the_staff_commands() -> None:
    assert AUTHORITY["declare_risk_area"].level is Level.COMMUNITY
    assert AUTHORITY["lift_risk_area"].level is Level.COMMUNITY
    for name in ("deactivate_staff", "reactivate_staff", "change_staff_jurisdiction",
                 "erase_staff_member"):
        assert AUTHORITY[name].roles == frozenset({Role.OFFICIAL})


def test_no_command_naming_a_deactivated_actor_runs(app: GridcoreApp, clock: Clock) -> None:
    """Every command with a ``by`` refuses a deactivated member, whatever its own rules."""
    from gridcore.status import Health

    c = given_community(app)
    hid = c.households[0]
    rid = sorted(app.household(hid).residents)[0]
    app.deactivate_staff(c.doctor, "离职", by=c.official)
    assert "deactivated" in unchanged(
        app, lambda: app.change_health(hid, rid, Health.SUSPECTED, c.doctor, "发热"),
        NotPermitted)
    unchanged(app, lambda: app.change_health(hid, rid, Health.SUSPECTED, by=c.doctor),
              NotPermitted)
    app.reactivate_staff(c.doctor, "复岗", by=c.official)
    assert app.change_health(hid, rid, Health.SUSPECTED, c.doctor, "发热") is not None


def test_an_alert_is_not_given_to_a_deactivated_responsible_worker(app: GridcoreApp,
                                                                    clock: Clock) -> None:
    c = given_community(app)
    app.assign_responsible_worker(ZONES[0], c.worker, by=System.OPERATOR)
    app.register_checkpoint("KK-2", ZONES[0], "一片区路口", by=System.OPERATOR)
    app.declare_risk_area("R-1", "鄂A", "high", clock.now, by=System.OPERATOR)
    first = app.record_vehicle_pass("P-1", "KK-2", "鄂A88888", clock.now, by=System.OPERATOR)
    assert first is not None and app.alert(first).assignee == c.worker
    app.deactivate_staff(c.worker, "离职", by=c.official)
    second = app.record_vehicle_pass("P-2", "KK-2", "鄂A88889", clock.now, by=System.OPERATOR)
    assert second is not None and app.alert(second).assignee is None
    app.reactivate_staff(c.worker, "复岗", by=c.official)
    third = app.record_vehicle_pass("P-3", "KK-2", "鄂A88887", clock.now, by=System.OPERATOR)
    assert third is not None and app.alert(third).assignee == c.worker
