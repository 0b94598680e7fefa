"""The stores' event store (``adapters.keyed_factory.BatchEventStore``) hands back the
recordings eventsourcing's would, each made when it is read."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import Recording

from adapters.keyed_factory import BatchEventStore
from gridcore.grid import node_id
from tests.scenario import ZONES, given_community


@pytest.mark.parametrize("store", ["memory", "sqlite", "postgres"], indirect=True)
def test_a_save_gives_the_recordings_of_its_events_in_order(make_app):
    app = make_app()
    given_community(app, households_per_zone=1)
    assert type(app.events) is BatchEventStore
    first, second = app.node(ZONES[0]), app.node(ZONES[1])
    first.rename("微网格甲", app.clock())
    second.rename("微网格乙", app.clock())
    first.rename("微网格丙", app.clock())
    events = [*first.collect_events(), *second.collect_events()]
    before = app.recorder.max_notification_id() or 0

    recordings = app.events.put(events)

    stored = app.recorder.select_notifications(start=before + 1, limit=10)
    assert len(recordings) == len(events) == len(stored) == 3
    assert all(isinstance(r, Recording) for r in recordings)
    assert [r.domain_event for r in recordings] == events
    assert [r.notification for r in recordings] == list(stored)
    assert recordings[-1].notification.id == stored[-1].id == before + 3
    assert [r.notification.id for r in recordings[1:]] == [before + 2, before + 3]
    assert [r.notification.originator_id for r in reversed(recordings)] == [
        node_id(ZONES[1]), node_id(ZONES[0]), node_id(ZONES[0])]
    with pytest.raises(IndexError):
        recordings[3]
    assert (app.node(ZONES[0]).name, app.node(ZONES[1]).name) == ("微网格丙", "微网格乙")
    assert app.events.put([]) == []

