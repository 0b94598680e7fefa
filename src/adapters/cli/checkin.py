"""``gridcore checkin FILE --micro-grid CODE [--campaign ID]``: an exported chat of a micro-grid
group (群内自报) taken in as the console's operator (``System.OPERATOR``), through the same
intake as the API's ``submitChatMessages`` (``adapters.chat_intake``).

The file: JSON lines (``{"message_id", "sender", "sent_at", "text"}`` a line) or CSV with the
header ``message_id,sender,sent_at,text``; ``sent_at`` an ISO time with its offset. Every
message is recorded as a chat visit, held for the micro-grid's worker (with the reason,
quoting the words not understood) or set aside as no report; a message taken in before is a
duplicate and writes nothing; one the store cannot hold as given (a time outside the policy's
window) is rejected with the reason and nothing written. Exit codes: 0 every message recorded,
set aside or a duplicate, 1 some held for review or rejected, 2 an unreadable file or a
refused batch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape

from adapters.chat_intake import Fate, read_export, take_in
from gridcore.authority import System
from gridcore.errors import GridcoreError

EXIT_OK, EXIT_REVIEW, EXIT_UNREADABLE = 0, 1, 2


def checkin(
    file: Annotated[Path, typer.Argument(
        help="The exported chat: JSON lines or CSV with message_id,sender,sent_at,text.")],
    micro_grid: Annotated[str, typer.Option("--micro-grid", help="The micro-grid's code.")],
    campaign: Annotated[str | None, typer.Option(
        "--campaign", help="The campaign id (default: the open one of each household).")
    ] = None,
) -> None:
    """Take in a micro-grid chat group's check-ins (群内自报) from an export."""
    from adapters.bootstrap import bootstrap

    console = Console()
    try:
        messages = read_export(file.read_bytes())
        cid = UUID(campaign) if campaign else None
    except OSError as e:
        console.print(f"[bold red]✗ cannot read {escape(str(file))} (无法读取):[/] "
                      f"{escape(e.strerror or str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    except (ValueError, GridcoreError) as e:  # a bad row, a bad campaign id
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_UNREADABLE) from None
    app = bootstrap().app
    try:
        out = take_in(app, micro_grid, messages, by=System.OPERATOR, campaign=cid)
    except GridcoreError as e:
        console.print(f"[bold red]✗ {escape(str(e))}[/]")
        raise typer.Exit(EXIT_UNREADABLE) from None
    finally:
        app.close()
    console.print(f"{escape(str(file))}: {len(messages)} messages — recorded (已记录) "
                  f"{out.recorded}, review (待核实) {out.review}, ignored (非自报) "
                  f"{out.ignored}, duplicates (重复) {out.duplicates}, rejected (未收) "
                  f"{out.rejected}"
                  + (f", monitoring only (健康监测) {out.monitored}" if out.monitored else ""))
    for o in out.outcomes:
        if o.fate in (Fate.REVIEW, Fate.IGNORED, Fate.REJECTED):
            console.print(f"  {escape(o.message_id)} {o.fate.value}: {escape(o.reason)}",
                          soft_wrap=True)
    raise typer.Exit(EXIT_REVIEW if out.review or out.rejected else EXIT_OK)
