"""``gridcore checkin FILE --micro-grid CODE`` over the SQLite store, as the console's operator:
an exported chat (JSON lines or CSV) with a good report, an unreadable one (held for the worker,
the reason quoting its words), a thank-you and a picture (set aside), and a fever (the resident
symptomatic with a fever-clinic referral though no staff member recorded the visit), an
arrival from a risk area told in a sentence after the report (tagged, home observation) with a
thank-you kept as a remark; the same export again is all duplicates and writes nothing."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.status import Health, Measure, TagKind
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community

NOW = datetime(2020, 2, 17, 10, 0, tzinfo=UTC)
SENT = (NOW - timedelta(minutes=30)).isoformat()
ZONE = ZONES[0]
MESSAGES = [
    ("m-1", "王阿姨", "1栋101，2人，电话××××，平安"),
    ("m-2", "李叔", "1栋201，2人，平安，吧啦吧啦"),
    ("m-3", "张三", "谢谢网格员辛苦了"),
    ("m-4", "张三", "[图片]"),
    ("m-5", "独居老人", "1栋901，1人，体温38.2"),
    ("m-6", "刘奶奶", "1栋801，1人，平安。今天从黄冈回来了，谢谢网格员"),
]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "g.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("GRIDCORE_SCENARIO_CLOCK", NOW.isoformat())
    monkeypatch.setenv("COLUMNS", "250")
    app = GridcoreApp(sqlite_env(path), clock=Clock())
    given_community(app)
    app.register_household("712-1-9", ZONE, "1栋901", [new_member("712-1-9", 1, "独居老人")],
                           by=System.OPERATOR)
    app.register_household("712-1-8", ZONE, "1栋801", [new_member("712-1-8", 1, "刘奶奶")],
                           by=System.OPERATOR)
    app.declare_risk_area("DECL-HG", "黄冈市", "high", NOW - timedelta(days=3),
                          by=System.OPERATOR)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    app.close()
    return path


def jsonl(path: Path) -> Path:
    path.write_text("\n".join(json.dumps({"message_id": m, "sender": s, "sent_at": SENT,
                                          "text": t}, ensure_ascii=False)
                              for m, s, t in MESSAGES) + "\n", encoding="utf-8")
    return path


def test_an_export_is_recorded_held_or_set_aside_and_taken_once(store: Path,
                                                                tmp_path: Path) -> None:
    runner, file = CliRunner(), jsonl(tmp_path / "chat.jsonl")
    result = runner.invoke(cli, ["checkin", str(file), "--micro-grid", ZONE])
    assert result.exit_code == 1, result.output  # one held for review
    assert "recorded (已记录) 3, review (待核实) 1, ignored (非自报) 2, duplicates (重复) 0, " \
        "rejected (未收) 0" in result.output
    assert "m-2 review" in result.output and "“吧啦吧啦”" in result.output
    assert "m-3 ignored" in result.output and "谢谢网格员辛苦了" in result.output

    app = GridcoreApp(sqlite_env(store))
    try:
        h = app.household_by_no("712-1-9")
        person = next(iter(h.residents.values()))
        assert person.health is Health.SYMPTOMATIC  # followed up though no staff recorded it
        assert [r.kind.value for r in app.referrals_of(person.resident_id)] == ["fever_clinic"]
        visit = app.visit(app.campaign_of(COMMUNITY, 1).id, h.id)
        assert visit is not None and visit.attempts[0].staff_id is None
        assert [r.message_id for r in app.chat_reviews(ZONE)] == ["m-2"]
        back = app.household_by_no("712-1-8")
        grandma = next(iter(back.residents.values()))  # told in a sentence, after the report
        assert grandma.measure is Measure.HOME_OBSERVATION
        assert grandma.tags[TagKind.RISK_AREA_ARRIVAL].origin == "黄冈"
        visit = app.visit(app.campaign_of(COMMUNITY, 1).id, back.id)
        assert visit is not None and "谢谢网格员" in visit.attempts[0].note
        before = app.recorder.max_notification_id()
    finally:
        app.close()

    again = runner.invoke(cli, ["checkin", str(file), "--micro-grid", ZONE])
    assert again.exit_code == 0, again.output
    assert "recorded (已记录) 0, review (待核实) 0, ignored (非自报) 0, duplicates (重复) 6, " \
        "rejected (未收) 0" in again.output
    app = GridcoreApp(sqlite_env(store))
    try:
        assert app.recorder.max_notification_id() == before
    finally:
        app.close()


def test_a_csv_export_reads_the_same(store: Path, tmp_path: Path) -> None:
    file = tmp_path / "chat.csv"
    with file.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(["message_id", "sender", "sent_at", "text"])
        w.writerows([(m, s, SENT, t) for m, s, t in MESSAGES[:1]])
    result = CliRunner().invoke(cli, ["checkin", str(file), "--micro-grid", ZONE])
    assert result.exit_code == 0, result.output
    assert "recorded (已记录) 1," in result.output


def test_an_unreadable_export_writes_nothing(store: Path, tmp_path: Path) -> None:
    file = tmp_path / "bad.csv"
    file.write_text("id,who,text\n1,a,b\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["checkin", str(file), "--micro-grid", ZONE])
    assert result.exit_code == 2 and "message_id,sender,sent_at,text" in result.output
    missing = CliRunner().invoke(cli, ["checkin", str(tmp_path / "nope.jsonl"),
                                       "--micro-grid", ZONE])
    assert missing.exit_code == 2 and "cannot read" in missing.output


def test_a_message_dated_in_the_future_is_rejected_and_the_rest_taken(
        store: Path, tmp_path: Path) -> None:
    file = tmp_path / "old.jsonl"
    old = (NOW + timedelta(days=2)).isoformat()
    file.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"message_id": "o-1", "sender": "x", "sent_at": old, "text": "1栋101，2人，平安"},
        {"message_id": "o-2", "sender": "x", "sent_at": SENT, "text": "1栋201，2人，平安"},
    ]) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["checkin", str(file), "--micro-grid", ZONE])
    assert result.exit_code == 1, result.output
    assert "recorded (已记录) 1, review (待核实) 0, ignored (非自报) 0, duplicates (重复) 0, " \
        "rejected (未收) 1" in result.output and "o-1 rejected" in result.output
