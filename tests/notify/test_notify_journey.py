"""The issue's journey: a notice to a whole zone reaches a local webhook receiver once per
message even when the sender process is killed mid-batch.

The sender runs as its own process (``gridcore notify run --once``) over a SQLite store. The
receiver holds the tenth request unanswered and the test SIGKILLs the process while it waits
for the answer: that message is recorded attempted, not sent. A second process sends it again
with the same message id (the receiver sees it twice and dedupes by the id) and sends the
rest. Every message reaches the receiver, each id is accepted once, and every message ends
sent (a text) or delivered (the group's robot)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from uuid import UUID

import pytest

from adapters.bootstrap import bootstrap
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.notification import Channel, MessageStatus
from gridcore.staff import Role
from tests.notify.servers import http_receiver

ZONE = "420102001712-01"
HOUSEHOLDS = 30
HOLD_AT = 10
OP = System.OPERATOR
ROOT = Path(__file__).resolve().parents[2]


def build(app: GridcoreApp) -> None:
    app.establish_city("4201", "武汉市", by=OP)
    app.create_node("420102", "江岸区", "4201", by=OP)
    app.create_node("420102001", "后湖街道", "420102", by=OP)
    app.create_node("420102001712", "712社区", "420102001", by=OP)
    app.create_node(ZONE, "第1片区", "420102001712", by=OP)
    for i in range(HOUSEHOLDS):
        no = f"712-{i + 1:03d}"
        app.register_household(no, ZONE, f"{i // 10 + 1}栋{i % 10 + 1}01", [
            new_member(no, 1, f"居民{i}", f"1381234{i:04d}", None, 1980)], by=OP)
    app.enrol_staff("OFF1", "钱主任", Role.OFFICIAL, "420102001712", by=OP)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[tuple[GridcoreApp, dict[str, str]]]:
    path = tmp_path / "journey.sqlite"
    app = bootstrap(sqlite_env(path)).app  # the wall clock, as the sender process's
    build(app)
    env = {k: v for k, v in os.environ.items() if k != "GRIDCORE_SCENARIO_CLOCK"}
    env |= {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(path),
            "GRIDCORE_NOTIFY_QUIET_HOURS": "none"}  # whenever the suite runs
    yield app, env
    app.close()


def sender(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:
        return subprocess.Popen(
            [sys.executable, "-c", "from adapters.cli import main; main()", "notify", "run",
             "--once"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)


def test_a_notice_to_a_zone_reaches_the_receiver_once_though_the_sender_is_killed_mid_batch(
        store: tuple[GridcoreApp, dict[str, str]], tmp_path: Path) -> None:
    app, env = store
    log = tmp_path / "sender.log"
    with http_receiver("any") as receiver:
        env |= {"GRIDCORE_NOTIFY_WECOM_URL": receiver.url, "GRIDCORE_NOTIFY_SMS_URL":
                receiver.url.replace("webhook", "sms"), "GRIDCORE_NOTIFY_SMS_KEY": "k"}
        receiver.hold_at = HOLD_AT
        app.post_notice("420102001712", "今晚20时起小区封闭管理，生活物资配送到户。",
                        by=app.staff_by_no("OFF1").id)

        first = sender(env, log)
        assert receiver.holding.wait(120), log.read_text(errors="replace")[-3000:]
        first.send_signal(signal.SIGKILL)  # while the tenth request waits for its answer
        assert first.wait(60) == -signal.SIGKILL
        receiver.release.set()
        assert len(receiver.requests) == HOLD_AT  # mid-batch: most are still to send
        held = receiver.requests[HOLD_AT - 1].message_id

        queued = [n.originator_id for n in app.recorder.select_notifications(
            start=1, limit=10_000, topics=["gridcore.notification:Message.Queued"])]
        messages = app.messages(queued)
        sent_by_http = {str(m.id) for m in messages if m.channel is not Channel.CALL_LIST}
        assert len(sent_by_http) == HOUSEHOLDS + 1  # every household, and the zone's group
        assert app.message(UUID(held)).status is MessageStatus.ATTEMPTED

        second = sender(env, log)
        assert second.wait(300) == 0, log.read_text(errors="replace")[-3000:]

        counts = receiver.counts()
        assert set(receiver.accepted) == sent_by_http
        assert counts[held] == 2  # sent again with the same id, deduped by the receiver
        assert all(n == 1 for mid, n in counts.items() if mid != held)
        assert app.message(UUID(held)).attempts == 2
        final = {str(m.id): m.status for m in app.messages(queued)}
        assert {final[mid] for mid in sent_by_http} <= {MessageStatus.SENT,
                                                        MessageStatus.DELIVERED}
        groups = [m for m in app.messages(queued) if m.channel is Channel.WECOM_GROUP]
        assert [final[str(m.id)] for m in groups] == [MessageStatus.DELIVERED]
        assert app.message(groups[0].id).text.startswith("【712社区公告】今晚20时起")
