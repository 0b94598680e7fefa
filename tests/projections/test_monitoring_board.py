"""The health monitoring board read model (健康监测看板) through the journey of issue 18: the
reports due, missed (with escalation), abnormal and the release list per node equal the
library's queries (``monitoring_due``, ``monitoring_missed``, ``monitoring_abnormal``,
``monitoring_release_list``) at each step; a resident's record; the board as it was at past
times; rebuilt from zero and in other batches it is the same; no name, phone or address; on
SQLite and PostgreSQL views."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from gridcore.application import GridcoreApp
from gridcore.grid import Level
from gridcore.status import Measure
from projections import household_timeline as ht
from projections import monitoring_board as mb
from projections.runner import Runner
from tests.application.test_monitoring import (  # noqa: F401  # city: a fixture
    C712,
    CITY,
    DAY1,
    GRANNY,
    GRANNY_HID,
    HID,
    IMPOSED,
    RID,
    STREET,
    Z1,
    city,
    quarantined,
    report,
    staff,
    wuhan,
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


def due(runner: Runner, app: GridcoreApp, day: date, **kw: Any) -> list[tuple[Any, ...]]:
    return [(d.monitoring.resident_id, d.due, d.reported, d.missed)
            for d in mb.due_on(runner.views, C712, app.clock(), day, **kw)]


def library_due(app: GridcoreApp, day: date) -> list[tuple[Any, ...]]:
    return [(str(d.resident_id), d.due, d.reported, d.missed)
            for d in app.monitoring_due(C712, day)]


def missed(runner: Runner, code: str, **kw: Any) -> list[tuple[Any, ...]]:
    return [(m.monitoring.resident_id, m.due, m.open, m.owner_code, m.level, m.escalations,
             m.worker_id) for m in mb.missed_under(runner.views, code, **kw)]


def library_missed(app: GridcoreApp, code: str, open_only: bool = False
                   ) -> list[tuple[Any, ...]]:
    return [(str(m.resident_id), m.due, m.open, m.owner_code, int(m.level), m.escalations,
             None if m.worker_id is None else str(m.worker_id))
            for m in app.monitoring_missed(code, open_only=open_only)]


def test_the_board_follows_the_journey_now_and_in_the_past(
        sql_store, city: GridcoreApp, clock: Clock) -> None:  # noqa: F811
    app = city
    runner = Runner(app, mb.PROJECTIONS, batch=1)
    before = IMPOSED - timedelta(minutes=1)
    quarantined(app, clock)
    quarantined(app, clock, GRANNY_HID, GRANNY)  # assisted: 80, lives alone
    runner.catch_up()
    started = clock()
    assert {m.resident_id for m in mb.monitored_under(runner.views, CITY)} == {
        str(RID), str(GRANNY)}
    assert due(runner, app, DAY1) == library_due(app, DAY1)
    board = mb.board_by_node(runner.views, CITY, clock())
    assert set(board) == {CITY, "420102", STREET, C712, Z1}
    assert (board[CITY].monitored, board[CITY].assisted, board[Z1].due_today) == (2, 1, 4)

    # day 1 reported; day 2 evening missed, flagged, then escalated to the community
    report(app, clock, wuhan(DAY1, 7, 50))
    report(app, clock, wuhan(DAY1, 19, 55), by=staff(app, "GW1"), source="staff_phone",
           temperature=36.7)
    day2 = DAY1 + timedelta(days=1)
    report(app, clock, wuhan(day2, 8, 10))
    deadline = wuhan(day2, 20) + timedelta(minutes=120)
    app.tick(deadline + timedelta(minutes=1))
    runner.catch_up()
    flagged = deadline + timedelta(minutes=1)
    assert due(runner, app, DAY1) == library_due(app, DAY1)
    assert due(runner, app, day2) == library_due(app, day2)
    assert missed(runner, C712) == library_missed(app, C712) != []
    app.tick(deadline + timedelta(hours=4, minutes=1))
    runner.catch_up()
    mine = [m for m in missed(runner, CITY, open_only=True) if m[0] == str(RID)]
    assert [(m[2], m[3], m[5]) for m in mine] == [(True, C712, 1)]
    assert missed(runner, CITY, open_only=True) == library_missed(app, CITY, open_only=True)
    assert missed(runner, CITY) == library_missed(app, CITY)
    # the assisted resident, never heard from, went up to the city (Level.CITY is 0)
    granny = [m for m in library_missed(app, CITY, open_only=True) if m[0] == str(GRANNY)]
    assert granny and granny[0][3:5] == (CITY, int(Level.CITY))

    # day 3: a fever found on a volunteer's visit
    day3 = day2 + timedelta(days=1)
    report(app, clock, wuhan(day3, 8, 30), by=staff(app, "VOL1"), source="staff_visit",
           temperature=38.2, symptoms=("咳嗽",))
    runner.catch_up()
    fever = clock()
    [(m, r)] = mb.abnormal_under(runner.views, C712)
    [lib] = app.monitoring_abnormal(C712)
    assert (m.resident_id, r.taken_at, r.temperature, r.symptoms, r.abnormal, r.source) == (
        str(lib.resident_id), lib.taken_at, lib.temperature, lib.symptoms, lib.reason,
        lib.source.value)
    assert missed(runner, CITY, open_only=True) == library_missed(app, CITY, open_only=True)
    assert not any(m[0] == str(RID) for m in missed(runner, CITY, open_only=True))
    record = mb.reports_of(runner.views, m.monitoring_id)
    assert [(x.taken_at, x.source, x.temperature) for x in record] == [
        (x.taken_at, x.source.value, x.temperature)
        for x in app.monitoring(app.monitoring_of(RID).id).reports]  # type: ignore[union-attr]
    assert [bool(x.abnormal) for x in record] == [False, False, False, True]

    # the period ends: on the release list with the requirements
    ends = IMPOSED + timedelta(days=14)
    clock.now = ends + timedelta(hours=1)
    app.tick()
    runner.catch_up()
    listed = mb.release_under(runner.views, CITY)
    library = app.monitoring_release_list(CITY)
    assert [(x.resident_id, x.ends, [(q.kind, q.hours, set(q.roles)) for q in x.release or ()])
            for x in listed] == [
        (str(e.resident_id), e.ends, [(q.kind.value, q.hours, {r.value for r in q.roles})
                                      for q in e.requirements]) for e in library]
    assert mb.board_by_node(runner.views, CITY, clock())[C712].release == len(library) == 2
    listed_at = clock()

    # released after a negative test: no longer on the board
    doc = staff(app, "DOC1")
    clock.advance(hours=1)
    app.record_test(HID, RID, True, clock.now - timedelta(hours=1), by=doc)
    app.change_measure(HID, RID, Measure.NONE, doc, "期满解除 released")
    app.tick()
    runner.catch_up()
    assert [x.resident_id for x in mb.release_under(runner.views, CITY)] == [str(GRANNY)]
    assert mb.monitoring_of_resident(runner.views, str(RID)) is None

    # as it was
    assert mb.board_by_node(runner.views, CITY, clock(), as_of=before) == {}
    then = mb.board_by_node(runner.views, CITY, clock(), as_of=started)
    assert (then[CITY].monitored, then[CITY].overdue, then[CITY].release) == (2, 0, 0)
    at_flag = [m for m in missed(runner, CITY, as_of=flagged) if m[0] == str(RID)]
    assert [(m[2], m[3], m[5]) for m in at_flag] == [(True, Z1, 0)]
    assert [r.temperature for _, r in mb.abnormal_under(runner.views, CITY, as_of=fever)] == [
        38.2]
    assert mb.abnormal_under(runner.views, CITY, as_of=flagged) == []
    assert len(mb.release_under(runner.views, CITY, as_of=listed_at)) == 2
    past = mb.monitoring_of_resident(runner.views, str(RID), as_of=listed_at)
    assert past is not None and past.release is not None
    assert len(mb.reports_of(runner.views, past.monitoring_id, as_of=flagged)) == 3

    # nothing personal is kept: no name, phone, address
    text = repr(snapshot(runner))
    for personal in ("张三", "李四", "王奶奶", "13812341234", "1栋101"):
        assert personal not in text

    whole = snapshot(runner)
    runner.rebuild("monitoring_board")
    assert snapshot(runner) == whole
    Runner(app, mb.PROJECTIONS, batch=1000, views=runner.views).rebuild("monitoring_board")
    assert snapshot(runner) == whole


def test_the_household_timeline_shows_monitoring_without_readings(
        sql_store, city: GridcoreApp, clock: Clock) -> None:  # noqa: F811
    app = city
    runner = Runner(app, ht.PROJECTIONS, batch=1)
    quarantined(app, clock)
    report(app, clock, wuhan(DAY1, 7, 50), temperature=38.4, symptoms=("咳嗽",))
    day2 = DAY1 + timedelta(days=1)
    app.tick(wuhan(day2, 22, 1))
    runner.catch_up()
    rows = ht.timelines(runner.views, [str(HID)])[str(HID)]
    kinds = [r.kind for r in rows if r.kind.startswith("monitoring.")]
    assert kinds[:3] == ["monitoring.started", "monitoring.report", "monitoring.abnormal"]
    assert "monitoring.missed" in kinds
    text = repr(rows)
    assert "38.4" not in text and "咳嗽" not in text
