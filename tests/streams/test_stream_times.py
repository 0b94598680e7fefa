"""The stream worker checks every record's time at the edge: a detection, pass, travel record
or risk area whose time lies outside the policy's window (a UTC value that overflows, years
ahead of the server's clock, before the epidemic) goes to the dead-letter topic with the
reason and the window accepted, and the worker goes on with the good records (one worker on a
broker of its own, so its topics start empty)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from adapters import stream_topics as topics
from adapters.settings import sqlite_env
from adapters.stream_app import all_topics
from adapters.stream_broker import start_local_broker
from adapters.stream_topics import ensure_topics
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.status import Measure
from tests.conftest import Clock
from tests.kafka_broker import CEILING, need_kafka, produce, wait_until
from tests.scenario import COMMUNITY, ZONES, given_community
from tests.streams.test_stream_worker import Worker, js

pytestmark = pytest.mark.kafka

OVERFLOW = "9999-12-31T23:59:59-14:00"
UNDERFLOW = "0001-01-01T00:00:00+14:00"
YEARS_AHEAD = "2040-02-17T09:00:00+00:00"   # the worker runs on the real clock
BEFORE = "2001-01-01T00:00:00+08:00"
HOUR_9 = datetime(2020, 2, 17, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    binary = need_kafka()
    home = tmp_path_factory.mktemp("stream-times")
    broker = start_local_broker(home, binary)
    store = home / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(store), clock=Clock())
    c = given_community(app)
    app.assign_responsible_worker(ZONES[0], c.worker, by=System.OPERATOR)
    app.register_checkpoint("KK-1", COMMUNITY, "后湖卡口", by=System.OPERATOR)
    app.register_camera("CAM-1", ZONES[0], household_id=c.households[0], by=System.OPERATOR)
    h = app.household(c.households[0])
    app.change_measure(h.id, next(iter(h.residents)), Measure.HOME_QUARANTINE, c.worker)
    ensure_topics(broker.bootstrap, all_topics())
    w = Worker(broker.bootstrap, store, app, None, home / "worker.log",  # type: ignore[arg-type]
               "batch")
    w.process = w.restart()
    try:
        w.wait_ready()  # the groups have joined and hold the inbound partitions
        yield w
    finally:
        if w.process.poll() is None:
            w.process.kill()
            w.process.wait(timeout=10)
        app.close()
        broker.stop()


def test_records_with_impossible_times_are_dead_lettered_with_the_window(
        worker: Worker) -> None:
    b = worker.bootstrap
    bad_risk = {js(declaration_id="R-9", area="孝感市", level="high", start=BEFORE): "before 2019",
                js(declaration_id="R-8", area="孝感市", level="high",
                   start=OVERFLOW): "in the future"}
    bad_travel = {js(record_id="T-9", plate="湘A11111", place="武汉市",
                     at=OVERFLOW): "in the future"}
    bad_cameras = {
        js(detection_id=f"D-{n}", camera_id="CAM-1", at=at, direction="out",
           confidence=0.95): says
        for n, (at, says) in enumerate(((OVERFLOW, "in the future"),
                                        (UNDERFLOW, "before 2019"),
                                        (YEARS_AHEAD, "in the future")), start=1)}
    bad_passes = {
        js(pass_id=f"P-{n}", checkpoint_id="KK-1", plate="湘A11111", at=at): says
        for n, (at, says) in enumerate(((OVERFLOW, "in the future"),
                                        (UNDERFLOW, "before 2019"),
                                        (YEARS_AHEAD, "in the future"),
                                        (BEFORE, "before 2019")), start=1)}
    produce(b, topics.RISK_AREAS, list(bad_risk))
    produce(b, topics.TRAVEL_RECORDS, list(bad_travel))
    produce(b, topics.CAMERA_DETECTIONS, [
        *bad_cameras, js(detection_id="D-OK", camera_id="CAM-1", at="2020-02-17T10:00:00+00:00",
                         direction="out", confidence=0.95)])
    produce(b, topics.VEHICLE_PASSES, [
        *bad_passes, js(pass_id="P-OK", checkpoint_id="KK-1", plate="京A22222",
                        at="2020-02-17T09:30:00+00:00")])
    every = {**bad_risk, **bad_travel, **bad_cameras, **bad_passes}
    letters = worker.dead_letters(set(every), CEILING)
    for original, says in every.items():
        reason = letters[original].headers[topics.H_REASON].decode()
        assert reason.startswith("InvalidInput: The ") and says in reason, reason
        assert "between 2019-01-01T00:00Z" in reason, reason
    for original in bad_passes:
        assert letters[original].headers[topics.H_SOURCE_TOPIC] == (
            topics.VEHICLE_PASSES.encode())
    # The good records went through: the detection alerted, the pass was counted in its
    # hour, and no refused time reached the store or the counts.
    wait_until(lambda: worker.tallies() == {("KK-1", HOUR_9): 1}, CEILING, "P-OK counted")
    wait_until(lambda: worker.alerts("camera") == {"D-OK": 1}, CEILING, "D-OK alerted")
    assert worker.alerts("vehicle") == {}
    assert not worker.notes("gridcore.vehicle:PlateTravel.Recorded")
    worker.alive()

