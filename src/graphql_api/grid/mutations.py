"""Shaping the grid tree (区/街道/社区/微网格): establish a city, create, rename, move, split,
merge and retire nodes.

Each acts as the signed-in official on nodes of their jurisdiction (one elsewhere is answered
as if it did not exist), accepts a ``clientId`` so a retry is applied once, and returns the
nodes it made or changed, read back (read your own writes), or typed problems. Where a node
hangs (move, retire) is decided above it, so those need it strictly below your own node. A new
city is outside every jurisdiction: only an official of a whole city may establish one.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.grid.types import GridNode
from graphql_api.ids import canonical
from graphql_api.pipeline import Call, ClientId, Reach, run_mutation
from graphql_api.problems import Problem, invalid, problem_of, result
from graphql_api.reach import nodes, not_an_id, whole_city
from gridcore import errors
from gridcore.authority import SHAPERS


@strawberry.type(description="The tree was changed (or had been, under this clientId).")
class GridChanged:
    notification_id: int | None
    nodes: list[GridNode] = strawberry.field(
        description="The nodes made or changed (a retired node shows retired: true).")


GridResult = result("GridResult", GridChanged)


@strawberry.input
class EstablishCityInput:
    code: str
    name: str
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
        found = await nodes(*codes)(ctx)
        if isinstance(found, Problem) or ctx.caller is None:
            return found
        if ctx.caller.jurisdiction in codes:
            return problem_of(errors.NotPermitted(
                f"{ctx.caller.jurisdiction} is the top of your jurisdiction; where it hangs "
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


@strawberry.type
class GridMutation:
    @strawberry.mutation(description="建市 establish a city, the top of a new tree.")
    async def establish_city(self, info: Info[Context, None],
                             input: EstablishCityInput) -> GridResult:
        return await run_mutation(info, lambda c: c.app.establish_city(
            input.code, input.name, client_id=input.client_id), nodes_after(input.code),
            on=[whole_city("A city is established by an official of a whole city.",
                           "Ask a city-level (市级) official.")],
            roles=SHAPERS, doing="establish cities")

    @strawberry.mutation(description="新建 create a district, street, community or micro-grid "
                                     "under a node of your jurisdiction.")
    async def create_node(self, info: Info[Context, None],
                          input: CreateNodeInput) -> GridResult:
        return await run_mutation(info, lambda c: c.app.create_node(
            input.code, input.name, input.parent_code, client_id=input.client_id),
            nodes_after(input.code, input.parent_code), on=[nodes(input.parent_code)],
            roles=SHAPERS, doing="create grid nodes")

    @strawberry.mutation(description="更名 rename a node of your jurisdiction.")
    async def rename_node(self, info: Info[Context, None],
                          input: RenameNodeInput) -> GridResult:
        return await run_mutation(info, lambda c: c.app.rename_node(
            input.code, input.name, client_id=input.client_id), nodes_after(input.code),
            on=[nodes(input.code)], roles=SHAPERS, doing="rename grid nodes")

    @strawberry.mutation(description="调整隶属 move a node under another node of its parent's "
                                     "level (its history is kept).")
    async def move_node(self, info: Info[Context, None], input: MoveNodeInput) -> GridResult:
        return await run_mutation(info, lambda c: c.app.move_node(
            input.code, input.new_parent_code, client_id=input.client_id),
            nodes_after(input.code, input.new_parent_code),
            on=[nodes(input.new_parent_code), _below(input.code)],
            roles=SHAPERS, doing="move grid nodes")

    @strawberry.mutation(description="拆分 split a micro-grid into new ones sharing out its "
                                     "households; the old one retires.")
    async def split_micro_grid(self, info: Info[Context, None],
                               input: SplitMicroGridInput) -> GridResult:
        return await run_mutation(info, lambda c: c.app.split_micro_grid(
            input.code, c.target, client_id=input.client_id),
            nodes_after(*(p.code for p in input.parts), input.code),
            on=[_parts(input.parts), _below(input.code)],
            roles=SHAPERS, doing="split micro-grids")

    @strawberry.mutation(description="合并 merge micro-grids of one community into a new one; "
                                     "the old ones retire.")
    async def merge_micro_grids(self, info: Info[Context, None],
                                input: MergeMicroGridsInput) -> GridResult:
        return await run_mutation(info, lambda c: c.app.merge_micro_grids(
            list(input.codes), input.into_code, input.name, client_id=input.client_id),
            nodes_after(input.into_code, *input.codes), on=[_below(*input.codes)],
            roles=SHAPERS, doing="merge micro-grids")

    @strawberry.mutation(description="撤销 retire an empty node (no live children, no "
                                     "households).")
    async def retire_node(self, info: Info[Context, None],
                          input: RetireNodeInput) -> GridResult:
        return await run_mutation(info, lambda c: c.app.retire_node(
            input.code, input.reason, client_id=input.client_id), nodes_after(input.code),
            on=[_below(input.code)], roles=SHAPERS, doing="retire grid nodes")
