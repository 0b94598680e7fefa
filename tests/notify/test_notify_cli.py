"""``gridcore notify notice``, ``calls``, ``called`` and ``run --once`` through the command
line, configured by ``GRIDCORE_NOTIFY_*`` variables, against a local receiver."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.bootstrap import bootstrap
from adapters.cli import cli
from adapters.notify.outbox import Notifier
from gridcore.notification import Channel, MessageStatus, Template
from tests.notify.servers import http_receiver
from tests.notify.test_outbox import COMMUNITY, NOTICE, PHONES, Z1, build

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cli.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.delenv("GRIDCORE_SCENARIO_CLOCK", raising=False)
    monkeypatch.setenv("GRIDCORE_NOTIFY_QUIET_HOURS", "none")
    monkeypatch.setenv("COLUMNS", "250")
    system = bootstrap()
    build(system.app)
    system.close()
    return path


def test_a_notice_posted_on_the_command_line_is_sent_by_run_once_and_called_in(
        store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    refused = runner.invoke(cli, ["notify", "notice", "--scope", COMMUNITY, "--text",
                                  "咨询请拨13812341234", "--by", "OFF1"])
    assert refused.exit_code == 2 and "phone" in refused.output
    posted = runner.invoke(cli, ["notify", "notice", "--scope", COMMUNITY, "--text", NOTICE,
                                 "--by", "OFF1", "--reference", "N-1"])
    assert posted.exit_code == 0, posted.output
    again = runner.invoke(cli, ["notify", "notice", "--scope", COMMUNITY, "--text", NOTICE,
                                "--by", "OFF1", "--reference", "N-1"])
    assert "already posted" in again.output
    with http_receiver("any") as receiver:
        monkeypatch.setenv("GRIDCORE_NOTIFY_WECOM_URL", receiver.url)
        monkeypatch.setenv("GRIDCORE_NOTIFY_SMS_URL", receiver.url)
        monkeypatch.setenv("GRIDCORE_NOTIFY_SMS_KEY", "k")
        ran = runner.invoke(cli, ["notify", "run", "--once"])
        assert ran.exit_code == 0, ran.output
        assert "queued 已排队 6 · attempts 发送尝试 4" in ran.output
        assert sorted(r.body.get("to", "group") for r in receiver.requests) == sorted(
            ["group", "group", PHONES["H1"], PHONES["H4"]])
    listed = runner.invoke(cli, ["notify", "calls", Z1])
    assert listed.exit_code == 0 and "H2" in listed.output and "李四" not in listed.output
    system = bootstrap()
    [call] = system.app.call_list(Z1)
    system.close()
    done = runner.invoke(cli, ["notify", "called", str(call.id), "--by", "GW1"])
    assert done.exit_code == 0, done.output
    system = bootstrap()
    assert system.app.message(call.id).status is MessageStatus.DELIVERED
    assert call.channel is Channel.CALL_LIST
    system.close()


def test_an_urgent_notice_is_posted_and_urgent_education_is_refused(store: Path) -> None:
    loud = runner.invoke(cli, ["notify", "notice", "--scope", COMMUNITY, "--text", NOTICE,
                               "--by", "OFF1", "--urgent", "--education"])
    assert loud.exit_code == 2 and "urgent" in loud.output.lower(), loud.output
    posted = runner.invoke(cli, ["notify", "notice", "--scope", COMMUNITY, "--text", NOTICE,
                                 "--by", "OFF1", "--urgent", "--reference", "U-1"])
    assert posted.exit_code == 0, posted.output
    system = bootstrap()
    try:
        Notifier(system.app).catch_up()
        called = system.app.call_list(Z1)
    finally:
        system.close()
    assert called and all(m.template is Template.URGENT_NOTICE for m in called)


def test_the_call_list_of_a_community_is_refused_saying_to_give_a_micro_grid(store: Path) -> None:
    out = runner.invoke(cli, ["notify", "calls", COMMUNITY])
    assert out.exit_code == 2 and "not a micro-grid" in out.output, out.output
