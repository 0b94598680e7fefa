"""The ASGI app: ``/graphql`` (strawberry over Starlette) and ``/healthz``.

``create_app(app, runner)`` serves a ``GridcoreApp`` whose read models ``runner`` (a
``projections.runner.Runner``, started by the caller) keeps up to date.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from graphql_api.auth import Caller, TokenError, bearer, read_token
from graphql_api.context import Context
from graphql_api.schema import build_schema
from graphql_api.settings import ApiSettings, api_settings
from graphql_api.web import mount_dashboard
from gridcore.errors import NotFound


class GridcoreGraphQL(GraphQL[Context, None]):
    def __init__(self, app: Any, runner: Any, settings: ApiSettings) -> None:
        super().__init__(
            build_schema(settings),
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=not settings.production,
        )
        self.gridcore, self.runner, self.settings = app, runner, settings

    def _caller(self, staff_id: UUID) -> Caller:
        try:
            member = self.gridcore.staff(staff_id)
        except NotFound:
            raise TokenError("The token names no staff member; ask for a new one.") from None
        return Caller(staff_id=member.id, role=member.role, jurisdiction=member.jurisdiction)

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
            token = bearer(request.headers.get("authorization"))
            caller = None
            if token is not None:
                staff = read_token(self.settings.secret, token)
                # The member's role and jurisdiction now (an event-store read: off the loop).
                caller = await asyncio.to_thread(self._caller, staff)
        except TokenError as e:
            if not isinstance(request, WebSocket):
                raise HTTPException(401, str(e)) from None
            # a socket is refused at its connection_init (on_ws_connect), with a close code
            return Context(app=self.gridcore, runner=self.runner, views=self.runner.views,
                           settings=self.settings, caller=None, token_problem=str(e))
        return Context(app=self.gridcore, runner=self.runner, views=self.runner.views,
                       settings=self.settings, caller=caller)


def create_app(app: Any, runner: Any, settings: ApiSettings | None = None) -> Starlette:
    settings = settings or api_settings()
    graphql = GridcoreGraphQL(app, runner, settings)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True, "mode": settings.mode.value})

    return mount_dashboard(Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
    ]))
