"""The API benchmark's baseline: plain Starlette routes that answer the benchmark's three
questions as JSON, in the very shape of the GraphQL answer (``{"data": ...}``), from the same
read-model functions the resolvers use (``projections.grid_rollup``, ``household_timeline``,
``queries``, the event store for staff), with the same token check
(``graphql_api.app.request_caller``) and the same jurisdiction rule (the caller's node in the
asked node's chain). Mounted next to ``/graphql`` in the same app only by the benchmark
(``create_app(..., extra_routes=...)``), so the two sides share the server, the event loop and
the database connections.

Each route is what a hand-written endpoint would do: a few queries, no DataLoader, dicts
straight to orjson.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from graphql_api.app import request_caller
from graphql_api.auth import Caller, TokenError
from graphql_api.grid.types import encode_cursor
from graphql_api.households.queries import canonical
from graphql_api.households.types import CURSOR_KIND
from graphql_api.scope import inside
from graphql_api.settings import ApiSettings
from gridcore import grid, status
from gridcore.errors import NotFound
from projections import grid_rollup, household_timeline, queries

PREFIX = "/plain"
PAGE = 50


def district_path(code: str) -> str:
    return f"{PREFIX}/district/{code}"


def page_path(code: str) -> str:
    return f"{PREFIX}/households/{code}"


def timeline_path(household_id: str) -> str:
    return f"{PREFIX}/timeline/{household_id}"


def _json(data: Any, status_code: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code, media_type="application/json")


def _visible(views: Any, caller: Caller | None, code: str) -> bool:
    return caller is not None and inside(caller.jurisdictions,
                                         grid_rollup.chains(views, [code])[code])


def _rollup(counts: dict[str, Any]) -> dict[str, Any]:
    return {
        "households": counts["households"], "residents": counts["residents"],
        "staff": counts["staff"],
        "byHealth": [{"health": h.name, "label": h.label, "count": counts["by_health"][h.value]}
                     for h in status.Health],
        "byMeasure": [{"measure": m.name, "label": m.label,
                       "count": counts["by_measure"][m.value]} for m in status.Measure],
        "byTag": [{"tag": t.name, "label": t.label, "count": counts["by_tag"][t.value]}
                  for t in status.TagKind],
    }


def _node(row: grid_rollup.NodeRow) -> dict[str, Any]:
    lv = grid.Level(row.level)
    return {"code": row.code, "name": row.name, "level": lv.name, "levelLabel": lv.label}


def district_answer(views: Any, caller: Caller | None, code: str) -> dict[str, Any]:
    """(a) ``gridNode(code){... rollup{...} children{... rollup{...}}}``."""
    row = grid_rollup.nodes(views, [code]).get(code) if _visible(views, caller, code) else None
    if row is None:
        return {"data": {"node": None}}
    kids = grid_rollup.children(views, [code])[code]
    counts = grid_rollup.rollups(views, [code, *(k.code for k in kids)])
    return {"data": {"node": {
        **_node(row), "rollup": _rollup(counts[code]),
        "children": [{**_node(k), "rollup": _rollup(counts[k.code])} for k in kids]}}}


def _household(row: grid_rollup.HouseholdRow, grids: dict[str, grid_rollup.NodeRow]
               ) -> dict[str, Any]:
    grid_row = grids.get(row.micro_grid)
    return {"id": row.household_id, "microGridCode": row.micro_grid,
            "microGrid": _node(grid_row) if grid_row else None,
            "residents": [{"id": r.resident_id, "health": status.Health(r.health).name,
                           "measure": status.Measure(r.measure).name,
                           "tags": [status.TagKind(t).name for t in r.tags]}
                          for r in row.residents]}


def _staff_members(app: Any, ids: Sequence[str]) -> list[Any]:
    out = []
    for sid in ids:
        try:
            out.append(app.staff(UUID(sid)))
        except (NotFound, ValueError):
            continue
    return out


async def page_answer(app: Any, views: Any, caller: Caller | None, code: str
                      ) -> dict[str, Any]:
    """(b) the first ``PAGE`` households of ``code`` with their micro-grid, and its staff."""
    if not _visible(views, caller, code) or caller is None:
        return {"data": {"node": None, "staff": []}}
    rows = queries.households_under(views, code, None, PAGE + 1)
    page = rows[:PAGE]
    grids = grid_rollup.nodes(views, sorted({r.micro_grid for r in page}))
    ids = [sid for sid, _ in grid_rollup.staff_under(views, code)]
    members = await asyncio.to_thread(_staff_members, app, ids)
    chains = grid_rollup.chains(views, sorted({c for m in members for c in m.jurisdictions}))
    staff = [{"id": str(m.id), "staffNo": m.staff_no, "role": m.role.name,
              "roleLabel": m.role.label, "jurisdictionCode": m.home,
              "available": m.available, "dailyCapacity": m.daily_capacity}
             for m in members
             if all(inside(caller.jurisdictions, chains[c]) for c in m.jurisdictions)]
    edges = [{"cursor": encode_cursor(CURSOR_KIND, r.household_id),
              "node": _household(r, grids)} for r in page]
    total = grid_rollup.rollups(views, [code])[code]["households"]
    return {"data": {"node": {"households": {
        "totalCount": total,
        "pageInfo": {"hasNextPage": len(rows) > PAGE,
                     "endCursor": edges[-1]["cursor"] if edges else None},
        "edges": edges}}, "staff": staff}}


def timeline_answer(views: Any, caller: Caller | None, raw_id: str) -> dict[str, Any]:
    """(c) ``household(id){id microGridCode timeline{...}}``."""
    hid = canonical(raw_id)
    row = grid_rollup.households(views, [hid]).get(hid) if hid else None
    if hid is None or row is None or not _visible(views, caller, row.micro_grid):
        return {"data": {"household": None}}
    return {"data": {"household": {
        "id": hid, "microGridCode": row.micro_grid,
        "timeline": [{"notificationId": t.notification_id, "at": t.at.isoformat(),
                      "kind": t.kind, "label": t.label, "actorId": t.actor,
                      "detail": t.detail}
                     for t in household_timeline.timelines(views, [hid])[hid]]}}}


def plain_routes(app: Any, views: Any, settings: ApiSettings) -> list[BaseRoute]:
    """The three routes under ``/plain``, answering as the GraphQL server would."""

    def route(path: str, answer: Callable[[Caller | None, str], Any]) -> Route:
        async def endpoint(request: Request) -> Response:
            try:
                caller = await request_caller(app, settings,
                                              request.headers.get("authorization"))
            except TokenError as e:
                return _json({"errors": [{"message": str(e)}]}, 401)
            found = answer(caller, request.path_params["key"])
            return _json(await found if asyncio.iscoroutine(found) else found)

        return Route(path, endpoint, methods=["GET"])

    return [Mount(PREFIX, routes=[
        route("/district/{key}", lambda c, k: district_answer(views, c, k)),
        route("/households/{key}", lambda c, k: page_answer(app, views, c, k)),
        route("/timeline/{key}", lambda c, k: timeline_answer(views, c, k)),
    ])]
