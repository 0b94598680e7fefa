"""Queries of residents' requests: the board (staff, within their jurisdiction), one request
by its secret reference (whoever holds it, no token needed) and the public statistics (no
token needed)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import RequestGrade
from graphql_api.relay import page_size
from graphql_api.requests.types import MyRequest, RequestStatistics, RequestSummary
from graphql_api.scope import ScopeArg, scope_of
from gridcore import errors
from projections import requests_board


@strawberry.type
class RequestQuery:
    @strawberry.field(description="诉求 requests filed in the communities of a subtree that await "
                                  "action: overdue-at-the-city first, then by deadline.")
    async def requests(self, info: Info[Context, None],
                       scope: ScopeArg = None,
                       grade: RequestGrade | None = None, escalated_only: bool = False,
                       first: int = 50,
                       answered: Annotated[bool, strawberry.argument(
                           description="also the requests resolved or closed (with their "
                                       "reply)")] = False) -> list[RequestSummary]:
        ctx = info.context
        nodes = await scope_of(ctx, scope)
        if nodes is None:
            return []
        first = page_size(first, ctx.settings.page_max, "requests")
        if escalated_only:
            rows = requests_board.escalated(ctx.views, not answered, nodes)
            rows = [r for r in rows if grade is None or r.grade.value == grade.value]
        else:
            rows = requests_board.board(ctx.views, grade=grade.value if grade else None,
                                        scope_code=nodes, awaiting_only=not answered)
        return [RequestSummary.from_row(r) for r in rows[:first]]

    @strawberry.field(description="我的诉求 a request followed with the reference given at filing "
                                  "(no token needed); null when no request has it.")
    async def my_request(self, info: Info[Context, None], reference: str) -> MyRequest | None:
        app = info.context.app
        try:
            found = await asyncio.to_thread(app.request_by_reference, reference[:60])
        except errors.GridcoreError:
            return None
        return MyRequest.of(found, reference)

    @strawberry.field(description="督办 public statistics of the requests filed under a community "
                                  "or a level above it (no token needed); null for an unknown "
                                  "node or a micro-grid.")
    def request_statistics(self, info: Info[Context, None],
                           scope: str) -> RequestStatistics | None:
        try:
            stats = requests_board.public_statistics(info.context.views, scope[:40])
        except errors.GridcoreError:
            return None
        return RequestStatistics.of(scope, stats)
