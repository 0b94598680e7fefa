"""Shaping the grid tree (区/街道/社区/微网格): establish a city, create, rename, move, split,
merge and retire nodes.

Each acts as the signed-in official on nodes of their jurisdiction (one elsewhere is answered
as if it did not exist), accepts a ``clientId`` so a retry is applied once, and returns the
nodes it made or changed, read back (read your own writes), or typed problems. Where a node
hangs (move, retire) is decided above it, so those need it strictly below your own node. A new
city is outside every jurisdiction: only an official of a whole city may establish one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any
from uuid import UUID

import strawberry

from graphql_api.context import Context
from graphql_api.grid.boundaries import BoundariesDrawn, DrawBoundariesInput, features
from graphql_api.grid.types import GridNode
from graphql_api.ids import canonical
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import Problem, invalid, problem_of, result
from graphql_api.reach import listed_once, nodes, not_an_id, whole_city
from gridcore import errors, geo


@strawberry.type(description="The tree was changed (or had been, under this clientId).")
class GridChanged:
    notification_id: int | None
    nodes: list[GridNode] = strawberry.field(
        description="The nodes made or changed (a retired node shows retired: true).")


GridResult = result("GridResult", GridChanged)
BoundariesResult = result("BoundariesResult", BoundariesDrawn)


@strawberry.input
class EstablishCityInput:
    code: str
    name: str
    client_id: ClientId = None


@strawberry.input(description="A new node: its code (its parent's code and a suffix) and name.")
class NewNodeInput:
    code: str
    name: str


@strawberry.input
class CreateNodesInput:
    parent_code: str
    nodes: list[NewNodeInput] = strawberry.field(
        description="The new children of the parent (at most 1,000), each code once.")
    client_id: ClientId = None


@strawberry.input
class CreateNodeInput:
    code: str = strawberry.field(description="The new node's code: its parent's code and a "
                                             "suffix (e.g. 420102001712-03).")
    name: str
    parent_code: str
    client_id: ClientId = None


@strawberry.input
class RenameNodeInput:
    code: str
    name: str
    client_id: ClientId = None


@strawberry.input
class MoveNodeInput:
    code: str
    new_parent_code: str
    client_id: ClientId = None


@strawberry.input(description="One micro-grid a split makes, and the households it takes.")
class SplitPartInput:
    code: str
    name: str
    household_ids: list[strawberry.ID]


@strawberry.input
class SplitMicroGridInput:
    code: str
    parts: list[SplitPartInput] = strawberry.field(
        description="Two or more; every household of the old micro-grid goes to one part.")
    client_id: ClientId = None


@strawberry.input
class MergeMicroGridsInput:
    codes: list[str] = strawberry.field(description="Two or more micro-grids of one community.")
    into_code: str
    name: str
    client_id: ClientId = None


@strawberry.input
class RetireNodeInput:
    code: str
    reason: str
    client_id: ClientId = None


def _below(*codes: str) -> Reach:
    """Nodes of the caller's jurisdiction strictly under its top: where a node hangs is
    decided above it."""
    async def reach(ctx: Context) -> str | Problem:
        found: str | Problem = await nodes(*codes)(ctx)
        if isinstance(found, Problem) or ctx.caller is None:
            return found
        tops = [c for c in codes if c in ctx.caller.jurisdictions]
        if tops:
            return problem_of(errors.NotPermitted(
                f"{tops[0]} is the top of your jurisdiction; where it hangs "
                "is decided above it.", "Ask an official of its parent node."))
        return found
    return reach


def nodes_after(*codes: str) -> Callable[[Call, int | None], object]:
    """The success of a tree command: the nodes it made or changed, read back."""
    async def success(c: Call, nid: int | None) -> GridChanged:
        rows = await c.ctx.loaders.node.load_many(list(codes))
        return GridChanged(notification_id=nid,
                           nodes=[GridNode.from_row(r) for r in rows if r is not None])
    return success


def _parts(parts: list[SplitPartInput]) -> Reach:
    """The parts of a split, each micro-grid once, with its households' ids."""
    async def reach(ctx: Context) -> dict[str, tuple[str, list[UUID]]] | Problem:
        out: dict[str, tuple[str, list[UUID]]] = {}
        for p in parts:
            if p.code in out:
                return invalid(f"Part {p.code[:60]} is listed twice.",
                               "Give each new micro-grid once.")
            ids = [canonical(h) for h in p.household_ids]
            if None in ids:
                return not_an_id(p.household_ids[ids.index(None)], "household")
            out[p.code] = (p.name, [UUID(h) for h in ids if h])
        return out
    return reach


