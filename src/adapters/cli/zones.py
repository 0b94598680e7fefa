"""``gridcore zones list COMMUNITY [--as-of TIME]``, ``gridcore zones draw COMMUNITY --case
CASE ... [--point LNG,LAT ...] [--crs] --reason ... --by STAFF_NO [--apply]`` and ``gridcore
zones lift ZONING_ID --reason ... --by STAFF_NO``: risk zoning around a case (三区划分, see
``gridcore.zoning_commands``): the sealed (封控区), controlled (管控区) and precaution (防范区)
zones of a community in force now or at a past time, drawing them around cases (each by its
number or id) and/or points, with their measures applied at once when asked, and lifting them.

``draw`` and ``lift`` act as the staff member ``--by`` names (an official of the community's
street or above, ``gridcore.authority``). The lists show counts and ids only, never a name or
an address. Exit codes: 0 done, 2 refused (an unknown community, case, zoning or staff member,
a command the staff member may not give, a malformed point or time): the problem and what
would be right are printed, and nothing was written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.cli.tracing import BEIJING
from gridcore.application import GridcoreApp
from gridcore.errors import GridcoreError, InvalidInput
from gridcore.geo import Crs, Point
from gridcore.tracing import case_id
from gridcore.zoning import RiskZoning, Zone

zones_cli = typer.Typer(help="Risk zoning (三区划分): list, draw and lift the sealed, controlled "
                             "and precaution zones around cases.", no_args_is_help=True)

EXIT_OK, EXIT_REFUSED = 0, 2
IN_FORCE = datetime.max.replace(tzinfo=UTC)
"""The time the zonings in force now are read at: every one drawn and not lifted."""


def _refused(console: Console, e: GridcoreError, what: str = "refused (未执行)") -> typer.Exit:
    console.print(f"[bold red]✗ {what}:[/] {escape(e.problem)}")
    if e.remedy:
        console.print(f"  [yellow]→ {escape(e.remedy)}[/]")
    return typer.Exit(EXIT_REFUSED)


def _when(value: datetime) -> str:
    return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")


def _staff_no(app: GridcoreApp, sid: UUID | None) -> str:
    if sid is None:
        return "—"
    try:
        return app.staff(sid).staff_no
    except GridcoreError:
        return "—"


def _case(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        return case_id(raw.strip())


def _point(raw: str, crs: Crs) -> Point:
    try:
        lng, lat = (float(v) for v in raw.split(","))
    except ValueError:
        raise InvalidInput(f"The point {raw[:40]!r} is not LNG,LAT.",
                           "Give it as longitude,latitude in decimal degrees, e.g. "
                           "114.301,30.601.") from None
    return Point.given(lng, lat, crs)


def _as_of(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        raise InvalidInput(f"The time {raw[:40]!r} is not an ISO time with a time zone.",
                           "Give e.g. 2020-02-17T08:00:00+08:00.")
    return when


def zonings_table(app: GridcoreApp, title: str, zonings: list[RiskZoning]) -> Table:
    """The zonings with their zones' household counts (ids and counts only)."""
    table = Table(title=title, title_justify="left")
    for column in ("#", "id", "划定 drawn", "by", "理由 reason", "封控区", "管控区", "防范区",
                   "未定位 unlocated", "解除 lift due", "status"):
        table.add_column(column, overflow="fold")
    now = app.clock()
    policy = app.policy_at(now)
    for z in zonings:
        status = ("in force 生效中" if z.lifted_at is None else
                  f"lifted 已解除 {_when(z.lifted_at)}" + (" (rule)" if z.lifted_by_rule else ""))
        table.add_row(str(z.number), str(z.id), _when(z.created_on),
                      _staff_no(app, z.drawn_by), escape(z.reason),
                      *(str(len(z.households.get(zone, ()))) for zone in Zone),
                      str(sum(len(v) for v in z.unlocated.values())),
                      _when(z.lift_due(policy)), status)
    return table


