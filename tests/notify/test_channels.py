"""Each channel against a real local server: what it sends, and how it reads the answer
(sent, delivered, a transient failure to retry, a permanent one)."""

from __future__ import annotations

from uuid import uuid4

import pytest

from adapters.notify.channels import (
    MESSAGE_ID_HEADER,
    Outgoing,
    SmsGateway,
    SmtpMail,
    WeComGroupRobot,
)
from tests.notify.servers import free_port, http_receiver, smtp_server

TEXT = "【712社区公告】明日8时起全员核酸检测，请携带身份证。"


def test_the_group_robot_posts_wecoms_text_message_with_the_message_id() -> None:
    with http_receiver("wecom") as r:
        mid = uuid4()
        outcome = WeComGroupRobot().send(Outgoing(mid, r.url, TEXT))
        assert outcome.ok and outcome.delivered
        [seen] = r.requests
        assert seen.body == {"msgtype": "text", "text": {"content": TEXT}}
        assert seen.message_id == str(mid)
        assert seen.path.endswith("/cgi-bin/webhook/send?key=test")


@pytest.mark.parametrize(("answer", "permanent"), [
    (500, False), (503, False), (429, False), (400, True), (404, True),
    ((200, {"errcode": 45009, "errmsg": "api freq out of limit"}), False),
    ((200, {"errcode": 93000, "errmsg": "invalid webhook url"}), True),
])
def test_the_group_robot_tells_a_retry_from_a_refusal(answer: object, permanent: bool) -> None:
    with http_receiver("wecom") as r:
        r.script.append(answer)  # type: ignore[arg-type]
        outcome = WeComGroupRobot().send(Outgoing(uuid4(), r.url, TEXT))
        assert not outcome.ok and outcome.permanent is permanent and outcome.reason


def test_a_text_longer_than_wecom_takes_is_cut_at_a_character() -> None:
    with http_receiver("wecom") as r:
        WeComGroupRobot().send(Outgoing(uuid4(), r.url, "通" * 1000))
        content = r.requests[0].body["text"]["content"]
        assert len(content.encode()) <= 2048 and set(content) == {"通"}


def test_the_sms_gateway_gets_number_text_id_and_key_and_its_receipt_is_kept() -> None:
    with http_receiver("sms") as r:
        mid = uuid4()
        outcome = SmsGateway(r.url, "secret-key").send(Outgoing(mid, "13812341234", TEXT))
        assert outcome.ok and not outcome.delivered and outcome.receipt == "gw-1"
        [seen] = r.requests
        assert seen.body == {"to": "13812341234", "text": TEXT, "message_id": str(mid)}
        assert seen.headers["Authorization"] == "Bearer secret-key"
        assert seen.headers[MESSAGE_ID_HEADER] == str(mid)


@pytest.mark.parametrize(("status", "permanent"), [(500, False), (502, False), (401, True),
                                                   (422, True)])
def test_the_sms_gateway_tells_a_retry_from_a_refusal(status: int, permanent: bool) -> None:
    with http_receiver("sms") as r:
        r.script.append(status)
        outcome = SmsGateway(r.url, "k").send(Outgoing(uuid4(), "13812341234", TEXT))
        assert not outcome.ok and outcome.permanent is permanent
        assert outcome.reason == f"HTTP {status}"


def test_a_gateway_that_is_down_is_retried() -> None:
    url = f"http://127.0.0.1:{free_port()}/sms"  # nothing listens there
    outcome = SmsGateway(url, "k", timeout=2).send(Outgoing(uuid4(), "13812341234", TEXT))
    assert not outcome.ok and not outcome.permanent and outcome.reason.startswith("network")


def test_an_email_reaches_the_smtp_server_with_the_message_id() -> None:
    with smtp_server() as (host, port, box):
        mid = uuid4()
        outcome = SmtpMail(host, port, "gridcore@712.example").send(
            Outgoing(mid, "duty@712.example", TEXT, subject="预警升级"))
        assert outcome.ok
        [mail] = box.mails
        assert mail["Message-ID"] == f"<{mid}@gridcore>" == outcome.receipt
        assert mail[MESSAGE_ID_HEADER] == str(mid)
        assert mail["To"] == "duty@712.example" and mail["Subject"] == "预警升级"
        assert mail.get_content().strip() == TEXT


@pytest.mark.parametrize(("answer", "permanent"), [("550 5.1.1 no such user", True),
                                                   ("451 4.3.0 try again later", False)])
def test_an_smtp_refusal_is_permanent_and_a_deferral_is_retried(answer: str,
                                                                permanent: bool) -> None:
    with smtp_server() as (host, port, box):
        box.rcpt_answer = answer
        outcome = SmtpMail(host, port, "gridcore@712.example").send(
            Outgoing(uuid4(), "nobody@712.example", TEXT))
        assert not outcome.ok and outcome.permanent is permanent and box.mails == []


def test_an_smtp_server_that_is_down_is_retried() -> None:
    outcome = SmtpMail("127.0.0.1", free_port(), "g@x", timeout=2).send(
        Outgoing(uuid4(), "a@x", TEXT))
    assert not outcome.ok and not outcome.permanent
