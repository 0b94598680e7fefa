"""``gridcore tick`` after a long gap (issue 15, point 7): an overdue request escalates one
level per deadline it missed, each escalation dated when its deadline passed and the next
deadline counted from it, not from the tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import memory_env, sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.household import resident_id
from gridcore.policy import DEFAULT_POLICY
from gridcore.requests import Category, Channel, Grade, ResidentRequest
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, given_community

H = timedelta(hours=1)


def test_a_tick_after_a_long_gap_records_every_missed_deadline_when_it_passed(
        tmp_path, monkeypatch):
    path = tmp_path / "g.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    filed_at = (datetime.now(UTC) - timedelta(days=5)).replace(microsecond=0)
    app = GridcoreApp(sqlite_env(path), clock=lambda: filed_at)
    c = given_community(app)
    rid = app.file_request(Channel.HOTLINE, Category.SUPPLIES, Grade.NORMAL, "缺菜 no vegetables",
                           household=c.households[0], resident=resident_id("712-1-0", 2),
                           by=System.PUBLIC).request_id

    first = CliRunner().invoke(cli, ["tick"])  # five days on: four 24-hour deadlines missed
    assert first.exit_code == 0, first.output
    assert "requests 1" in first.output
    again = CliRunner().invoke(cli, ["tick"])
    assert again.exit_code == 0 and "requests 0" in again.output

    later = GridcoreApp(sqlite_env(path))
    events = list(later.events.get(rid))[1:]
    assert [type(e) for e in events] == [ResidentRequest.Escalated] * 3 + [
        ResidentRequest.DeadlineMissed]
    missed = [filed_at + n * 24 * H for n in (1, 2, 3, 4)]
    assert [e.timestamp for e in events] == missed  # each dated when its deadline passed
    assert [e.missed_deadline for e in events] == missed
    escalated = events[:3]
    assert [(e.from_code, e.to_code) for e in escalated] == [
        (COMMUNITY, STREET), (STREET, DISTRICT), (DISTRICT, CITY)]
    # each new deadline counted from the missed one, not from the tick
    assert [e.deadline for e in escalated] == missed[1:]
    r = later.request(rid)
    assert (r.owner_code, r.deadline, r.escalations, r.missed) == (CITY, None, 3, 4)
    assert r.owners == [(filed_at, COMMUNITY), (missed[0], STREET), (missed[1], DISTRICT),
                        (missed[2], CITY)]


def test_a_change_after_the_deadline_dates_the_escalation_and_the_policy_then_counts():
    clock = Clock()
    app = GridcoreApp(memory_env(), clock=clock)
    c = given_community(app, households_per_zone=1)
    t0 = clock.now
    quick = DEFAULT_POLICY.with_changes(request_deadline_hours={"urgent": 1, "normal": 24})
    app.adopt_policy(quick, t0 + 5 * H, "紧急诉求1小时 urgent in an hour", by=System.OPERATOR)
    rid = app.file_request(Channel.ONLINE, Category.MEDICAL, Grade.URGENT, "缺药 no medicine",
                           household=c.households[0], by=System.PUBLIC).request_id
    clock.advance(hours=3)  # the 2-hour deadline passed; the community assigns it late
    app.assign_request(rid, c.worker, by=System.OPERATOR)
    clock.advance(hours=20)
    assert app.tick()["requests"] == 1
    events = [e for e in app.events.get(rid)
              if isinstance(e, ResidentRequest.Escalated | ResidentRequest.DeadlineMissed)]
    # to the street: dated at the assignment (after the deadline, before any tick), with the
    # policy then (2 h); to the district at +5 h, now under the quicker policy (1 h); ...
    assert [(e.timestamp, e.missed_deadline) for e in events] == [
        (t0 + 3 * H, t0 + 2 * H), (t0 + 5 * H, t0 + 5 * H), (t0 + 6 * H, t0 + 6 * H),
        (t0 + 7 * H, t0 + 7 * H)]
    assert [e.deadline for e in events[:3]] == [t0 + 5 * H, t0 + 6 * H, t0 + 7 * H]
    assert app.request(rid).owner_code == CITY and app.request(rid).deadline is None
    assert DISTRICT in [e.to_code for e in events[:3]]
