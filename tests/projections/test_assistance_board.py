"""The assistance board read model (协查看板): a list's items by where they are to be located,
completion per grid node equal to the domain's (``AssistanceCommands.assistance_completion``)
now, and as it was at past times; rebuilt from zero and in tiny batches it is the same; it
holds no personal data, on SQLite and PostgreSQL views."""

from __future__ import annotations

from typing import Any

import pytest

from gridcore.application import GridcoreApp
from gridcore.assistance import Completion
from projections import assistance_board as ab
from projections.runner import Runner
from tests.application.test_assistance import (
    C712,
    C713,
    CITY,
    DISTRICT,
    OTHER_DISTRICT,
    Y1,
    Z1,
    Z2,
    city_of,
    rows,
    staff,
)
from tests.conftest import Clock


@pytest.fixture
def sql_store(store):
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


def snapshot(runner: Runner) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(runner.views.query(f"SELECT * FROM {t}"), key=repr)
            for p in runner.projections.values() for t in p.tables}


def counts(found: dict[str, ab.NodeCompletion]) -> dict[str, Completion]:
    return {code: Completion(total=g.total, pending=g.pending, overdue=g.overdue,
                             found=g.found, not_found=g.not_found, moved_away=g.moved_away,
                             wrong_data=g.wrong_data) for code, g in found.items()}


def test_items_and_completion_per_node_now_and_in_the_past(sql_store, clock: Clock) -> None:
    app = city_of(GridcoreApp(sql_store, clock=clock))
    runner = Runner(app, ab.PROJECTIONS, batch=1)
    received = clock()
    lid = app.receive_assistance_list("province_platform", "鄂协查-B1", rows(), CITY,
                                      by=staff(app, "OFFC"), list_format="csv").list_id
    runner.catch_up()
    [listed] = [ab.list_by_reference(runner.views, " 鄂协查-B1 ")]
    assert listed is not None and (listed.list_id, listed.items, listed.scope,
                                   listed.source, listed.list_format) == (
        str(lid), 6, CITY, "province_platform", "csv")
    assert counts(ab.completion_by_node(runner.views, CITY, clock())) == \
        app.assistance_completion(CITY)

    clock.advance(hours=2)
    gw = staff(app, "GW712")
    app.report_assistance_item(lid, 1, "found", by=gw, measure="居家隔离14天")
    app.report_assistance_item(lid, 4, "wrong_data", by=gw)
    app.forward_assistance_item(lid, 2, to_community=Y1, by=gw, note="已搬至东片")
    app.forward_assistance_item(lid, 3, to_city="孝感市", by=staff(app, "GW713"))
    runner.catch_up()
    reported = clock()
    items = {i.no: i for i in ab.items_of_list(runner.views, str(lid), clock())}
    assert (items[1].status, items[1].place, items[1].on_time, items[1].match_basis) == (
        "found", Z1, True, "id_number")
    assert items[1].resident_id is not None and items[1].reported_by == str(gw)
    assert (items[2].status, items[2].place, items[2].owner, items[2].basis,
            items[2].forwards) == ("pending", Y1, C713, "forwarded", 1)
    assert (items[3].status, items[4].status) == ("moved_away", "wrong_data")
    assert items[5].unrouted and items[5].place == OTHER_DISTRICT
    assert counts(ab.completion_by_node(runner.views, CITY, clock())) == \
        app.assistance_completion(CITY)
    assert counts(ab.completion_by_node(runner.views, C712, clock())) == \
        app.assistance_completion(C712)
    assert set(ab.completion_by_node(runner.views, C712, clock())) == {C712, Z1, Z2}
    assert counts(ab.completion_by_node(runner.views, CITY, clock(), list_id=str(lid))) == \
        app.assistance_completion(CITY, lid)

    # past the first deadline the items pending since receipt are overdue (the forwarded one
    # has a later deadline); tick escalates them one level up
    clock.advance(hours=23)
    late = ab.completion_by_node(runner.views, CITY, clock())
    assert (late[CITY].pending, late[CITY].overdue) == (3, 2)
    app.tick()
    runner.catch_up()
    now = {i.no: i for i in ab.items_of_list(runner.views, str(lid), clock())}
    assert (now[5].owner, now[5].escalations, now[5].missed, now[5].overdue) == (
        CITY, 1, 1, True)
    assert (now[2].owner, now[2].escalations, now[2].overdue) == (C713, 0, False)
    assert counts(ab.completion_by_node(runner.views, CITY, clock())) == \
        app.assistance_completion(CITY)
    todo = ab.items_under(runner.views, Y1, clock(), status="pending")
    assert [(i.no, i.overdue) for i in todo] == [(2, False)]
    assert [i.no for i in ab.items_under(runner.views, CITY, clock(), status="pending")] == [
        6, 5, 2]  # item 6 missed its deadline at the city: overdue since receipt
    assert [i.no for i in ab.items_under(runner.views, [C712, C713], clock())] == [1, 3, 4, 2]

    # as it was: at receipt every item pending, none overdue; before the tick, no escalation
    then = ab.completion_by_node(runner.views, CITY, clock(), as_of=received)
    assert (then[CITY].total, then[CITY].pending, then[CITY].overdue) == (6, 6, 0)
    assert (then[C712].total, then[C713].total, then[DISTRICT].total) == (3, 1, 4)
    mid = ab.completion_by_node(runner.views, CITY, clock(), as_of=reported)
    assert (mid[CITY].found, mid[CITY].wrong_data, mid[CITY].moved_away,
            mid[CITY].pending, mid[Y1].pending) == (1, 1, 1, 3, 1)
    past = {i.no: i for i in ab.items_of_list(runner.views, str(lid), clock(), as_of=reported)}
    assert (past[5].owner, past[5].escalations, past[2].owner) == (OTHER_DISTRICT, 0, C713)
    assert now[6].owner == CITY and past[6].owner == CITY and past[6].missed == 0
    assert ab.completion_by_node(runner.views, CITY, clock(),
                                 as_of=received.replace(year=2000)) == {}
    assert ab.list_by_reference(runner.views, "鄂协查-B1",
                                as_of=received.replace(year=2000)) is None
    assert ab.list_by_reference(runner.views, "nope") is None

    # nothing personal is kept: no name, phone, ID number, address, reason, measure or note
    text = repr(snapshot(runner))
    for personal in ("张叁", "李四", "13900002222", "420102198503174516", "赵六", "13700001111",
                     "5栋202", "同行程", "居家隔离", "已搬至东片", "孝感市", "孙八"):
        assert personal not in text

    before = snapshot(runner)
    runner.rebuild("assistance_board")
    assert snapshot(runner) == before
    Runner(app, ab.PROJECTIONS, batch=1000, views=runner.views).rebuild("assistance_board")
    assert snapshot(runner) == before
