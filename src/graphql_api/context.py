"""The per-request context: the application, the read models, the caller and the DataLoaders.

Loaders are built for each request (never at module level: they would cache for the server's
life and serve one caller's reads to another).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from graphql_api import readmodel
from graphql_api.auth import Caller
from graphql_api.settings import ApiSettings
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


def loaders_for(views: Any) -> Loaders:
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
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = loaders_for(self.views)
