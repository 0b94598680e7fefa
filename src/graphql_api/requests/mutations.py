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

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import RequestCategory, RequestChannel, RequestGrade, RequestStatus
from graphql_api.ids import canonical
from graphql_api.pipeline import Call, ClientId, Reach, mutation, run_mutation
from graphql_api.problems import (
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    invalid,
    no_household,
    not_found,
    result,
)
from graphql_api.ratelimit import RateLimited
from graphql_api.reach import located, staff, stored
from graphql_api.requests.types import MyRequest
from graphql_api.scope import household_visible
from gridcore import errors


class _OnRequest(Protocol):
    """An input naming a request (what ``_on_request``'s default reach reads)."""

    @property
    def id(self) -> str: ...


In = TypeVar("In")
OnRequest = TypeVar("OnRequest", bound=_OnRequest)


@strawberry.input(description="A request: a resident gives phone, address and gridCode; a staff "
                              "member filing for a registered household gives householdId.")
class FileRequestInput:
    category: RequestCategory
    text: str = strawberry.field(description="What is asked (2-2000 characters).")
    grade: RequestGrade = RequestGrade.NORMAL
    channel: RequestChannel = RequestChannel.ONLINE
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


if TYPE_CHECKING:  # mypy checks resolvers against this; the schema gets the union below
    FileRequestResult = RequestFiled | Problem
else:
    FileRequestResult = result("FileRequestResult", RequestFiled)


@strawberry.type(description="The request's new state.")
class RequestUpdated:
    notification_id: int | None
    request: MyRequest


RequestResult = result("RequestResult", RequestUpdated)


@strawberry.input(description="分类定级 re-categorise or regrade an open request (a new grade "
                              "moves its deadline).")
class ClassifyRequestInput:
    id: strawberry.ID
    category: RequestCategory | None = strawberry.field(
        default=None, description="Default: keep its category.")
    grade: RequestGrade | None = strawberry.field(default=None,
                                                  description="Default: keep its grade.")
    client_id: ClientId = None


@strawberry.input(description="评价 your rating of the reply (by the request's reference).")
class RateRequestInput:
    reference: str
    rating: int
    client_id: ClientId = None


@strawberry.input(description="重新办理 why you reopen your rated request (by its reference).")
class ReopenRequestInput:
    reference: str
    reason: str
    client_id: ClientId = None


@strawberry.input(description="答复 the reply to a request your level owns.")
class ResolveRequestInput:
    id: strawberry.ID
    reply: str
    client_id: ClientId = None


@strawberry.input(description="派单 the colleague to give a request to.")
class AssignRequestInput:
    id: strawberry.ID
    staff_id: strawberry.ID
    client_id: ClientId = None


def request(raw: str) -> Reach:
    """A request filed in the caller's jurisdiction (its id)."""
    return located(raw, not_found(f"No request {raw[:60]}.",
                                  "Check the request id on the board (requests)."),
                   lambda ctx, k: stored(ctx.app.request, UUID(k), "community"))


def _colleague(raw: str) -> Reach:
    def missing(value: str) -> NotFoundProblem:
        return not_found(f"No staff member {value[:60]} in your jurisdiction.",
                         "Choose a colleague from `staff`.")
    return staff(raw, missing)


def _registered(input: FileRequestInput) -> Reach:
    """The registered household (and resident) a staff member files for: (None, None) for a
    resident's own filing."""
    async def reach(ctx: Context) -> tuple[UUID | None, UUID | None] | Problem:
        if input.channel is RequestChannel.OPEN311:
            return invalid("The channel OPEN311 (系统对接) is for client systems filing through "
                           "the Open311 endpoint, not through GraphQL.",
                           "File with the channel you were reached through (ONLINE, HOTLINE "
                           "or CHAT); client systems POST to /open311/v2/requests.json.")
        if input.household_id is None and input.resident_id is None:
            return None, None
        if ctx.caller is None:
            return NotPermittedProblem(
                code=errors.NotPermitted.code,
                problem="Only staff file for a registered household.",
                remedy="File with your phone, address and the micro-grid or community "
                       "(gridCode) concerned.")
        hid = canonical(input.household_id or "")
        if hid is None or not await household_visible(ctx, hid):
            return no_household((input.household_id or "")[:60])
        if input.resident_id is None:
            return UUID(hid), None
        rid = canonical(input.resident_id)
        if rid is None:
            return invalid(f"{input.resident_id[:60]!r} is not a resident id.",
                           "Give the resident's id as the API returned it.")
        return UUID(hid), UUID(rid)
    return reach


