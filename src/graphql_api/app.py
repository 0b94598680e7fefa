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
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError

from graphql_api.auth import Caller, TokenError, bearer, read_token, staff_caller
from graphql_api.context import ChatIntake, Context
from graphql_api.execution import with_checked_documents
from graphql_api.exports import export_routes
from graphql_api.limits import STRAWBERRY_REFUSALS, BodyLimit, Refused, refusal
from graphql_api.open311 import open311_routes
from graphql_api.public_page import public_routes
from graphql_api.ratelimit import FilingLimits
from graphql_api.redact import without_values
from graphql_api.schema import build_schema
from graphql_api.settings import ApiSettings, api_settings
from graphql_api.sms_receipts import receipt_route
from graphql_api.web import mount_dashboard, tile_origin


async def request_caller(gridcore: Any, settings: ApiSettings,
                         header: str | None) -> Caller | None:
    """The caller of an ``Authorization`` header (None without one); ``TokenError`` for a bad
    token."""
    token = bearer(header)
    if token is None:
        return None
    staff = read_token(settings.secret, token)
    return await asyncio.to_thread(staff_caller, gridcore, staff)


def bad_json(error: ValueError) -> str:
    """What is wrong with a body that is not JSON (never the body itself)."""
    text = str(error).lower()
    if "depth" in text or "recursion" in text:
        why = "it is nested more than 1,024 levels deep"
    elif "utf-8" in text or "surrogate" in text:
        why = "it is not valid UTF-8"
    elif "number" in text or "integer" in text:
        why = "it holds a number out of range"
    else:
        why = "it is not valid JSON"
    return f"The request body could not be read: {why}. Send a JSON object in UTF-8."


class GridcoreGraphQL(GraphQL[Context, None]):
    def __init__(self, app: Any, runner: Any, settings: ApiSettings,
                 chat_intake: ChatIntake | None = None) -> None:
        super().__init__(
            with_checked_documents(build_schema(settings), settings.max_document_chars,
                                   settings.document_cache_bytes),
            graphql_ide=None if settings.production else "graphiql",
            allow_queries_via_get=not settings.production,
        )
        self.gridcore, self.runner, self.settings = app, runner, settings
        self.chat_intake = chat_intake
        self.filing_limits = FilingLimits(settings.file_limit_per_address,
                                          settings.file_limit_per_phone)

    def _caller(self, staff_id: UUID) -> Caller:
        return staff_caller(self.gridcore, staff_id)

    def encode_json(self, data: object) -> str:
        """orjson (several times faster than ``json.dumps`` on a page of results); text, not
        bytes: strawberry sends bytes over a websocket as binary frames, which
        graphql-transport-ws does not allow."""
        return orjson.dumps(data).decode()

    def decode_json(self, data: str | bytes) -> object:
        """orjson: strict UTF-8 and at most 1,024 levels deep (the standard library's decoder
        answered invalid UTF-8, 5,000 levels or a 5,000-digit number with a 500)."""
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """A request body (or a GET request's ``variables``): a JSON object (a list is a
        batch, which strawberry refuses with its own message); anything else is a 400 that
        says what is wrong."""
        try:
            value = self.decode_json(data)
        except orjson.JSONDecodeError as e:
            raise Refused(400, bad_json(e), "BAD_JSON") from None
        if not isinstance(value, dict | list):
            raise Refused(400, "The request body must be a JSON object with a `query` string "
                               "(and optional `variables` and `operationName`).", "BAD_REQUEST")
        return value

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """An HTTP request refused before GraphQL runs (a malformed body, a bad token,
        strawberry's own refusals) is answered like every 4xx of the API, as JSON with the
        error's message and code (``graphql_api.limits.refusal``); strawberry answers plain
        text."""
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as e:
            status, body = refusal(e, request.headers.get("content-type"))
            response = Response(body, status_code=status, media_type="application/json",
                                headers={"Allow": "GET, POST"} if status == 405 else None)
        await response(scope, receive, send)

    async def execute_single(self, *args: Any, **kwargs: Any) -> Any:
        """strawberry's refusals before execution (an unknown ``operationName``), in
        production without the submitted name (``graphql_api.redact``)."""
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as e:
            if not self.settings.production or e.reason in STRAWBERRY_REFUSALS:
                raise  # (those hold no submitted value)
            raise HTTPException(e.status_code, without_values(e.reason)) from None

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
                raise Refused(e.status, str(e), e.code) from None
            # a socket is refused at its connection_init (on_ws_connect), with a close code
            return Context(app=self.gridcore, runner=self.runner, views=self.runner.views,
                           settings=self.settings, caller=None, token_problem=str(e))
        socket = isinstance(request, WebSocket)
        return Context(app=self.gridcore, runner=self.runner, views=self.runner.views,
                       settings=self.settings, caller=caller,
                       socket=request if socket else None,
                       client_address=request.client.host if request.client else None,
                       response=None if socket else response,
                       filing_limits=self.filing_limits, chat_intake=self.chat_intake)


def create_app(app: Any, runner: Any, settings: ApiSettings | None = None,
               extra_routes: Sequence[BaseRoute] = (), *,
               chat_intake: ChatIntake | None = None) -> Starlette:
    """The API (and dashboard) app; ``extra_routes`` are matched before the dashboard (the
    API benchmark mounts its plain baseline routes there). ``chat_intake`` reads a chat
    group's messages (``submitChatMessages``; without it the server takes none): the
    composition root passes the adapters' (``adapters.bootstrap.api_app``)."""
    settings = settings or api_settings()
    graphql = GridcoreGraphQL(app, runner, settings, chat_intake)

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
        Route("/graphql", graphql),  # other methods: a JSON 405 from GridcoreGraphQL
        WebSocketRoute("/graphql", graphql),
        Route("/healthz", healthz, methods=["GET"]),
        receipt_route(app, settings),  # POST /notify/sms/receipt (graphql_api.sms_receipts)
        *public_routes(app, runner),  # GET /public/{code}[.json] (graphql_api.public_page)
        *open311_routes(app, runner),  # /open311/v2/... GeoReport v2 (graphql_api.open311)
        # GET /export/{kind}.{csv|xlsx} line lists, streamed (graphql_api.exports)
        *export_routes(app, runner, settings.audit_file, settings.secret),
        *extra_routes,
    ], middleware=[Middleware(BodyLimit, limit=settings.max_body_bytes,
                              staff_limit=settings.max_staff_body_bytes,
                              secret=settings.secret)]),
        image_sources=[o for o in [tile_origin(settings.map_tiles)] if o])
