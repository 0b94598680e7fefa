"""Health monitoring (健康监测) by chat through the API over a real HTTP server: with no sweep
campaign open, ``submitChatMessages`` records a quarantined resident's message as their
monitoring report (fate MONITORED, source RESIDENT_CHAT, taken when sent) and the report time
counts as reported on ``monitoredResidents``; the same batch again is all duplicates and
writes nothing; a fever by chat is followed up (symptomatic and a fever-clinic referral)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from gridcore.status import Measure
from tests.api.test_api_access import World, serve_world
from tests.scenario import ZONES

SUBMIT = """mutation($input: SubmitChatMessagesInput!) { submitChatMessages(input: $input) {
  __typename
  ... on ChatMessagesTaken { recorded review monitored duplicates
                             outcomes { messageId fate reason householdId monitoring } }
  ... on Problem { problem remedy } } }"""
DUE = """{ monitoredResidents(status: DUE) { residentId reportTime reported
  reports { takenAt source temperature } } }"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-chat-monitoring") / "gridcore.sqlite") as w:
        yield w


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` (1: 18 February 2020) at a local time in Wuhan (UTC+8)."""
    first = datetime.fromisoformat(f"2020-02-18T{hour:02d}:{minute:02d}:00+08:00")
    return first + timedelta(days=day - 1)


def submit(world: World, messages: list[tuple[str, str, datetime]]) -> dict[str, Any]:
    data = world.ask(SUBMIT, "GWZ1", {"input": {"microGridCode": ZONES[0], "messages": [
        {"messageId": mid, "sender": "李四", "sentAt": at.isoformat(), "text": text}
        for mid, text, at in messages]}})
    world.caught_up()
    return data["submitChatMessages"]


def test_a_quarantined_resident_reports_by_chat(world: World) -> None:
    app = world.app
    h = app.household_by_no("712-1-1")  # 1栋201: 张三 and 李四
    li = next(rid for rid, r in h.residents.items() if r.identity.name == "李四")
    world.clock.now = local(1, 7)
    app.change_measure(h.id, li, Measure.HOME_QUARANTINE, app.staff_by_no("GW1").id, "密接")
    world.clock.now = local(1, 7, 1)
    app.tick()
    assert app.open_campaign_of(h.id) is None  # no sweep campaign open

    sent = local(1, 7, 50)
    world.clock.now = sent + timedelta(minutes=1)
    batch = [("wx-m1", "1栋201 李四36.6", sent)]
    got = submit(world, batch)
    assert got["__typename"] == "ChatMessagesTaken", got
    [o] = got["outcomes"]
    assert (got["monitored"], got["recorded"], o["fate"], o["householdId"],
            o["monitoring"]) == (1, 0, "MONITORED", str(h.id), 1)
    due = [r for r in world.ask(DUE, "DOC1")["monitoredResidents"]
           if r["residentId"] == str(li)]
    assert [(datetime.fromisoformat(r["reportTime"]), r["reported"]) for r in due] == [
        (local(1, 8), True), (local(1, 20), False)]
    [report] = due[0]["reports"]
    assert (datetime.fromisoformat(report["takenAt"]), report["source"],
            report["temperature"]) == (sent, "RESIDENT_CHAT", 36.6)

    before = app.recorder.max_notification_id()
    again = submit(world, batch)
    assert (again["duplicates"], again["monitored"]) == (1, 0)
    assert app.recorder.max_notification_id() == before

    # the evening: a fever by chat, naming nobody (the one monitored member's)
    fever_at = local(1, 19, 40)
    world.clock.now = fever_at + timedelta(minutes=1)
    got = submit(world, [("wx-m2", "1栋201 体温38.1 咳嗽", fever_at)])
    assert [o["fate"] for o in got["outcomes"]] == ["MONITORED"], got
    assert app.household(h.id).residents[li].health.value == "symptomatic"
    assert [r.kind.value for r in app.referrals_of(li)] == ["fever_clinic"]