def _file(input: FileRequestInput, c: Call) -> tuple[Any, Any]:
    household, resident = c.target
    filing = c.app.file_request(
        input.channel.value, input.category.value, input.grade.value, input.text,
        household=household, resident=resident, phone=input.phone, address=input.address,
        grid=input.grid_code, by=c.by, client_id=input.client_id)
    return filing, c.app.request(filing.request_id)


def _by_reference(c: Call, done: tuple[int | None, Any]) -> RequestUpdated:
    """The success of a resident's command: the request as its filer sees it."""
    return RequestUpdated(notification_id=done[0],
                          request=MyRequest.of(done[1], c.input.reference))


def _by_filer(description: str, input_type: type[In],
              command: Callable[[Call, In, str], Any]) -> Any:
    """A resident's own command on their request, by its reference (no token needed),
    answering the request as its filer sees it."""
    def run(c: Call, i: Any) -> tuple[Any, Any]:
        ref = i.reference[:60]
        return command(c, i, ref), c.app.request_by_reference(ref)
    return mutation(description, input_type, run, result=RequestResult,
                    success=_by_reference, anonymous=True)


def _updated(c: Call, done: tuple[int | None, Any]) -> RequestUpdated:
    return RequestUpdated(notification_id=done[0], request=MyRequest.of(done[1]))


def _on_request(description: str, input_type: type[OnRequest],
                command: Callable[[Call, OnRequest], Any],
                on: Callable[[OnRequest], Sequence[Reach]] = lambda i: [request(i.id)]) -> Any:
    """A staff command on a request filed in the caller's jurisdiction (one filed elsewhere
    is answered as if it did not exist), answering the request as it is now."""
    return mutation(description, input_type,
                    lambda c, i: (command(c, i), c.app.request(c.target)),
                    result=RequestResult, success=_updated, on=on)


@strawberry.type
class RequestMutation:
    @strawberry.mutation(description="诉求受理 file a request (no token needed for residents).")
    async def file_request(self, info: Info[Context, None],
                           input: FileRequestInput) -> FileRequestResult:
        if info.context.caller is None and input.household_id is None and (
                input.resident_id is None):
            _admit_anonymous_filing(info.context, input.phone)
        return await run_mutation(info, lambda c: _file(input, c), lambda c, done: RequestFiled(
            reference=done[0].reference, number=done[1].number,
            status=RequestStatus(done[1].status.value), deadline=done[1].deadline),
            on=[_registered(input)], anonymous=True)

    rate_request = _by_filer(
        "评价 rate the reply to your request from 1 to 5 (by its reference; no token needed), "
        "which closes it.", RateRequestInput,
        lambda c, i, ref: c.app.rate_request(ref, i.rating, client_id=i.client_id, by=c.by))

    reopen_request = _by_filer(
        "重新办理 reopen your rated request with a reason (by its reference; no token needed): "
        "it awaits action again.", ReopenRequestInput,
        lambda c, i, ref: c.app.reopen_request(ref, i.reason, client_id=i.client_id, by=c.by))

    resolve_request = _on_request(
        "答复 answer a request your level owns; the resident then rates it.",
        ResolveRequestInput, lambda c, i: c.app.resolve_request(
            c.target, c.by, i.reply, client_id=i.client_id))

    assign_request = _on_request(
        "派单 give a request your level owns to an available colleague of that level or below.",
        AssignRequestInput, lambda c, i: c.app.assign_request(
            c.target, c.targets[1], client_id=i.client_id, by=c.by),
        on=lambda i: [request(i.id), _colleague(i.staff_id)])

    classify_request = _on_request(
        "分类定级 re-categorise or regrade an open request of your jurisdiction; a new grade "
        "moves its deadline.", ClassifyRequestInput, lambda c, i: c.app.classify_request(
            c.target, i.category.value if i.category is not None else None,
            i.grade.value if i.grade is not None else None, client_id=i.client_id, by=c.by))


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
