"""``gridcore serve`` (the GraphQL API under uvicorn, with the projections runner in process,
or, with ``GRIDCORE_PROJECTIONS=external``, waiting on the read models other processes run)
and ``gridcore token issue --staff ID`` (a signed bearer token for one staff member).

Both read the API settings from the environment (``graphql_api.settings``: mode, signing key)
and the store from ``GRIDCORE_STORE`` like every other command.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import typer

from adapters.bootstrap import EXTERNAL, PROJECTIONS, api_app, bootstrap
from gridcore.application import GridcoreApp
from gridcore.errors import GridcoreError
from gridcore.staff import StaffMember

if TYPE_CHECKING:
    from graphql_api.settings import ApiSettings

token_cli = typer.Typer(help="Bearer tokens for the API (访问令牌).", no_args_is_help=True)


@token_cli.callback()
def token_root() -> None:
    """Bearer tokens for the API (访问令牌)."""


def settings_or_exit() -> ApiSettings:
    from graphql_api.settings import SettingsError, api_settings

    try:
        return api_settings()
    except SettingsError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None


def find_staff(app: GridcoreApp, ref: str) -> StaffMember:
    """A staff member by id (UUID) or staff number (e.g. WH712-GW01)."""
    try:
        return app.staff(UUID(ref))
    except ValueError:
        return app.staff_by_no(ref)


@token_cli.command("issue")
def token_issue(
    staff: Annotated[str, typer.Option("--staff", help="staff number or id")],
    hours: Annotated[float | None, typer.Option(help="valid for this many hours "
                                                     "(default GRIDCORE_API_TOKEN_HOURS, 12)")]
    = None,
) -> None:
    """Print a signed token naming a staff member (send it as `Authorization: Bearer ...`)."""
    from graphql_api.auth import issue_token

    settings = settings_or_exit()
    try:
        member = find_staff(bootstrap().app, staff)
        member.require_active()  # a deactivated member's tokens are refused anyway
    except GridcoreError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(1) from None
    typer.echo(issue_token(settings.secret, member.id, hours or settings.token_hours))


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    projections: Annotated[str | None, typer.Option(
        help="process: keep the read models up in this process; external: processes of "
             "`gridcore projections run --group NAME` do, and the server waits on their "
             "positions in the database (default: GRIDCORE_PROJECTIONS, else process)")]
    = None,
) -> None:
    """Serve the GraphQL API (/graphql) and the dashboard (/) over the configured store,
    keeping the read models up to date in process, or reading those other processes keep
    (--projections external), GraphiQL in development mode."""
    run_server(settings_or_exit(), host, port, projections=projections)


def run_server(settings: ApiSettings, host: str, port: int,
               clock: Callable[[], datetime] | None = None,
               projections: str | None = None) -> None:
    """Serve on ``clock``, or else the one GRIDCORE_SCENARIO_CLOCK asks for (the wall
    clock when unset); the read models kept up in process, or by other processes
    (``projections``, else GRIDCORE_PROJECTIONS: ``process`` or ``external``)."""
    import uvicorn

    try:
        system = bootstrap(clock=clock, environ=None if projections is None else
                           {**os.environ, PROJECTIONS: projections})
        external = system.external_projections
        if external and system.env.get("PERSISTENCE_MODULE") == "adapters.memory_store":
            raise ValueError(f"{PROJECTIONS}={EXTERNAL} needs a store other processes share "
                             "(GRIDCORE_STORE=postgres or sqlite), not memory")
    except ValueError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    app, runner = system.app, system.runner()
    if getattr(app.clock, "scenario", False):
        typer.echo(f"scenario time (情景时间): {app.clock().isoformat(timespec='minutes')}, "
                   "advancing from there")
    if external:
        # Nothing runs here: the groups' processes keep the read models up, and a mutation
        # waits until their positions in the database reach its write (``Runner.wait``).
        typer.echo("read models (读模型) kept up by other processes (`gridcore projections run "
                   "--group NAME`): waiting on their positions in the database")
    else:
        typer.echo("catching up the read models (读模型)...")
        # Serve nothing older than the log as it is now. A stuck read model is tried once
        # more (a restart after fixing its cause heals it); one that fails again is
        # reported, at /healthz too, and the others serve.
        runner.retry()
    for s in runner.status():
        if s.stuck is not None:
            typer.echo(f"STUCK {s.stuck.describe()}", err=True)
    if not external:
        runner.start()
    url = f"http://{host}:{port}"
    typer.echo(f"gridcore API ({settings.mode.value}) on {url}/graphql · dashboard (态势感知) "
               f"{url}/" + ("" if settings.production else " · GraphiQL at /graphql"))
    try:
        uvicorn.run(api_app(app, runner, settings), host=host, port=port, log_level="info")
    finally:
        runner.stop()


DEMO_TOKENS = (("712-DIR", "社区主任 community official"), ("712-GW-1", "网格员 grid worker"))


def demo_tokens(settings: ApiSettings) -> list[tuple[str, str, str]]:
    """(staff number, who, token) for the demo's community official and a grid worker."""
    from graphql_api.auth import issue_token

    app = bootstrap().app
    try:
        return [(no, who, issue_token(settings.secret, find_staff(app, no).id,
                                      settings.token_hours)) for no, who in DEMO_TOKENS]
    finally:
        app.close()
