"""The SMS gateway's receipt door over a real HTTP server (``POST /notify/sms/receipt``): the
shared key, one receipt or a list, idempotent, and a bad body answered 400 writing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest

from adapters.bootstrap import api_app
from adapters.notify.outbox import Directory, Notifier, Sender, channels_from
from adapters.notify.settings import NotifySettings
from adapters.settings import sqlite_env
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode, SettingsError, api_settings
from graphql_api.sms_receipts import KEY_HEADER, PATH
from gridcore.application import GridcoreApp
from gridcore.notification import Channel, Message, MessageStatus
from projections import all_projections
from projections.runner import Runner
from tests.conftest import Clock
from tests.notify.servers import http_receiver
from tests.notify.test_outbox import COMMUNITY, NOTICE, build

SECRET = "test-secret-" + "x" * 40
KEY = "receipt-key-" + "y" * 24


@dataclass
class Served:
    app: GridcoreApp
    base: str
    sender: Sender
    notifier: Notifier
    official: UUID
    closed: str
    clock: Clock  # a server of the same app without a receipt key

    def post(self, body: Any, key: str | None = KEY, base: str | None = None) -> httpx.Response:
        headers = {KEY_HEADER: key} if key is not None else {}
        content = body if isinstance(body, bytes) else None
        return httpx.post((base or self.base) + PATH, headers=headers, content=content,
                          json=None if content is not None else body, timeout=30)

    def sent_texts(self) -> list[Message]:
        """Two texts of a new notice, accepted by the gateway (sent)."""
        before = {m.id for m in self.texts()}
        self.clock.advance(days=1)  # the same hour (no quiet hours), past the rate limit
        self.app.post_notice(COMMUNITY, NOTICE, by=self.official, reference=str(uuid4()))
        self.notifier.catch_up()
        self.sender.drain()
        new = [m for m in self.texts() if m.id not in before]
        assert len(new) == 2 and {m.status for m in new} == {MessageStatus.SENT}
        return new

    def texts(self) -> list[Message]:
        ids = {n.originator_id for n in self.app.recorder.select_notifications(
            start=1, limit=100_000, topics=["gridcore.notification:Message.Queued"])}
        return [m for m in self.app.messages(sorted(ids)) if m.channel is Channel.SMS]

    def log_size(self) -> int:
        return self.app.recorder.max_notification_id() or 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("receipts")
    clock = Clock()
    app = GridcoreApp(sqlite_env(folder / "gridcore.sqlite"), clock=clock)
    official, _, _ = build(app)
    runner = Runner(app, all_projections()).start()
    audit = str(folder / "api-audit.jsonl")
    try:
        open_settings = ApiSettings(mode=Mode.DEVELOPMENT, secret=SECRET, audit_file=audit,
                                    sms_receipt_key=KEY)
        closed_settings = ApiSettings(mode=Mode.DEVELOPMENT, secret=SECRET,
                                      audit_file=audit)
        with http_receiver("sms") as sms, http_receiver("wecom") as wecom, \
                running(api_app(app, runner, open_settings)) as base, \
                running(api_app(app, runner, closed_settings)) as closed:
            settings = NotifySettings(wecom_url=wecom.url, sms_url=sms.url, sms_key="k")
            sender = Sender(app, channels_from(settings), Directory(app, settings))
            yield Served(app, base, sender, Notifier(app), official, closed, clock)
    finally:
        runner.stop()


def test_receipts_deliver_and_fail_texts_once(served: Served) -> None:
    s = served
    ok, bad = s.sent_texts()
    r = s.post([{"message_id": str(ok.id), "status": "delivered", "receipt": "gw-1"},
                {"message_id": str(bad.id), "status": "failed", "reason": "空号 no such number"}])
    assert (r.status_code, r.json()) == (200, {"recorded": 2, "unchanged": 0})
    assert s.app.message(ok.id).status is MessageStatus.DELIVERED
    assert (s.app.message(bad.id).status, s.app.message(bad.id).reason) == (
        MessageStatus.FAILED, "回执 receipt: 空号 no such number")
    size = s.log_size()
    again = s.post({"message_id": str(ok.id), "status": "delivered", "receipt": "gw-1"})
    assert (again.status_code, again.json()) == (200, {"recorded": 0, "unchanged": 1})
    assert s.log_size() == size  # the same receipt twice writes nothing the second time


@pytest.mark.parametrize(("body", "says"), [
    (b"{not json", "not valid JSON"),
    ({"status": "delivered"}, "no valid message_id"),
    ({"message_id": "12", "status": "delivered"}, "no valid message_id"),
    ({"message_id": "OK", "status": "read"}, "give 'delivered' or 'failed'"),
    ({"message_id": "OK", "status": "delivered", "to": "138"}, "unknown fields ['to']"),
    ({"message_id": "OK", "status": "failed", "reason": 5}, "reason that is not text"),
    ([], "send 1 to 200"),
    ([{"message_id": "OK", "status": "delivered"}, "x"], "Receipt 1 is not a JSON object"),
    ([{"message_id": "OK", "status": "delivered"},
      {"message_id": str(UUID(int=7)), "status": "delivered"}], "No message"),
    ([{"message_id": "OK", "status": "delivered"},
      {"message_id": "QUEUED", "status": "delivered"}], "is queued"),
])
def test_a_bad_body_is_a_400_saying_what_is_right_and_writes_nothing(
        served: Served, body: Any, says: str) -> None:
    s = served
    ok, _ = s.sent_texts()
    s.app.post_notice(COMMUNITY, NOTICE, by=s.official, reference=str(uuid4()))
    s.notifier.catch_up()  # queued, not sent yet
    queued = next(m for m in s.texts() if m.status is MessageStatus.QUEUED)
    if not isinstance(body, bytes):
        raw = json.dumps(body).replace('"OK"', f'"{ok.id}"')
        body = json.loads(raw.replace('"QUEUED"', f'"{queued.id}"'))
    size = s.log_size()
    r = s.post(body)
    assert r.status_code == 400, r.text
    assert says in r.json()["errors"][0]["message"]
    assert s.log_size() == size
    assert s.app.message(ok.id).status is MessageStatus.SENT


def test_the_door_needs_the_key_and_is_closed_without_one(served: Served) -> None:
    s = served
    ok, _ = s.sent_texts()
    body = {"message_id": str(ok.id), "status": "delivered"}
    size = s.log_size()
    for key in (None, "", "wrong-" + KEY):
        r = s.post(body, key=key)
        assert r.status_code == 403 and KEY_HEADER in r.json()["errors"][0]["message"]
    r = s.post(body, base=s.closed)
    assert r.status_code == 404
    assert "GRIDCORE_SMS_RECEIPT_KEY" in r.json()["errors"][0]["message"]
    assert s.log_size() == size and s.app.message(ok.id).status is MessageStatus.SENT


def test_the_key_is_read_from_the_environment(tmp_path: Path) -> None:
    env = {"GRIDCORE_API_SECRET": SECRET, "GRIDCORE_API_AUDIT_FILE": str(tmp_path / "a")}
    assert api_settings(env).sms_receipt_key == ""
    assert api_settings({**env, "GRIDCORE_SMS_RECEIPT_KEY": KEY}).sms_receipt_key == KEY
    with pytest.raises(SettingsError, match="shorter than 16"):
        api_settings({**env, "GRIDCORE_SMS_RECEIPT_KEY": "short"})
    assert KEY not in repr(api_settings({**env, "GRIDCORE_SMS_RECEIPT_KEY": KEY}))
