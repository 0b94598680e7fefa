"""Bad input to the alert commands: a typed error naming what was wrong, with a remedy, and
nothing written; and the stream records' parser rejecting malformed messages with a reason."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from adapters import alert_inputs as ai
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.errors import DuplicateCode, ForbiddenTransition, InvalidInput, NotFound
from gridcore.status import Measure
from tests.application.test_bad_input import rejects
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, Community, given_community

UNKNOWN = uuid.UUID(int=7)


@pytest.fixture
def c(app: GridcoreApp, clock: Clock) -> Community:
    c = given_community(app)
    app.register_camera("CAM-1", ZONES[0], household_id=c.households[0], by=System.OPERATOR)
    app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=System.OPERATOR)
    h = app.household(c.households[0])
    app.change_measure(h.id, sorted(h.residents)[0], Measure.HOME_QUARANTINE, c.worker)
    clock.advance(minutes=10)
    return c


def test_cameras_and_checkpoints_are_registered_sensibly(app: GridcoreApp, c: Community
                                                         ) -> None:
    rejects(app, InvalidInput, app.register_camera, "CAM-2", ZONES[0], what=("one household",),
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_camera, "CAM-2", ZONES[0],
            household_id=c.households[0], building_id=building_id(COMMUNITY, "9"),
            what=("not both",), by=System.OPERATOR)
    rejects(app, NotFound, app.register_camera, "CAM-2", ZONES[0], household_id=UNKNOWN,
            by=System.OPERATOR)
    rejects(app, NotFound, app.register_camera, "CAM-2", "nowhere",
            household_id=c.households[0], what=("nowhere",), by=System.OPERATOR)
    rejects(app, NotFound, app.register_camera, "CAM-2", COMMUNITY,
            building_id=building_id(COMMUNITY, "9"), what=("building",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_camera, "CAM-2", ZONES[1],
            household_id=c.households[0], what=(ZONES[1], ZONES[0]), by=System.OPERATOR)
    rejects(app, DuplicateCode, app.register_camera, "CAM-1", ZONES[1],
            household_id=c.households[-1], what=("CAM-1",), by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_camera, " ", ZONES[0],
            household_id=c.households[0], what=("camera id",), by=System.OPERATOR)
    rejects(app, DuplicateCode, app.register_checkpoint, "KK-1", ZONES[0], "别的卡口",
            by=System.OPERATOR)
    rejects(app, InvalidInput, app.register_checkpoint, "KK-2", ZONES[0], "  ", what=("name",),
            by=System.OPERATOR)
    before = app.recorder.max_notification_id()
    assert app.register_camera("CAM-1", ZONES[0], household_id=c.households[0],
                               by=System.OPERATOR) is None
    assert app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=System.OPERATOR) is None
    assert app.recorder.max_notification_id() == before


def test_detections_and_passes_are_checked(app: GridcoreApp, c: Community,
                                           clock: Clock) -> None:
    t = clock.now
    naive = datetime(2020, 2, 17, 8, 0)
    rejects(app, NotFound, app.record_camera_detection, "D-1", "CAM-404", t, "in", 0.9,
            what=("CAM-404",), by=System.FEED)
    rejects(app, InvalidInput, app.record_camera_detection, "D-1", "CAM-1", naive, "in", 0.9,
            what=("time zone",), by=System.FEED)
    rejects(app, InvalidInput, app.record_camera_detection, "D-1", "CAM-1", t, "up", 0.9,
            what=("'up'",), by=System.FEED)
    rejects(app, InvalidInput, app.record_camera_detection, "D-1", "CAM-1", t, "in", 1.5,
            what=("1.5",), by=System.FEED)
    rejects(app, InvalidInput, app.record_camera_detection, "", "CAM-1", t, "in", 0.9,
            what=("detection id",), by=System.FEED)
    rejects(app, NotFound, app.record_vehicle_pass, "P-1", "KK-404", "鄂A12345", t,
            what=("KK-404",), by=System.FEED)
    rejects(app, InvalidInput, app.record_vehicle_pass, "P-1", "KK-1", "ABC", t,
            what=("plate",), by=System.FEED)
    rejects(app, InvalidInput, app.raise_vehicle_alert, "P-1", "KK-1", "鄂A12345", t, " ",
            what=("reason",), by=System.FEED)
    rejects(app, InvalidInput, app.record_travel, "T-1", "鄂A12345", "", t, what=("Area",),
            by=System.FEED)
    rejects(app, InvalidInput, app.record_travel, "T-1", "鄂A12345", "武汉市", naive,
            by=System.FEED)


def test_risk_areas_and_counts_are_checked(app: GridcoreApp, c: Community,
                                           clock: Clock) -> None:
    t = clock.now
    rejects(app, InvalidInput, app.declare_risk_area, "R-1", "武汉市", "extreme", t,
            what=("'extreme'", "high"), by=System.FEED)
    rejects(app, InvalidInput, app.declare_risk_area, "R-1", "武汉市", "high", t,
            t - timedelta(days=1), what=("ends before",), by=System.FEED)
    app.declare_risk_area("R-1", "武汉市", "high", t, by=System.OPERATOR)
    rejects(app, DuplicateCode, app.declare_risk_area, "R-1", "孝感市", "high", t, by=System.FEED)
    rejects(app, NotFound, app.lift_risk_area, "R-2", "武汉市", t, by=System.FEED)
    rejects(app, NotFound, app.lift_risk_area, "R-1", "孝感市", t, by=System.FEED)
    rejects(app, InvalidInput, app.lift_risk_area, "R-1", "武汉市", t - timedelta(days=1),
            what=("before it started",), by=System.FEED)
    hour = t.replace(minute=0)
    rejects(app, InvalidInput, app.count_vehicle_passes, {("KK-1", hour): 0}, "src", by=System.FEED)
    rejects(app, InvalidInput, app.count_vehicle_passes, {("KK-1", t + timedelta(minutes=1)): 1},
            "src", what=("hour",), by=System.FEED)
    rejects(app, NotFound, app.count_vehicle_passes, {("KK-404", hour): 1}, "src",
            what=("KK-404",), by=System.FEED)
    rejects(app, InvalidInput, app.count_vehicle_passes, {("KK-1", hour): 1}, "",
            what=("count source",), by=System.FEED)
    # a stream worker's batch: alerts and counts refused together, naming the bad one
    good = ("P-1", "KK-1", "鄂B12345", t, "车牌属地为高风险地区")
    rejects(app, InvalidInput, app.record_vehicle_passes, [good], {"src": {("KK-1", hour): 0}},
            by=System.FEED)
    rejects(app, InvalidInput, app.record_vehicle_passes,
            [good, ("P-2", "KK-1", "not a plate", t, "x")], {"src": {("KK-1", hour): 1}},
            what=("Alert 2 of 2", "plate"), by=System.FEED)
    rejects(app, InvalidInput, app.record_vehicle_passes, [good], {"": {("KK-1", hour): 1}},
            what=("count source",), by=System.FEED)


def test_alerts_are_handled_in_order(app: GridcoreApp, c: Community, clock: Clock) -> None:
    aid = app.record_camera_detection("D-1", "CAM-1", clock.now, "out", 0.9, by=System.OPERATOR)
    rejects(app, NotFound, app.acknowledge_alert, UNKNOWN, c.worker)
    rejects(app, NotFound, app.acknowledge_alert, aid, UNKNOWN, what=("staff",))
    rejects(app, InvalidInput, app.resolve_alert, aid, c.worker, "maybe",
            what=("false_alarm",))
    rejects(app, InvalidInput, app.resolve_alert, aid, c.worker, "breach_confirmed", "",
            what=("action",))
    app.acknowledge_alert(aid, c.worker)
    rejects(app, ForbiddenTransition, app.acknowledge_alert, aid, c.worker)
    app.resolve_alert(aid, c.worker, "false_alarm")
    rejects(app, ForbiddenTransition, app.resolve_alert, aid, c.worker, "false_alarm")


# ---- the stream records ------------------------------------------------------------------------

GOOD = {
    "camera": b'{"detection_id": "D-1", "camera_id": "CAM-1", "at": "2020-02-17T08:00:00+08:00",'
              b' "direction": "out", "confidence": 0.93}',
    "vehicle": '{"pass_id": "P-1", "checkpoint_id": "KK-1", "plate": "鄂A12345", '
               '"at": "2020-02-17T08:00:00+08:00"}'.encode(),
    "travel": '{"record_id": "T-1", "plate": "鄂A12345", "place": "武汉市", '
              '"at": "2020-02-10T12:00:00Z"}'.encode(),
    "risk": '{"declaration_id": "R-1", "area": "武汉市", "level": "high", '
            '"start": "2020-01-23T00:00:00+08:00"}'.encode(),
}


@pytest.mark.parametrize("kind", list(GOOD))
def test_good_records_parse(kind: str) -> None:
    record = ai.parse(kind, GOOD[kind])  # type: ignore[arg-type]
    assert isinstance(record, ai.MODELS[kind][0])


@pytest.mark.parametrize(("kind", "data", "said"), [
    ("camera", b"not json", "JSON"),
    ("camera", b"[1, 2]", "object"),
    ("camera", GOOD["camera"].replace(b"+08:00", b""), "timezone"),
    ("camera", GOOD["camera"].replace(b'"out"', b'"sideways"'), "direction"),
    ("camera", GOOD["camera"].replace(b"0.93", b"1.7"), "confidence"),
    ("camera", GOOD["camera"].replace(b'"D-1"', b'""'), "detection_id"),
    ("camera", GOOD["camera"].replace(b"}", b', "extra": 1}'), "extra"),
    ("vehicle", GOOD["vehicle"].replace(b'"plate": "\xe9\x84\x82A12345", ', b""), "plate"),
    ("risk", GOOD["risk"].replace(b'"high"', b'"severe"'), "level"),
    ("risk", b'{"declaration_id": "R-1", "area": "x"}', "at"),
    ("parking", GOOD["camera"], "kind"),
])
def test_malformed_records_are_rejected_with_a_reason(kind: str, data: bytes, said: str) -> None:
    with pytest.raises(ai.InputRejected) as info:
        ai.parse(kind, data)  # type: ignore[arg-type]
    assert said in info.value.reason and isinstance(info.value, ValueError)
    if kind != "parking":
        assert "e.g." in info.value.reason  # what a good one looks like


def test_apply_records_through_the_application(app: GridcoreApp, c: Community) -> None:
    assert ai.apply(app, ai.parse("risk", GOOD["risk"]), System.FEED) == []
    assert ai.apply(app, ai.parse("travel", GOOD["travel"]), System.FEED) == []
    camera = ai.parse("camera", GOOD["camera"].replace(b"+08:00", b"+00:00").replace(
        b"08:00:00", b"08:11:00"))
    [aid] = ai.apply(app, camera, System.FEED)
    written = app.recorder.max_notification_id()
    # a redelivery: the same alert, nothing written
    assert ai.apply(app, camera, System.FEED) == [aid]
    assert app.recorder.max_notification_id() == written
    [vid] = ai.apply(app, ai.parse("vehicle", GOOD["vehicle"]), System.FEED)
    assert "鄂A" not in app.alert(vid).reason and "武汉市" in app.alert(vid).reason
    unknown = ai.parse("camera", GOOD["camera"].replace(b"CAM-1", b"CAM-9"))
    rejects(app, NotFound, ai.apply, app, unknown, System.FEED, what=("CAM-9",))
