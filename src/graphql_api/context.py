"""The per-request context: the application, the read models, the caller and the DataLoaders.

Loaders are built for each request (never at module level: they would cache for the server's
life and serve one caller's reads to another).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from graphql_api.auth import Caller
from graphql_api.privacy import AuditLog
from graphql_api.settings import ApiSettings
from gridcore.authority import Actor
from gridcore.chat_review import ChatMessage, IntakeReport
from gridcore.errors import NotFound
from projections import (
    alerts_board,
    grid_rollup,
    household_timeline,
    queries,
    referral_pipeline,
    staff_workload,
)
from projections.time_travel import household_status_at, rollup_at

if TYPE_CHECKING:
    from gridcore.application import GridcoreApp
    from projections.base import ReadViews

K = TypeVar("K")
V = TypeVar("V")


def _batched(fetch: Callable[[Sequence[K]], dict[K, V]],
             missing: Callable[[], V] | None = None) -> Callable[[list[K]], Awaitable[list[V]]]:
    """A DataLoader batch function from a ``keys -> {key: value}`` query (None or
    ``missing()`` for a key it did not find)."""

    async def load(keys: list[K]) -> list[Any]:
        found = fetch(keys)
        return [found.get(k, missing() if missing else None) for k in keys]

    return load


def _each(views: Any, fn: Callable[[Any, Any, datetime], Any]
          ) -> Callable[[list[Any]], Awaitable[Any]]:
    async def load(keys: list[tuple[str, datetime]]) -> list[Any]:
        return [fn(views, key, when) for key, when in keys]
    return load


class Loaders:
    """A request's DataLoaders, each made the first time the request asks for it (most
    requests use two or three of them, and a DataLoader costs a few microseconds to make)."""

    def __init__(self, views: Any, app: Any = None) -> None:
        self.views, self.app = views, app

    @cached_property
    def node(self) -> DataLoader[str, grid_rollup.NodeRow | None]:
        return DataLoader(_batched(lambda ks: grid_rollup.nodes(self.views, ks)))

    @cached_property
    def children(self) -> DataLoader[str, list[grid_rollup.NodeRow]]:
        return DataLoader(_batched(lambda ks: grid_rollup.children(self.views, ks), list))

    @cached_property
    def chain(self) -> DataLoader[str, list[str]]:
        return DataLoader(_batched(lambda ks: grid_rollup.chains(self.views, ks), list))

    @cached_property
    def rollup(self) -> DataLoader[str, dict[str, Any]]:
        return DataLoader(_batched(lambda ks: grid_rollup.rollups(self.views, ks)))

    @cached_property
    def rollup_at(self) -> DataLoader[tuple[str, datetime], dict[str, Any]]:
        return DataLoader(_each(self.views, rollup_at))

    @cached_property
    def open_items(self) -> DataLoader[str, queries.OpenItemsRow]:
        """待办 per node (``queries.open_items``): a tree of nodes costs one query per level."""
        return DataLoader(_batched(lambda ks: queries.open_items(self.views, ks)))

    @cached_property
    def household(self) -> DataLoader[str, grid_rollup.HouseholdRow | None]:
        return DataLoader(_batched(lambda ks: grid_rollup.households(self.views, ks)))

    @cached_property
    def status_at(self) -> DataLoader[tuple[str, datetime], dict[str, Any] | None]:
        return DataLoader(_each(self.views, household_status_at))

    @cached_property
    def timeline(self) -> DataLoader[str, list[household_timeline.TimelineRow]]:
        return DataLoader(_batched(lambda ks: household_timeline.timelines(self.views, ks), list))

    @cached_property
    def referral_escalations(self) -> DataLoader[str, list[referral_pipeline.EscalationStep]]:
        return DataLoader(_batched(lambda ks: referral_pipeline.escalations_of(self.views, ks),
                                   list))

    @cached_property
    def checkpoint_hours(self) -> DataLoader[str, list[tuple[datetime, int, int]]]:
        return DataLoader(_batched(lambda ks: alerts_board.checkpoint_hours_of(self.views, ks),
                                   list))

    @cached_property
    def workload(self) -> DataLoader[str, list[staff_workload.WorkloadDay]]:
        return DataLoader(_batched(lambda ks: staff_workload.workloads(self.views, ks), list))

    @cached_property
    def staff_jurisdiction(self) -> DataLoader[str, str | None]:
        return DataLoader(_batched(lambda ks: grid_rollup.staff_jurisdictions(self.views, ks)))

    @cached_property
    def identities(self) -> DataLoader[str, dict[str, Any]]:
        """household id -> {resident id: ``ResidentIdentity``} (sealed personal data, opened
        by the application: read only for fields the caller's role may see, see
        ``privacy``)."""
        kept = self.household_kept

        async def load(keys: list[str]) -> list[dict[str, Any]]:
            return [{str(rid): r.identity for rid, r in h.residents.items()} if h else {}
                    for h in await kept.load_many(keys)]

        return DataLoader(load)

    @cached_property
    def household_kept(self) -> DataLoader[str, Any]:
        """household id -> the ``Household`` aggregate (None if unknown): its number,
        building, sealed address and residents' identities, read from the event store in one
        worker thread per batch (read only for fields the caller's role may see, see
        ``privacy``)."""
        return DataLoader(_aggregates(self.app, "household"))

    @cached_property
    def building_kept(self) -> DataLoader[str, Any]:
        """building id -> the ``Building`` aggregate (None if unknown), one thread a batch."""
        return DataLoader(_aggregates(self.app, "building"))

    @cached_property
    def referral_kept(self) -> DataLoader[str, Any]:
        """referral id -> the ``Referral`` aggregate (None if unknown): its persuasion attempts
        with their free-text refusal reasons, one thread a batch (see ``privacy``)."""
        return DataLoader(_aggregates(self.app, "referral"))

    @cached_property
    def case_kept(self) -> DataLoader[str, Any]:
        """case id -> the tracing ``Case`` aggregate (None if unknown): what the case knows
        of its index and contacts, read once per request however many of its people the
        answer shows (see ``graphql_api.tracing.types``)."""
        return DataLoader(_aggregates(self.app, "case"))

    @cached_property
    def request_kept(self) -> DataLoader[str, Any]:
        """request id -> the ``ResidentRequest`` aggregate (None if unknown): its sealed text
        and reply, one thread a batch (see ``privacy``)."""
        return DataLoader(_aggregates(self.app, "request"))

    @cached_property
    def staff_member(self) -> DataLoader[str, Any]:
        """staff id -> the ``StaffMember`` aggregate (None if unknown): read from the event
        store in one worker thread per batch."""
        return DataLoader(_staff_members(self.app))


def _staff_members(app: Any) -> Callable[[list[str]], Awaitable[list[Any]]]:
    def read(keys: list[str]) -> list[Any]:
        out = []
        for key in keys:
            try:
                out.append(app.staff(UUID(key)))
            except (NotFound, ValueError):
                out.append(None)
        return out

    async def load(keys: list[str]) -> list[Any]:
        return await asyncio.to_thread(read, keys)

    return load


def _aggregates(app: Any, getter: str) -> Callable[[list[str]], Awaitable[list[Any]]]:
    """A batch function reading aggregates by id with ``app.<getter>(id)`` (None for an
    unknown or malformed id), the whole batch in one worker thread."""
    def read(keys: list[str]) -> list[Any]:
        get, out = getattr(app, getter), []
        for key in keys:
            try:
                out.append(get(UUID(key)))
            except (NotFound, ValueError):
                out.append(None)
        return out

    async def load(keys: list[str]) -> list[Any]:
        return await asyncio.to_thread(read, keys)

    return load


def loaders_for(views: Any, app: Any = None) -> Loaders:
    return Loaders(views, app)


class ChatIntake(Protocol):
    """Takes in a batch of a micro-grid group's messages (``submitChatMessages``): each
    recorded as a chat visit, held for review or set aside. The reading of the messages is
    the adapters' (``adapters.chat_intake.take_in``); the composition root hands it to the
    API (``adapters.bootstrap.api_app``), which imports no parser."""

    def __call__(self, app: GridcoreApp, micro_grid: str, messages: Sequence[ChatMessage], *,
                 by: Actor, campaign: UUID | None = None) -> IntakeReport: ...


@dataclass
class Context:
    app: GridcoreApp
    """The gridcore application (``GridcoreApp``): mutations call its commands."""
    runner: Any
    """The projections runner: ``runner.wait(notification_id)`` reads a command's writes."""
    views: ReadViews
    settings: ApiSettings
    caller: Caller | None
    token_problem: str | None = None
    """Why a websocket's upgrade header token was refused (the socket is then closed at its
    ``connection_init``)."""
    connection_params: dict[str, Any] | None = None
    """A websocket's ``connection_init`` payload (strawberry sets it; it may carry the
    token)."""
    socket: Any = None
    """The websocket of a socket's context (None over HTTP): a subscription closes it (4403)
    when the caller's access is withdrawn."""
    client_address: str | None = None
    """The client's address (the limits on anonymous filing count per address)."""
    response: Any = None
    """The HTTP response being made (None over a websocket): a refusal by rate limit sets
    its status (429) and ``Retry-After`` there."""
    filing_limits: Any = None
    """The server's ``graphql_api.ratelimit.FilingLimits`` (None: no limit)."""
    chat_intake: ChatIntake | None = None
    """How the server reads a chat group's messages (None: it takes none)."""
    loaders: Loaders = field(init=False)
    audit: AuditLog = field(init=False)
    """Where reads of unmasked personal fields are recorded (``graphql_api.privacy``)."""

    def __post_init__(self) -> None:
        self.loaders = loaders_for(self.views, self.app)
        self.audit = AuditLog(self.settings.audit_file)
