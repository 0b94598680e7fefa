"""``gridcore notify run`` (the notifier and the sender), ``gridcore notify notice`` (公告),
``gridcore notify calls CODE`` (a micro-grid's call list) and ``gridcore notify called ID``.

The channels and the pacing come from ``GRIDCORE_NOTIFY_*`` variables
(``adapters.notify.settings``). ``run`` follows the store until stopped (Ctrl-C, SIGTERM);
``--once`` queues and sends what is due now, then exits (messages waiting for their slot or
a retry stay queued for the next run). Exit codes: 0 done, 2 refused (an unknown scope or
staff member, a command the actor may not give).
"""

from __future__ import annotations

import signal
import threading
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from gridcore.application import GridcoreApp
from gridcore.authority import Actor, System
from gridcore.errors import GridcoreError
from gridcore.notification import Category

notify_cli = typer.Typer(help="Notifications (通知与宣传): run the sender, post a notice (公告).",
                         no_args_is_help=True)
EXIT_OK, EXIT_REFUSED = 0, 2


def _actor(app: GridcoreApp, staff_no: str | None) -> Actor:
    return System.OPERATOR if staff_no is None else app.staff_by_no(staff_no).id


@notify_cli.command("run")
def run_cli(once: Annotated[bool, typer.Option(help="send what is due now, then exit")] = False,
            idle: Annotated[float, typer.Option(help="seconds between polls")] = 1.0) -> None:
    """Queue the messages new events call for and send those due, with retries."""
    from adapters.bootstrap import bootstrap
    from adapters.notify.outbox import run
    from adapters.notify.settings import NotifySettings

    settings = NotifySettings.from_environ()
    app = bootstrap().app
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        queued, tried = run(app, settings, once=once, idle=idle, stop=stop)
    except KeyboardInterrupt:
        queued = tried = 0
    finally:
        app.close()
    Console().print(f"queued 已排队 {queued} · attempts 发送尝试 {tried}")


@notify_cli.command("notice")
def notice(
    scope: Annotated[str, typer.Option("--scope", help="the node whose households are told")],
    text: Annotated[str, typer.Option("--text", help="the notice, no phone or ID numbers")],
    by: Annotated[str | None, typer.Option(
        "--by", help="the official posting it (staff number; default: the operator)")] = None,
    education: Annotated[bool, typer.Option(
        "--education", help="宣传教育 (residents may opt out) rather than 公告")] = False,
    reference: Annotated[str | None, typer.Option(
        "--reference", help="posts it once however often given")] = None,
    urgent: Annotated[bool, typer.Option(
        "--urgent", help="紧急公告: sent at once, in the quiet hours too")] = False,
) -> None:
    """Post a notice (公告) to every household of a scope: its chat groups' robots, a text
    to each household, a call by the worker for those without a smartphone."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        done = app.post_notice(scope, text, by=_actor(app, by), reference=reference,
                               category=Category.EDUCATION if education else Category.NOTICE,
                               urgent=urgent)
    except GridcoreError as e:
        console.print(f"[bold red]✗ refused (未发布):[/] {escape(str(e))}")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        app.close()
    console.print("posted 已发布; `gridcore notify run` sends it" if done is not None
                  else "already posted 已发布过 (same reference)")


@notify_cli.command("calls")
def calls(code: Annotated[str, typer.Argument(help="the micro-grid")]) -> None:
    """The micro-grid's call list (电话通知名单): residents to call instead of texting."""
    from adapters.bootstrap import bootstrap

    app = bootstrap().app
    try:
        table = Table(title=f"电话通知名单 call list {code}", title_justify="left")
        for column in ("message", "户 household", "通知 text"):
            table.add_column(column, overflow="fold")
        try:
            listed = app.call_list(code)
        except GridcoreError as e:
            Console().print(f"[bold red]✗ refused:[/] {escape(str(e))}")
            raise typer.Exit(EXIT_REFUSED) from None
        for m in listed:
            hid = m.recipient.household_id
            number = app.household(hid).household_no if hid is not None else ""
            table.add_row(str(m.id), number, escape(m.text))
        Console().print(table)
    finally:
        app.close()


@notify_cli.command("called")
def called(message: Annotated[str, typer.Argument(help="the message id of the call list")],
           by: Annotated[str, typer.Option("--by", help="the worker who called")]) -> None:
    """Record that the worker called the resident (the message is delivered)."""
    from adapters.bootstrap import bootstrap

    app = bootstrap().app
    try:
        m = app.message(UUID(message))
        assert m.recipient.household_id is not None
        app.record_call(m.id, m.recipient.household_id, by=_actor(app, by))
    except (GridcoreError, ValueError, AssertionError) as e:
        Console().print(f"[bold red]✗ refused:[/] {escape(str(e))}")
        raise typer.Exit(EXIT_REFUSED) from None
    finally:
        app.close()
