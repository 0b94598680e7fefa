"""The ASGI app: ``/graphql`` (strawberry over Starlette) and ``/healthz``.

``create_app(app, runner)`` serves a ``GridcoreApp`` whose read models ``runner`` (a
``projections.runner.Runner``, started by the caller) keeps up to date.

What keeps a request cheap (the API benchmark, ``simulations/benchmarks/api.py``, measures
it against plain routes): each distinct query text is parsed and validated once
(``CheckedDocuments``), leaf fields without a resolver of their own skip the general field
machinery (``LeanExecution``), answers are encoded with orjson, and a request's DataLoaders
are made only when used (``graphql_api.context``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from graphql_api.auth import Caller, TokenError, bearer, read_token, staff_caller
from graphql_api.context import Context
from graphql_api.execution import with_checked_documents
from graphql_api.ratelimit import FilingLimits
from graphql_api.schema import build_schema
from graphql_api.settings import ApiSettings, api_settings
from graphql_api.web import mount_dashboard


async def request_caller(gridcore: Any, settings: ApiSettings,
                         header: str | None) -> Caller | None:
    """The caller of an ``Authorization`` header (None without one); ``TokenError`` for a bad
    token."""
    token = bearer(header)
    if token is None:
        return None
    staff = read_token(settings.secret, token)
    return await asyncio.to_thread(staff_caller, gridcore, staff)


class GridcoreGraphQL(GraphQL[Context, None]):
    def __init__(self, app: Any, runner: Any, settings: ApiSettings) -> None:
        super().__init__(
            with_checked_documents(build_schema(settings)),
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=not settings.production,
        )
        self.gridcore, self.runner, self.settings = app, runner, settings
        self.filing_limits = FilingLimits(settings.file_limit_per_address,
                                          settings.file_limit_per_phone)

    def _caller(self, staff_id: UUID) -> Caller:
        return staff_caller(self.gridcore, staff_id)

    def encode_json(self, data: object) -> str:
        """orjson (several times faster than ``json.dumps`` on a page of results); text, not
        bytes: strawberry sends bytes over a websocket as binary frames, which
        graphql-transport-ws does not allow."""
        return orjson.dumps(data).decode()

    async def on_ws_connect(self, context: Context) -> None:
        """A socket's token may come in its ``connection_init`` payload (browsers cannot set
        headers on a websocket): ``{"Authorization": "Bearer <token>"}``. A bad one closes
        the socket (4403)."""
        if context.token_problem is not None:  # a bad token in the upgrade's header
            raise ConnectionRejectionError()
        params = context.connection_params or {}
        raw = params.get("Authorization") or params.get("authorization")
        if raw is None:
            return
        try:
            token = bearer(str(raw))
            if token is not None:
                staff = read_token(self.settings.secret, token)
                context.caller = await asyncio.to_thread(self._caller, staff)
        except TokenError:
            raise ConnectionRejectionError() from None

    async def get_context(self, request: Any, response: Any) -> Context:
        try:
            caller = await request_caller(self.gridcore, self.settings,
                                          request.headers.get("authorization"))
        except TokenError as e:
            if not isinstance(request, WebSocket):
                raise HTTPException(e.status, str(e)) from None
            # a socket is refused at its connection_init (on_ws_connect), with a close code
            return Context(app=self.gridcore, runner=self.runner, views=self.runner.views,
                           settings=self.settings, caller=None, token_problem=str(e))
        socket = isinstance(request, WebSocket)
        return Context(app=self.gridcore, runner=self.runner, views=self.runner.views,
                       settings=self.settings, caller=caller,
                       socket=request if socket else None,
                       client_address=request.client.host if request.client else None,
                       response=None if socket else response,
                       filing_limits=self.filing_limits)


def create_app(app: Any, runner: Any, settings: ApiSettings | None = None,
               extra_routes: Sequence[BaseRoute] = ()) -> Starlette:
    """The API (and dashboard) app; ``extra_routes`` are matched before the dashboard (the
    API benchmark mounts its plain baseline routes there)."""
    settings = settings or api_settings()
    graphql = GridcoreGraphQL(app, runner, settings)

    async def healthz(request: Request) -> Response:
        """Alive (200 whatever the read models' state) and each read model's position, lag
        and, when stuck, its event and error (the error's type only in production);
        ``"status": "degraded"`` while one is stuck."""
        try:
            models = await asyncio.to_thread(runner.health, not settings.production)
        except Exception:  # the database away: alive, not healthy
            models = {"status": "degraded", "projections": None}
        return JSONResponse({"ok": True, "mode": settings.mode.value, **models})

    return mount_dashboard(Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        *extra_routes,
    ]))
