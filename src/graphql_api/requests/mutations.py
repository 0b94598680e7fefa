"""Mutations of residents' requests.

``fileRequest`` needs no token: a resident files with a phone, an address and the micro-grid
or community concerned, and gets the reference to follow it with (``myRequest``): a secret,
answered only to the filer (a staff member filing on a resident's behalf, e.g. a hotline call
for a registered household of their jurisdiction, reads it out to them), and never shown on
staff screens after. Anonymous filings are rate-limited per client address and per phone
(``graphql_api.ratelimit``): beyond the limit the answer is HTTP 429 with ``Retry-After`` and a
``RATE_LIMITED`` error. ``rateRequest`` and ``reopenRequest`` are the resident's, with the
reference only; ``assignRequest`` and ``resolveRequest`` are staff's (the level that owns the
request acts on it). Each returns a union of its success and typed problems; a command retried
with its ``clientId`` is applied once (a filing only for the same filer and the same filing).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from graphql_api.commands import caught_up
from graphql_api.context import Context
from graphql_api.enums import RequestCategory, RequestChannel, RequestGrade, RequestStatus
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    no_household,
    not_signed_in,
    problem_of,
)
from graphql_api.ids import canonical
from graphql_api.ratelimit import RateLimited
from graphql_api.requests.types import MyRequest
from graphql_api.scope import household_visible, node_visible
from gridcore import errors

RequestProblems = (NotFoundProblem | NotPermittedProblem | InvalidInputProblem
                   | ForbiddenTransitionProblem | ConflictProblem | CommandRejected)


@strawberry.input(description="A request: a resident gives phone, address and gridCode; a staff "
                              "member filing for a registered household gives householdId.")
class FileRequestInput:
    category: RequestCategory
    text: str = strawberry.field(description="What is asked (2-2000 characters).")
    grade: RequestGrade = RequestGrade.NORMAL  # type: ignore[attr-defined]
    channel: RequestChannel = RequestChannel.ONLINE  # type: ignore[attr-defined]
    phone: str | None = None
    address: str | None = strawberry.field(default=None, description="门牌 the address.")
    grid_code: str | None = strawberry.field(
        default=None, description="The micro-grid or community (社区) concerned.")
    household_id: strawberry.ID | None = strawberry.field(
        default=None, description="Staff only: a registered household of your jurisdiction.")
    resident_id: strawberry.ID | None = None
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this filing: the same filing retried "
                                  "with it returns the first; any other filing under it is "
                                  "refused.")


@strawberry.type(description="已受理 the request was filed; keep the reference to follow it.")
class RequestFiled:
    reference: str = strawberry.field(
        description="The secret to follow, rate and reopen the request with: shown only in "
                    "this answer (and to a retry of the same filing); give it to the resident.")
    number: str
    status: RequestStatus
    deadline: datetime | None


FileRequestResult = Annotated[RequestFiled | RequestProblems,
                              strawberry.union("FileRequestResult")]


@strawberry.type(description="The request's new state.")
class RequestUpdated:
    notification_id: int | None
    request: MyRequest


RequestResult = Annotated[RequestUpdated | RequestProblems, strawberry.union("RequestResult")]

ClientId = Annotated[str | None, strawberry.argument(
    description="The device's id for this command: a retry is applied once.")]


@strawberry.input(description="分类定级 re-categorise or regrade an open request (a new grade "
                              "moves its deadline).")
class ClassifyRequestInput:
    id: strawberry.ID
    category: RequestCategory | None = strawberry.field(
        default=None, description="Default: keep its category.")
    grade: RequestGrade | None = strawberry.field(default=None,
                                                  description="Default: keep its grade.")
    client_id: str | None = strawberry.field(
        default=None, description="The device's id for this command: a retry is applied once.")


def _bad(problem: str, remedy: str) -> InvalidInputProblem:
    return InvalidInputProblem(code=errors.InvalidInput.code, problem=problem, remedy=remedy)


@strawberry.type
class RequestMutation:
    @strawberry.mutation(description="诉求受理 file a request (no token needed for residents).")
    async def file_request(self, info: Info[Context, None],
                           input: FileRequestInput) -> FileRequestResult:
        ctx = info.context
        household = resident = None
        if ctx.caller is None and input.household_id is None and input.resident_id is None:
            _admit_anonymous_filing(ctx, input.phone)
        if input.household_id is not None or input.resident_id is not None:
            if ctx.caller is None:
                return NotPermittedProblem(
                    code=errors.NotPermitted.code,
                    problem="Only staff file for a registered household.",
                    remedy="File with your phone, address and the micro-grid or community "
                           "(gridCode) concerned.")
            hid = canonical(input.household_id or "")
            if hid is None or not await household_visible(ctx, hid):
                return no_household((input.household_id or "")[:60])
            household = UUID(hid)
            if input.resident_id is not None:
                rid = canonical(input.resident_id)
                if rid is None:
                    return _bad(f"{input.resident_id[:60]!r} is not a resident id.",
                                "Give the resident's id as the API returned it.")
                resident = UUID(rid)
        try:
            filing = await caught_up(ctx, lambda: ctx.app.file_request(
                input.channel.value, input.category.value, input.grade.value, input.text,
                household=household, resident=resident, phone=input.phone,
                address=input.address, grid=input.grid_code,
                by=ctx.caller.staff_id if ctx.caller else None, client_id=input.client_id))
            found = await asyncio.to_thread(ctx.app.request, filing.request_id)
        except errors.GridcoreError as e:
            return problem_of(e)
        return RequestFiled(reference=filing.reference, number=found.number,
                            status=RequestStatus(found.status.value), deadline=found.deadline)

    @strawberry.mutation(description="评价 rate the reply to your request from 1 to 5 (by its "
                                     "reference; no token needed), which closes it.")
    async def rate_request(self, info: Info[Context, None], reference: str,
                           rating: int, client_id: ClientId = None) -> RequestResult:
        ctx = info.context
        try:
            nid = await caught_up(ctx, lambda: ctx.app.rate_request(reference[:60], rating,
                                                               client_id=client_id))
            found = await asyncio.to_thread(ctx.app.request_by_reference, reference[:60])
        except errors.GridcoreError as e:
            return problem_of(e)
        return RequestUpdated(notification_id=nid, request=MyRequest.of(found, reference))

    @strawberry.mutation(description="重新办理 reopen your rated request with a reason (by its "
                                     "reference; no token needed): it awaits action again.")
    async def reopen_request(self, info: Info[Context, None], reference: str,
                             reason: str, client_id: ClientId = None) -> RequestResult:
        ctx = info.context
        try:
            nid = await caught_up(ctx, lambda: ctx.app.reopen_request(reference[:60], reason,
                                                                 client_id=client_id))
            found = await asyncio.to_thread(ctx.app.request_by_reference, reference[:60])
        except errors.GridcoreError as e:
            return problem_of(e)
        return RequestUpdated(notification_id=nid, request=MyRequest.of(found, reference))

    @strawberry.mutation(description="答复 answer a request your level owns; the resident then "
                                     "rates it.")
    async def resolve_request(self, info: Info[Context, None], id: strawberry.ID,
                              reply: str, client_id: ClientId = None) -> RequestResult:
        ctx = info.context
        return await _on_request(ctx, id, lambda app, rid, by: app.resolve_request(
            rid, by, reply, client_id=client_id))

    @strawberry.mutation(description="派单 give a request your level owns to an available "
                                     "colleague of that level or below.")
    async def assign_request(self, info: Info[Context, None], id: strawberry.ID,
                             staff_id: strawberry.ID,
                             client_id: ClientId = None) -> RequestResult:
        ctx = info.context
        sid = canonical(staff_id)
        jurisdiction = await ctx.loaders.staff_jurisdiction.load(sid) if sid else None
        if sid is None or jurisdiction is None or not await node_visible(ctx, jurisdiction):
            return NotFoundProblem(code=errors.NotFound.code,
                                   problem=f"No staff member {staff_id[:60]} in your "
                                           "jurisdiction.",
                                   remedy="Choose a colleague from `staff`.")
        return await _on_request(ctx, id, lambda app, rid, by: app.assign_request(
            rid, UUID(sid), client_id=client_id))

    @strawberry.mutation(description="分类定级 re-categorise or regrade an open request of your "
                                     "jurisdiction; a new grade moves its deadline.")
    async def classify_request(self, info: Info[Context, None],
                               input: ClassifyRequestInput) -> RequestResult:
        category = input.category.value if input.category is not None else None
        grade = input.grade.value if input.grade is not None else None
        return await _on_request(info.context, input.id, lambda app, rid, by: (
            app.classify_request(rid, category, grade, client_id=input.client_id)))


def _admit_anonymous_filing(ctx: Context, phone: str | None) -> None:
    """Count an anonymous filing against the limits per client address and per phone, or
    refuse it: HTTP 429 with ``Retry-After`` and a ``RATE_LIMITED`` error (nothing filed)."""
    if ctx.filing_limits is None:
        return
    try:
        ctx.filing_limits.admit(ctx.client_address, phone)
    except RateLimited as e:
        if ctx.response is not None:
            ctx.response.status_code = 429
            ctx.response.headers["Retry-After"] = str(e.retry_after)
        whom = "this phone number" if e.what == "phone" else "your address"
        raise GraphQLError(
            f"Too many requests were filed from {whom} without signing in; nothing was "
            f"filed. Try again in {e.retry_after} seconds, or call the community's hotline.",
            extensions={"code": "RATE_LIMITED", "retryAfter": e.retry_after}) from None


async def _on_request(ctx: Context, raw: str,
                      command: Callable[[Any, UUID, UUID], int | None]) -> Any:
    """Run a staff command on a request filed in the caller's jurisdiction (one filed
    elsewhere is answered as if it did not exist)."""
    if ctx.caller is None:
        return not_signed_in()
    rid = canonical(raw)
    missing = NotFoundProblem(code=errors.NotFound.code, problem=f"No request {raw[:60]}.",
                              remedy="Check the request id on the board (requests).")
    if rid is None:
        return missing
    try:
        found = await asyncio.to_thread(ctx.app.request, UUID(rid))
    except errors.NotFound:
        return missing
    if not await node_visible(ctx, found.community):
        return missing
    by = ctx.caller.staff_id
    try:
        nid = await caught_up(ctx, lambda: command(ctx.app, UUID(rid), by))
        found = await asyncio.to_thread(ctx.app.request, UUID(rid))
    except errors.GridcoreError as e:
        return problem_of(e)
    return RequestUpdated(notification_id=nid, request=MyRequest.of(found))
