"""Subscriptions (graphql-transport-ws): new alerts, escalations and overdue items within the
caller's jurisdiction, as they are written to the event log.

The token comes with the socket's ``connection_init`` payload (``{"Authorization": "Bearer
..."}``) or the upgrade request's header. Without a staff member a subscription completes at
once with nothing. ``after`` (a notification id, e.g. the last one a device saw) replays from
there, so a reconnecting client misses nothing; by default it starts at the log's end.

Access is checked against the staff member's current record when a subscription starts, before
each item it delivers, and when the log records a deactivation or move of that member (the
follower wakes the subscription on that event): a deactivated member's socket is closed with
4403 "Forbidden" at once; a moved member follows their new jurisdiction from then on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_api.auth import Caller, TokenError, staff_caller
from graphql_api.context import Context
from graphql_api.enums import AlertKind
from graphql_api.watch.feed import AccessChanged, Follower, Item, Stream, Subject
from gridcore import alerts

WatchSubject = strawberry.enum(Subject, description="What an escalated or overdue item is.")

AfterArg = Annotated[int | None, strawberry.argument(
    description="Replay from after this notification id (default: only what comes next).")]


@strawberry.type(description="新告警 an alert raised in your jurisdiction.")
class AlertRaised:
    notification_id: int
    alert_id: strawberry.ID
    kind: AlertKind
    kind_label: str
    source: str
    grid_code: str
    at: datetime


@strawberry.type(description="升级 an alert, referral or request passed one level up.")
class Escalation:
    notification_id: int
    subject: WatchSubject  # type: ignore[valid-type]
    subject_id: strawberry.ID
    place_code: str = strawberry.field(description="Where it lies (grid, household's grid, "
                                                   "community).")
    to_code: str = strawberry.field(description="The level that owns it now.")
    at: datetime


@strawberry.type(description="超时 an item past its deadline: an alert not acknowledged, a "
                             "referral not transported, a request, a delivery, a rectification.")
class OverdueItem:
    notification_id: int
    subject: WatchSubject  # type: ignore[valid-type]
    subject_id: strawberry.ID
    place_code: str
    at: datetime


class AccessWithdrawnError(Exception):
    """Ends a subscription (over HTTP transports, where there is no socket to close)."""


async def _current(ctx: Context) -> Caller:
    """The caller as the staff record says now; when their access was withdrawn, the socket
    is closed (4403 Forbidden), the context forgets the caller, and this never returns (the
    socket's handler cancels the operation) or, without a socket, raises."""
    assert ctx.caller is not None
    try:
        caller = await asyncio.to_thread(staff_caller, ctx.app, ctx.caller.staff_id)
    except TokenError as e:
        ctx.caller = None
        if ctx.socket is None:
            raise AccessWithdrawnError(str(e)) from None
        await ctx.socket.close(code=4403, reason="Forbidden")
        await asyncio.Event().wait()  # cancelled when the socket's handler shuts down
        raise  # not reached
    ctx.caller = caller
    return caller


async def _follow(ctx: Context, stream: Stream,
                  after: int | None) -> AsyncGenerator[Item, None]:
    if ctx.caller is None:
        return
    end = await asyncio.to_thread(ctx.app.recorder.max_notification_id) or 0
    caller = await _current(ctx)  # read after ``end``: it reflects every change up to there
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Item | AccessChanged | None] = asyncio.Queue()
    start = after if after is not None else end

    def deliver(item: Item | AccessChanged | None) -> None:  # on the follower's thread
        loop.call_soon_threadsafe(queue.put_nowait, item)

    follower = Follower(ctx.app, ctx.runner, ctx.views, caller.jurisdictions, {stream},
                        max(0, start), deliver, staff_id=str(caller.staff_id),
                        known_at=end).start()
    try:
        while (item := await queue.get()) is not None:
            await _current(ctx)  # deactivated since: the socket closes here
            if isinstance(item, AccessChanged):
                continue
            yield item
    finally:
        follower.stop()


def _to_code(item: Item) -> str:
    e = item.event
    return str(getattr(e, "to_code", None) or getattr(e, "node_code", None) or item.place)


@strawberry.type
class Subscription:
    @strawberry.subscription(description="新告警 alerts raised in your jurisdiction.")
    async def alert_raised(self, info: Info[Context, None],
                           after: AfterArg = None) -> AsyncGenerator[AlertRaised, None]:
        async for item in _follow(info.context, Stream.ALERTS, after):
            e = item.event
            yield AlertRaised(notification_id=item.notification_id,
                              alert_id=strawberry.ID(item.subject_id),
                              kind=AlertKind(e.kind.value), kind_label=alerts.AlertKind(
                                  e.kind.value).label, source=e.source, grid_code=item.place,
                              at=item.at)

    @strawberry.subscription(description="升级 escalations of alerts, referrals and requests of "
                                         "your jurisdiction.")
    async def escalations(self, info: Info[Context, None],
                          after: AfterArg = None) -> AsyncGenerator[Escalation, None]:
        async for item in _follow(info.context, Stream.ESCALATIONS, after):
            yield Escalation(notification_id=item.notification_id,
                             subject=item.subject,
                             subject_id=strawberry.ID(item.subject_id), place_code=item.place,
                             to_code=_to_code(item), at=item.at)

    @strawberry.subscription(description="超时 items of your jurisdiction that passed their "
                                         "deadline.")
    async def overdue(self, info: Info[Context, None],
                      after: AfterArg = None) -> AsyncGenerator[OverdueItem, None]:
        async for item in _follow(info.context, Stream.OVERDUE, after):
            yield OverdueItem(notification_id=item.notification_id, subject=item.subject,
                              subject_id=strawberry.ID(item.subject_id), place_code=item.place,
                              at=item.at)
