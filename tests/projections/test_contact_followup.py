"""The contact follow-up read model (密接随访): contacts under follow-up per grid node (their
micro-grid, rolled up the tree), cases with their contacts per generation and cluster size,
now and ``as_of`` a past time, against the application's cases; rebuilt from zero and in
tiny batches it is the same; it holds no personal data, on SQLite and PostgreSQL views."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.status import Measure, TagKind
from projections import contact_followup as cf
from projections.runner import Runner
from tests.conftest import Clock
from tests.scenario import COMMUNITY, DISTRICT, ZONES, given_community


@pytest.fixture
def sql_store(store):
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


def snapshot(runner: Runner) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(runner.views.query(f"SELECT * FROM {t}"), key=repr)
            for p in runner.projections.values() for t in p.tables}


def first(app: GridcoreApp, hid: UUID) -> UUID:
    return sorted(app.household(hid).residents, key=lambda r: app.household(hid).residents[
        r].identity.name or "")[0]


def test_contacts_per_node_cases_clusters_and_past_times(sql_store, clock: Clock) -> None:
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    runner = Runner(app, cf.PROJECTIONS, batch=1)
    index_h, near_h, far_h = c.households[0], c.households[1], c.households[3]
    app.open_case("WH-0001", COMMUNITY, "发热就诊", by=c.doctor, hid=index_h,
                  rid=first(app, index_h))
    case = app.case_by_no("WH-0001")
    t0 = clock()
    exposed = t0 - timedelta(hours=20)
    near = app.record_exposure(case.id, exposed, "household", "家中", "shared_living",
                               by=c.doctor, hid=near_h, rid=first(app, near_h)).person_id
    outside = app.record_exposure(case.id, exposed, "gathering", "饭店", "face_to_face",
                                  by=c.doctor, name="外地亲戚", phone="13700001111").person_id
    second = app.record_exposure(case.id, exposed, "workplace", "公司", "same_space",
                                 by=c.doctor, via=near, hid=far_h,
                                 rid=first(app, far_h)).person_id
    runner.catch_up()
    before_promotion = clock()
    clock.advance(hours=2)

    rows = {r.person_id: r for r in cf.contacts_under(runner.views, COMMUNITY, clock())}
    assert set(rows) == {str(near), str(outside), str(second)}
    n, o, s = rows[str(near)], rows[str(outside)], rows[str(second)]
    assert (n.grid, n.generation, n.kind, n.measure, n.case_no, n.status) == (
        ZONES[0], 1, TagKind.CLOSE_CONTACT.value, Measure.CENTRALIZED_QUARANTINE.value,
        "WH-0001", cf.FOLLOWING)
    assert n.until == app.case(case.id).contact(near).until == exposed + timedelta(days=14)
    assert (o.grid, o.to_locate, o.household_id) == (COMMUNITY, True, None)
    assert (s.grid, s.generation, s.kind, s.measure) == (
        ZONES[1], 2, TagKind.SECONDARY_CONTACT.value, Measure.HOME_QUARANTINE.value)
    assert [r.person_id for r in cf.contacts_under(runner.views, ZONES[1], clock())] == [
        str(second)]
    nodes = cf.follow_up_by_node(runner.views, DISTRICT, clock())
    assert (nodes[ZONES[0]].close, nodes[ZONES[1]].secondary) == (1, 1)
    assert (nodes[COMMUNITY].close, nodes[COMMUNITY].secondary,
            nodes[COMMUNITY].to_locate) == (2, 1, 1)
    assert nodes[DISTRICT].contacts == 3 and nodes[DISTRICT].cases == {str(case.id)}
    [row] = cf.cases_under(runner.views, COMMUNITY, clock())
    assert (row.case_no, row.status, row.close, row.secondary, row.following) == (
        "WH-0001", "suspected", 2, 1, 3)
    assert (row.cluster_cases, row.cluster_size) == (1, 4)

    # the close contact becomes a confirmed case: the secondary contact is promoted
    app.open_case("WH-0002", COMMUNITY, "密接转确诊", by=c.doctor, source_case=case.id,
                  source_person=near, confirmed=True)
    child = app.case_by_no("WH-0002")
    app.move_household(far_h, ZONES[0], None, "1栋909", by=System.OPERATOR)
    runner.catch_up()
    rows = {r.person_id: r for r in cf.contacts_under(runner.views, COMMUNITY, clock())}
    promoted = rows[str(second)]
    assert (promoted.kind, promoted.generation, promoted.measure, promoted.grid) == (
        TagKind.CLOSE_CONTACT.value, 2, Measure.CENTRALIZED_QUARANTINE.value, ZONES[0])
    assert rows[str(near)].became_case == str(child.id)
    cases = {r.case_no: r for r in cf.cases_under(runner.views, COMMUNITY, clock())}
    assert cases["WH-0002"].status == "confirmed" and cases["WH-0002"].root_case_id == str(
        case.id)
    assert cases["WH-0001"].cluster_cases == 2
    assert cases["WH-0001"].cluster_size == 4  # 2 indexes + the outside and second contacts

    # as it was before the promotion and the move
    past = {r.person_id: r for r in cf.contacts_under(runner.views, COMMUNITY, clock(),
                                                      as_of=before_promotion)}
    assert (past[str(second)].kind, past[str(second)].grid) == (
        TagKind.SECONDARY_CONTACT.value, ZONES[1])
    assert past[str(near)].became_case is None
    [then] = cf.cases_under(runner.views, COMMUNITY, clock(), as_of=before_promotion)
    assert (then.case_no, then.cluster_cases, then.cluster_size) == ("WH-0001", 1, 4)
    assert cf.contacts_under(runner.views, COMMUNITY, clock(), as_of=t0 - timedelta(days=1)) \
        == []

    # after the measures' end nobody is followed up; ruling a case out releases its contacts
    assert cf.contacts_under(runner.views, COMMUNITY, clock() + timedelta(days=15)) == []
    app.open_case("WH-0003", COMMUNITY, by=c.doctor, name="外来者")
    third = app.case_by_no("WH-0003")
    app.record_exposure(third.id, clock() - timedelta(hours=1), "transport", "公交车",
                        "same_space", by=c.doctor, name="乘客甲")
    runner.catch_up()
    assert len(cf.contacts_of_case(runner.views, str(third.id), clock())) == 1
    app.rule_out_case(third.id, "复检阴性 negative on retest", by=c.doctor)
    runner.catch_up()
    [released] = cf.contacts_of_case(runner.views, str(third.id), clock())
    assert released.status == cf.RELEASED
    assert str(third.id) not in {r.case_id for r in cf.contacts_under(
        runner.views, COMMUNITY, clock())}
    assert cf.case_ids(runner.views, ["WH-0003", "WH-9"]) == {"WH-0003": third.id}

    # nothing personal is kept: no name, phone or ID number in any row
    text = repr(snapshot(runner))
    for personal in ("外地亲戚", "13700001111", "外来者", "乘客甲", "张三", "13812341234"):
        assert personal not in text

    before = snapshot(runner)
    runner.rebuild("contact_followup")
    assert snapshot(runner) == before
    Runner(app, cf.PROJECTIONS, batch=1000, views=runner.views).rebuild("contact_followup")
    assert snapshot(runner) == before
