"""The alert's life as a property: whatever the order of acknowledgements, resolutions and
ticks, an alert moves only forward, escalates one level per missed deadline and never past the
city, and stops escalating once acknowledged."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from adapters.settings import memory_env
from gridcore.alerts import AlertState
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import ForbiddenTransition
from gridcore.grid import Level
from gridcore.policy import DEFAULT_POLICY
from gridcore.status import Measure
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, given_community

CHAIN = [ZONES[0], COMMUNITY, STREET, DISTRICT, CITY]
ORDER = [AlertState.RAISED, AlertState.ACKNOWLEDGED, AlertState.RESOLVED]
steps = st.lists(st.one_of(
    st.tuples(st.just("tick"), st.integers(0, 40)),
    st.tuples(st.just("ack"), st.integers(0, 40)),
    st.tuples(st.just("resolve"), st.integers(0, 40)),
), max_size=20)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps)
@example([("tick", 16)] * 6 + [("ack", 0), ("resolve", 1)])  # up to the city and past it
@example([("ack", 3), ("tick", 40), ("resolve", 0), ("ack", 0), ("resolve", 0)])
def test_an_alert_only_moves_forward_and_up_one_level_per_deadline(
        script: list[tuple[str, int]]) -> None:
    clock = Clock()
    app = GridcoreApp(memory_env(), clock=clock)
    c = given_community(app, households_per_zone=1)
    hid = c.households[0]
    app.register_camera("CAM-1", ZONES[0], household_id=hid, by=System.OPERATOR)
    app.change_measure(hid, sorted(app.household(hid).residents)[0], Measure.HOME_QUARANTINE,
                       c.worker)
    aid = app.record_camera_detection("D-1", "CAM-1", clock.now, "out", 0.9, by=System.OPERATOR)
    assert aid is not None
    minutes = DEFAULT_POLICY.alert_acknowledge_minutes
    seen = [app.alert(aid)]
    for verb, wait in script:
        clock.advance(minutes=wait)
        before = app.alert(aid)
        try:
            if verb == "tick":
                app.tick()
            elif verb == "ack":
                app.acknowledge_alert(aid, c.worker)
            else:
                app.resolve_alert(aid, c.worker, "false_alarm")
        except ForbiddenTransition:
            assert (verb == "ack" and before.state is not AlertState.RAISED) or (
                verb == "resolve" and before.state is AlertState.RESOLVED)
            continue
        a = app.alert(aid)
        assert ORDER.index(a.state) >= ORDER.index(before.state)
        assert a.escalations - before.escalations <= (1 if verb == "tick" else 0)
        if a.escalations > before.escalations:
            assert before.state is AlertState.RAISED and before.deadline is not None
            assert before.deadline < clock.now
        assert a.owner_code == CHAIN[a.escalations] and a.level is Level(4 - a.escalations)
        missed_at_top = (verb == "tick" and before.level is Level.CITY
                         and before.deadline is not None and before.deadline < clock.now)
        assert (a.deadline is None) is (a.state is not AlertState.RAISED
                                        or before.deadline is None or missed_at_top)
        if a.deadline is not None:
            assert a.deadline == (a.modified_on if a.escalations else a.raised_at) + timedelta(
                minutes=minutes)
        seen.append(a)
    assert [s.escalations for s in seen] == sorted(s.escalations for s in seen)
    app.close()

