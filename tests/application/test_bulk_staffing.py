"""A community's squads and responsible workers set up at once (``form_squads``,
``assign_responsible_workers``): each checked as the one-zone command checks it, all in one
transaction, on every store."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import InvalidInput, NotFound, NotPermitted
from gridcore.staff import Role
from gridcore.staff_commands import MAX_ZONES
from tests.application.test_staffing import enrol, unchanged
from tests.scenario import COMMUNITY, STREET, ZONES, Community, given_community

OP = System.OPERATOR
THIRD = f"{COMMUNITY}-03"
ELSEWHERE, ELSEWHERE_ZONE = "420102001713", "420102001713-01"


def given_three_zones(app: GridcoreApp) -> tuple[Community, list[UUID]]:
    """The community with a third zone and three party members besides its volunteer."""
    c = given_community(app, households_per_zone=1)
    app.create_node(THIRD, "第3片区", COMMUNITY, by=OP)
    party = [enrol(app, f"PM{n}", Role.PARTY_MEMBER, COMMUNITY) for n in range(1, 4)]
    return c, party


def squads_of(app: GridcoreApp, zones: list[str]) -> dict[str, list[UUID]]:
    return {z: app.node(z).squad for z in zones}


def test_a_communitys_squads_are_formed_at_once_as_one_by_one_would(app: GridcoreApp) -> None:
    c, party = given_three_zones(app)
    wanted = {ZONES[0]: [c.volunteer, party[0]], ZONES[1]: [party[1]], THIRD: [party[2]]}
    before = app.recorder.max_notification_id() or 0
    nid = app.form_squads(wanted, by=OP)
    assert squads_of(app, [*ZONES, THIRD]) == wanted
    assert nid == before + 3  # one event per zone, one transaction
    events = app.recorder.select_notifications(start=before + 1, limit=10)
    assert [e.topic.rsplit(".", 1)[1] for e in events] == ["SquadFormed"] * 3

    # re-formed together: members move between the zones named, in one step
    app.form_squads({ZONES[0]: [party[1]], ZONES[1]: [c.volunteer, party[0]]}, by=OP)
    assert squads_of(app, [*ZONES, THIRD]) == {
        ZONES[0]: [party[1]], ZONES[1]: [c.volunteer, party[0]], THIRD: [party[2]]}


def test_one_squad_refused_refuses_them_all(app: GridcoreApp) -> None:
    c, party = given_three_zones(app)
    app.form_squad(THIRD, [party[2]], by=OP)
    # serving in a zone not named: as form_squad says
    unchanged(app, InvalidInput, lambda: app.form_squads(
        {ZONES[0]: [c.volunteer], ZONES[1]: [party[2]]}, by=OP),
        f"already serves in the squad of {THIRD}", "takeOffSquad")
    unchanged(app, NotPermitted, lambda: app.form_squads(
        {ZONES[0]: [c.volunteer], ZONES[1]: [c.worker]}, by=OP), "not a squad member")
    unchanged(app, InvalidInput, lambda: app.form_squads(
        {ZONES[0]: [c.volunteer], ZONES[1]: []}, by=OP), "has no members")
    unchanged(app, InvalidInput, lambda: app.form_squads(
        {ZONES[0]: [c.volunteer, party[0]], ZONES[1]: [party[0]]}, by=OP),
        f"both {ZONES[0]} and {ZONES[1]}", "once")
    unchanged(app, InvalidInput, lambda: app.form_squads(
        {ZONES[0]: [party[0], party[0]]}, by=OP), "twice")
    unchanged(app, NotFound, lambda: app.form_squads(
        {ZONES[0]: [c.volunteer], ZONES[1]: [uuid4()]}, by=OP))
    assert squads_of(app, ZONES) == {ZONES[0]: [], ZONES[1]: []}


def test_squads_of_two_communities_are_refused(app: GridcoreApp) -> None:
    c, _ = given_three_zones(app)
    app.create_node(ELSEWHERE, "713社区", STREET, by=OP)
    app.create_node(ELSEWHERE_ZONE, "第1片区", ELSEWHERE, by=OP)
    other = enrol(app, "VOL9", Role.VOLUNTEER, ELSEWHERE)
    unchanged(app, InvalidInput, lambda: app.form_squads(
        {ZONES[0]: [c.volunteer], ELSEWHERE_ZONE: [other]}, by=OP),
        "2 communities", "one community's squads at a time")


def test_responsible_workers_are_assigned_at_once(app: GridcoreApp) -> None:
    c, _ = given_three_zones(app)
    second = enrol(app, "GW2", Role.GRID_WORKER, COMMUNITY)
    before = app.recorder.max_notification_id() or 0
    nid = app.assign_responsible_workers(
        {ZONES[0]: c.worker, ZONES[1]: c.worker, THIRD: second}, by=OP)
    assert nid == before + 3
    assert [app.node(z).responsible_worker for z in (*ZONES, THIRD)] == [
        c.worker, c.worker, second]
    # the same again changes nothing it should not; another worker is a hand-over
    app.assign_responsible_workers({ZONES[0]: c.worker}, by=OP)
    unchanged(app, InvalidInput, lambda: app.assign_responsible_workers(
        {ZONES[1]: second}, by=OP), "already has a responsible worker", "handOverMicroGrid")


def test_one_assignment_refused_refuses_them_all(app: GridcoreApp) -> None:
    c, _ = given_three_zones(app)
    app.create_node(ELSEWHERE, "713社区", STREET, by=OP)
    app.create_node(ELSEWHERE_ZONE, "第1片区", ELSEWHERE, by=OP)
    unchanged(app, NotPermitted, lambda: app.assign_responsible_workers(
        {ZONES[0]: c.worker, ZONES[1]: c.volunteer}, by=OP), "grid worker")
    unchanged(app, NotPermitted, lambda: app.assign_responsible_workers(
        {ZONES[0]: c.worker, ELSEWHERE_ZONE: c.worker}, by=OP), "outside the worker's")
    app.set_staff_availability(c.worker, False, "病假", by=OP)
    unchanged(app, NotPermitted, lambda: app.assign_responsible_workers(
        {ZONES[0]: c.worker}, by=OP), "unavailable")
    assert [app.node(z).responsible_worker for z in ZONES] == [None, None]


@pytest.mark.parametrize("command", ["form_squads", "assign_responsible_workers"])
def test_bad_input_is_refused_with_what_would_be_right(app: GridcoreApp, command: str) -> None:
    c, _ = given_three_zones(app)
    value: object = [c.volunteer] if command == "form_squads" else c.worker
    run = getattr(app, command)
    unchanged(app, InvalidInput, lambda: run({}, by=OP), "No ", "at least one")
    unchanged(app, InvalidInput, lambda: run([(ZONES[0], value)], by=OP), "mapping")
    unchanged(app, InvalidInput, lambda: run({COMMUNITY: value}, by=OP), "not a micro-grid")
    unchanged(app, NotFound, lambda: run({f"{COMMUNITY}-99": value}, by=OP))
    unchanged(app, InvalidInput, lambda: run(
        {f"{COMMUNITY}-{n}": value for n in range(MAX_ZONES + 1)}, by=OP),
        "too many", f"{MAX_ZONES:,}")
    unchanged(app, InvalidInput, lambda: run({"\ud800": value}, by=OP), "surrogate")
    # the command's own authority: a grid worker may not staff micro-grids
    unchanged(app, NotPermitted, lambda: run({ZONES[0]: value}, by=c.worker))


def test_a_retried_client_id_applies_once(app: GridcoreApp) -> None:
    c, party = given_three_zones(app)
    squads = {ZONES[0]: [c.volunteer], ZONES[1]: [party[0]]}
    first = app.form_squads(squads, client_id="bulk-squads-1", by=OP)
    app.form_squad(ZONES[1], [party[1]], by=OP)
    assert app.form_squads(squads, client_id="bulk-squads-1", by=OP) >= (first or 0)
    # the retry did not form the squads again over the later change
    assert squads_of(app, ZONES) == {ZONES[0]: [c.volunteer], ZONES[1]: [party[1]]}
