"""``gridcore ingest cameras|vehicles FILE`` over the SQLite store: good lines applied, bad
lines reported by number with their reason, a second ingest of the same file writes nothing,
and every accepted pass is counted per checkpoint and hour."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.alerts import Alert, alert_id_for
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.status import Measure
from gridcore.vehicle import PassTally, hour_start
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community

T = datetime(2020, 2, 18, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "g.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("COLUMNS", "250")
    app = GridcoreApp(sqlite_env(path), clock=Clock())
    c = given_community(app)
    app.assign_responsible_worker(ZONES[0], c.worker, by=System.OPERATOR)
    h = app.household(c.households[0])
    app.register_camera("CAM-1", ZONES[0], household_id=h.id, by=System.OPERATOR)
    app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=System.OPERATOR)
    app.register_checkpoint("KK-2", ZONES[1], "二片区路口", by=System.OPERATOR)
    app.change_measure(h.id, sorted(h.residents)[0], Measure.HOME_QUARANTINE, c.worker)
    app.close()
    return path


def lines(path: Path, rows: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                              for r in rows) + "\n", encoding="utf-8")
    return path


def iso(when: datetime) -> str:
    return when.isoformat()


def stored(store: Path, cls: type) -> list[Any]:
    app = GridcoreApp(sqlite_env(store))
    try:
        notes = app.recorder.select_notifications(start=1, limit=10**6, topics=[get_topic(cls)])
        return [app.mapper.to_domain_event(n) for n in notes]
    finally:
        app.close()


def last(store: Path) -> int:
    app = GridcoreApp(sqlite_env(store))
    try:
        return app.recorder.max_notification_id() or 0
    finally:
        app.close()


def test_ingest_cameras_applies_good_lines_and_reports_bad_ones(store: Path, tmp_path: Path
                                                                ) -> None:
    def det(n: int, minutes: float, confidence: float = 0.9, camera: str = "CAM-1") -> dict:
        return {"detection_id": f"D-{n}", "camera_id": camera,
                "at": iso(T + timedelta(minutes=minutes)), "direction": "out",
                "confidence": confidence}

    file = lines(tmp_path / "cameras.jsonl", [
        det(1, 0), det(2, 1), det(3, 5), det(4, 6, confidence=0.3),  # 2 alerts, 1 too weak
        "{not json", det(5, 7, camera="CAM-404"),                    # lines 5 and 6
        {**det(6, 8), "at": "2020-02-18T09:08:00"},                  # line 7: no time zone
        det(1, 0),                                                   # a duplicate
    ])
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", "cameras", str(file)])
    assert result.exit_code == 1, result.output
    out = result.output
    rows = {int(m.group(1)): m.group(2) for m in re.finditer(r"^│\s*(\d+)\s*│(.*)$", out,
                                                            re.MULTILINE)}
    assert set(rows) == {5, 6, 7}
    for n, said in ((5, "Invalid JSON"), (6, "CAM-404"), (7, "timezone")):
        assert said in rows[n], (n, rows[n])
    summary = dict(re.findall(r"^│ (\S[^│]*?)\s*│\s*(\d+) │$", out, re.MULTILINE))
    assert summary == {"lines (行)": "8", "applied: camera (已处理)": "5",
                       "rejected (错误)": "3", "alerts (告警)": "2",
                       "newly raised (新告警)": "2", "no alert (未告警)": "1"}
    raised = [e.originator_id for e in stored(store, Alert.Raised)]
    assert raised == [alert_id_for("camera", "D-1"), alert_id_for("camera", "D-3")]
    written = last(store)
    again = runner.invoke(cli, ["ingest", "cameras", str(file)])
    assert again.exit_code == 1 and last(store) == written
    assert re.search(r"newly raised \(新告警\)\s*│\s*0 │", again.output)


def test_ingest_vehicles_counts_every_pass_once(store: Path, tmp_path: Path) -> None:
    def p(n: int, minutes: int, plate: str, checkpoint: str = "KK-1") -> dict:
        return {"type": "pass", "pass_id": f"P-{n}", "checkpoint_id": checkpoint,
                "plate": plate, "at": iso(T + timedelta(minutes=minutes))}

    rows: list[Any] = [p(n, 13 * n, f"浙A{10000 + n}", ("KK-1", "KK-2")[n % 2])
                       for n in range(12)]
    rows += [
        p(20, 30, "浙A77777"),  # travelled to Wuhan while high risk: an alert
        {k: v for k, v in p(21, 31, "鄂A12345").items() if k != "type"},  # region: alert
        {"type": "travel", "record_id": "T-1", "plate": "浙A77777", "place": "武汉市江岸区",
         "at": iso(T - timedelta(days=3))},
        {"type": "risk", "declaration_id": "R-1", "area": "武汉市", "level": "high",
         "start": iso(T - timedelta(days=30))},
        {"type": "risk", "declaration_id": "R-2", "area": "鄂A", "level": "high",
         "start": iso(T - timedelta(days=30))},
        {"type": "lift", "declaration_id": "R-2", "area": "鄂A", "at": iso(T + timedelta(days=1))},
        p(30, 5, "ABC"),                       # bad plate
        p(31, 5, "浙A11111", "KK-404"),         # unknown checkpoint
        {"type": "parking", "pass_id": "x"},    # unknown type
        {"type": "travel", "record_id": "T-2"},  # fields missing
    ]
    file = lines(tmp_path / "vehicles.jsonl", rows)
    runner = CliRunner()
    result = runner.invoke(cli, ["ingest", "vehicles", str(file)])
    assert result.exit_code == 1, result.output
    for said in ("plate", "KK-404", "parking", "place"):
        assert said in result.output
    raised = {e.originator_id for e in stored(store, Alert.Raised)}
    assert raised == {alert_id_for("vehicle", "P-20"), alert_id_for("vehicle", "P-21")}
    good = [r for r in rows if r.get("type", "pass") == "pass" and r["plate"] != "ABC"
            and r["checkpoint_id"] != "KK-404"]
    expected = Counter((r["checkpoint_id"], hour_start(datetime.fromisoformat(r["at"])))
                       for r in good)
    [tally] = stored(store, PassTally.Counted)
    assert {(c.checkpoint_id, c.hour): c.passes for c in tally.counts} == dict(expected)
    written = last(store)
    again = runner.invoke(cli, ["ingest", "vehicles", str(file)])
    assert again.exit_code == 1 and last(store) == written
    assert "already counted" in again.output


def test_a_clean_file_exits_0_and_an_unreadable_one_2(store: Path, tmp_path: Path) -> None:
    file = lines(tmp_path / "ok.jsonl", [{"detection_id": "D-1", "camera_id": "CAM-1",
                                          "at": iso(T), "direction": "in", "confidence": 0.2}])
    runner = CliRunner()
    ok = runner.invoke(cli, ["ingest", "cameras", str(file)])
    assert ok.exit_code == 0, ok.output
    assert "no alert (未告警)" in ok.output
    missing = runner.invoke(cli, ["ingest", "vehicles", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
