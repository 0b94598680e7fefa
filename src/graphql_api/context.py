"""The per-request context: the application, the read models, the caller and the DataLoaders.

Loaders are built for each request (never at module level: they would cache for the server's
life and serve one caller's reads to another).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from strawberry.dataloader import DataLoader

from graphql_api import boards, readmodel
from graphql_api.auth import Caller
from graphql_api.privacy import AuditLog
from graphql_api.settings import ApiSettings
from gridcore.errors import NotFound
from projections.time_travel import household_status_at, rollup_at

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


@dataclass
class Loaders:
    node: DataLoader[str, readmodel.NodeRow | None]
    children: DataLoader[str, list[readmodel.NodeRow]]
    chain: DataLoader[str, list[str]]
    rollup: DataLoader[str, dict[str, Any]]
    rollup_at: DataLoader[tuple[str, datetime], dict[str, Any]]
    household: DataLoader[str, readmodel.HouseholdRow | None]
    status_at: DataLoader[tuple[str, datetime], dict[str, Any] | None]
    timeline: DataLoader[str, list[readmodel.TimelineRow]]
    referral_escalations: DataLoader[str, list[dict[str, Any]]]
    checkpoint_hours: DataLoader[str, list[tuple[datetime, int, int]]]
    workload: DataLoader[str, list[dict[str, Any]]]
    staff_jurisdiction: DataLoader[str, str | None]
    identities: DataLoader[str, dict[str, Any]]
    """household id -> {resident id: ``ResidentIdentity``} (sealed personal data, opened by
    the application: read only for fields the caller's role may see, see ``privacy``)."""
    staff_member: DataLoader[str, Any]
    """staff id -> the ``StaffMember`` aggregate (None if unknown): read from the event
    store in one worker thread per batch."""


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


def _identities(app: Any) -> Callable[[list[str]], Awaitable[list[dict[str, Any]]]]:
    def read(keys: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for key in keys:
            try:
                h = app.household(UUID(key))
            except (NotFound, ValueError):
                out.append({})
                continue
            out.append({str(rid): r.identity for rid, r in h.residents.items()})
        return out

    async def load(keys: list[str]) -> list[dict[str, Any]]:
        return await asyncio.to_thread(read, keys)

    return load


def loaders_for(views: Any, app: Any = None) -> Loaders:
    def each(fn: Callable[[Any, Any, datetime], Any]) -> Callable[[list[Any]], Awaitable[Any]]:
        async def load(keys: list[tuple[str, datetime]]) -> list[Any]:
            return [fn(views, key, when) for key, when in keys]
        return load

    return Loaders(
        node=DataLoader(_batched(lambda ks: readmodel.nodes(views, ks))),
        children=DataLoader(_batched(lambda ks: readmodel.children(views, ks), list)),
        chain=DataLoader(_batched(lambda ks: readmodel.chains(views, ks), list)),
        rollup=DataLoader(_batched(lambda ks: readmodel.rollups(views, ks))),
        rollup_at=DataLoader(each(rollup_at)),
        household=DataLoader(_batched(lambda ks: readmodel.households(views, ks))),
        status_at=DataLoader(each(household_status_at)),
        timeline=DataLoader(_batched(lambda ks: readmodel.timelines(views, ks), list)),
        referral_escalations=DataLoader(_batched(
            lambda ks: boards.referral_escalations(views, ks), list)),
        checkpoint_hours=DataLoader(_batched(lambda ks: boards.checkpoint_hours(views, ks),
                                             list)),
        workload=DataLoader(_batched(lambda ks: boards.workloads(views, ks), list)),
        staff_jurisdiction=DataLoader(_batched(
            lambda ks: boards.staff_jurisdictions(views, ks))),
        staff_member=DataLoader(_staff_members(app)),
        identities=DataLoader(_identities(app)),
    )


@dataclass
class Context:
    app: Any
    """The gridcore application (``GridcoreApp``): mutations call its commands."""
    runner: Any
    """The projections runner: ``runner.wait(notification_id)`` reads a command's writes."""
    views: Any
    settings: ApiSettings
    caller: Caller | None
    token_problem: str | None = None
    """Why a websocket's upgrade header token was refused (the socket is then closed at its
    ``connection_init``)."""
    connection_params: dict[str, Any] | None = None
    """A websocket's ``connection_init`` payload (strawberry sets it; it may carry the
    token)."""
    loaders: Loaders = field(init=False)
    audit: AuditLog = field(init=False)
    """Where reads of unmasked personal fields are recorded (``graphql_api.privacy``)."""

    def __post_init__(self) -> None:
        self.loaders = loaders_for(self.views, self.app)
        self.audit = AuditLog(self.settings.audit_file)