@zones_cli.command("list")
def list_zones(
    community: Annotated[str, typer.Argument(help="The community (社区) code.")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The zonings in force at this time (ISO, with a time zone); default "
                        "now.")] = None,
) -> None:
    """The community's zonings in force (now or at --as-of), with each zone's households."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        given = _as_of(as_of)
        when = given or app.clock()
        # now: those not lifted (one drawn at this very moment included)
        found = app.risk_zones_at(community.strip(), given or IN_FORCE)
        console.print(zonings_table(app, f"三区划分 risk zones of {escape(community)} at "
                                         f"{_when(when)}", found))
        if not found:
            console.print("no zoning in force 无生效的三区划分")
    except GridcoreError as e:
        raise _refused(console, e) from None
    finally:
        app.close()


@zones_cli.command("draw")
def draw(
    community: Annotated[str, typer.Argument(help="The community (社区) code.")],
    reason: Annotated[str, typer.Option("--reason", help="Why the zones are drawn.")],
    by: Annotated[str, typer.Option(
        "--by", help="The official drawing them (staff number; the community's street or "
                     "above).")],
    cases: Annotated[list[str] | None, typer.Option(
        "--case", help="A case (its number or id) whose index's located address the zones "
                       "are drawn around; repeat for several.")] = None,
    points: Annotated[list[str] | None, typer.Option(
        "--point", help="An address given directly as LNG,LAT (in --crs); repeat for "
                        "several.")] = None,
    crs: Annotated[Crs, typer.Option("--crs", help="What --point is given in.")] = Crs.WGS84,
    apply: Annotated[bool, typer.Option(
        "--apply", help="Impose each zone's measure on its residents at once.")] = False,
) -> None:
    """三区划分 draw the sealed, controlled and precaution zones around cases and/or points."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        actor = app.staff_by_no(by).id
        located = [_point(p, crs) for p in points or []]
        report = app.draw_risk_zones(community.strip(), [_case(c) for c in cases or []],
                                     located, reason, by=actor)
        z = app.risk_zoning(report.zoning_id)
        console.print(f"[green]✓ drawn 已划定[/] zoning {z.number} of {escape(z.community)}: "
                      f"{z.id}")
        console.print(zonings_table(app, "三区划分 risk zones", [z]))
        if report.note:
            console.print(f"[yellow]{escape(report.note)}[/]")
            for grid, hids in sorted(report.unlocated.items()):
                console.print(f"  {escape(grid)}: {len(hids)}")
    except GridcoreError as e:
        app.close()
        raise _refused(console, e) from None
    try:
        if apply:
            m = app.apply_zone_measures(report.zoning_id, by=actor)
            console.print(f"[green]✓ measures applied 已落实管控措施[/]: imposed {m.imposed}, "
                          f"left as they were {m.left}, refused {m.refused}")
            for problem in m.problems:
                console.print(f"  [yellow]{escape(problem)}[/]")
    except GridcoreError as e:
        raise _refused(console, e, "measures refused (措施未落实; the zones stand)") from None
    finally:
        app.close()


@zones_cli.command("lift")
def lift(
    zoning: Annotated[str, typer.Argument(help="The zoning's id (`gridcore zones list`).")],
    reason: Annotated[str, typer.Option("--reason", help="Why they are lifted.")],
    by: Annotated[str, typer.Option("--by", help="The official lifting them (staff "
                                                 "number).")],
) -> None:
    """解除 lift the zones before the rule would; the residents' measures end through the
    measure rules."""
    from adapters.bootstrap import bootstrap

    console = Console()
    app = bootstrap().app
    try:
        try:
            zid = UUID(zoning)
        except ValueError:
            raise InvalidInput(f"{zoning[:60]!r} is not a zoning id.",
                               "Give the id `gridcore zones list` shows.") from None
        app.lift_risk_zones(zid, reason, by=app.staff_by_no(by).id)
        console.print(f"[green]✓ lifted 已解除[/] {zid}")
    except GridcoreError as e:
        raise _refused(console, e) from None
    finally:
        app.close()