def _changed(codes: Callable[[Any], Iterable[str]]) -> Callable[[Call, int | None], object]:
    """The success of a tree command: the nodes it made or changed (``codes`` of the input),
    read back."""
    return lambda c, nid: nodes_after(*codes(c.input))(c, nid)


_shape = partial(mutation, result=GridResult)
"""A tree command: an official's, on nodes of their jurisdiction."""


@strawberry.type
class GridMutation:
    establish_city = _shape(
        "建市 establish a city, the top of a new tree.", EstablishCityInput,
        lambda c, i: c.app.establish_city(i.code, i.name, client_id=i.client_id, by=c.by),
        success=_changed(lambda i: [i.code]),
        on=lambda i: [whole_city("A city is established by an official of a whole city.",
                                 "Ask a city-level (市级) official.")])

    create_node = _shape(
        "新建 create a district, street, community or micro-grid under a node of your "
        "jurisdiction.", CreateNodeInput,
        lambda c, i: c.app.create_node(i.code, i.name, i.parent_code, client_id=i.client_id,
                                       by=c.by),
        success=_changed(lambda i: [i.code, i.parent_code]),
        on=lambda i: [nodes(i.parent_code)])

    create_nodes = _shape(
        "新建 create several nodes under one node of your jurisdiction at once (a "
        "community's micro-grids), in one transaction: each checked as createNode checks it, "
        "one refused refuses them all.", CreateNodesInput,
        lambda c, i: c.app.create_nodes(i.parent_code, {n.code: n.name for n in i.nodes},
                                        client_id=i.client_id, by=c.by),
        success=_changed(lambda i: [*(n.code for n in i.nodes), i.parent_code]),
        on=lambda i: [nodes(i.parent_code), listed_once([n.code for n in i.nodes], "Code")])

    rename_node = _shape(
        "更名 rename a node of your jurisdiction.", RenameNodeInput,
        lambda c, i: c.app.rename_node(i.code, i.name, client_id=i.client_id, by=c.by),
        success=_changed(lambda i: [i.code]),
        on=lambda i: [nodes(i.code)])

    move_node = _shape(
        "调整隶属 move a node under another node of its parent's level (its history is kept).",
        MoveNodeInput,
        lambda c, i: c.app.move_node(i.code, i.new_parent_code, client_id=i.client_id, by=c.by),
        success=_changed(lambda i: [i.code, i.new_parent_code]),
        on=lambda i: [nodes(i.new_parent_code), _below(i.code)])

    split_micro_grid = _shape(
        "拆分 split a micro-grid into new ones sharing out its households; the old one "
        "retires.", SplitMicroGridInput,
        lambda c, i: c.app.split_micro_grid(i.code, c.target, client_id=i.client_id, by=c.by),
        success=_changed(lambda i: [*(p.code for p in i.parts), i.code]),
        on=lambda i: [_parts(i.parts), _below(i.code)])

    merge_micro_grids = _shape(
        "合并 merge micro-grids of one community into a new one; the old ones retire.",
        MergeMicroGridsInput, lambda c, i: c.app.merge_micro_grids(
            list(i.codes), i.into_code, i.name, client_id=i.client_id, by=c.by),
        success=_changed(lambda i: [i.into_code, *i.codes]),
        on=lambda i: [_below(*i.codes)])

    draw_boundaries = mutation(
        "边界 draw the boundaries of nodes of your jurisdiction from a GeoJSON "
        "FeatureCollection, all or nothing: each within its parent's, siblings not "
        "overlapping, gaps in a parent's cover reported (refused when strict).",
        DrawBoundariesInput,
        lambda c, i: c.app.draw_boundaries(c.target, geo.Crs(i.crs.value), "api",
                                           allow_gaps=not i.strict, client_id=i.client_id,
                                           by=c.by),
        result=BoundariesResult, success=lambda c, report: BoundariesDrawn.of(report),
        on=lambda i: [features(i)])

    retire_node = _shape(
        "撤销 retire an empty node (no live children, no households).", RetireNodeInput,
        lambda c, i: c.app.retire_node(i.code, i.reason, client_id=i.client_id, by=c.by),
        success=_changed(lambda i: [i.code]),
        on=lambda i: [_below(i.code)])
