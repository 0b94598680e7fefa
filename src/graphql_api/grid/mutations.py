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
from typing import Annotated, Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.commands import at_top, nodes_in_reach, not_an_id, refused, run_command
from graphql_api.context import Context
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    problem_of,
)
from graphql_api.grid.types import GridNode
from graphql_api.ids import canonical
from gridcore import errors
from gridcore.authority import SHAPERS

ClientId = Annotated[str | None, strawberry.field(
    description="The device's id for this command: a retry is applied once.")]


@strawberry.type(description="The tree was changed (or had been, under this clientId).")
class GridChanged:
    notification_id: int | None
    nodes: list[GridNode] = strawberry.field(
        description="The nodes made or changed (a retired node shows retired: true).")


GridResult = Annotated[
    GridChanged | NotFoundProblem | NotPermittedProblem | InvalidInputProblem
    | ForbiddenTransitionProblem | ConflictProblem | CommandRejected,
    strawberry.union("GridResult"),
]


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


async def _shape(ctx: Context, doing: str, reach: list[str], below: list[str],
                 command: Callable[[Any], int | None], changed: list[str]) -> GridResult:
    """Run a tree command: an official's, on ``reach`` codes in the jurisdiction (``below``
    ones strictly under its top), then read ``changed`` back."""
    if (no := refused(ctx, SHAPERS, doing)) is not None:
        return no
    if (outside := await nodes_in_reach(ctx, *reach, *below)) is not None:
        return outside
    if ctx.caller is not None and ctx.caller.jurisdiction in below:
        return problem_of(errors.NotPermitted(
            f"{ctx.caller.jurisdiction} is the top of your jurisdiction; where it hangs is "
            "decided above it.", "Ask an official of its parent node."))
    done = await run_command(ctx, command)
    if isinstance(done, Problem):
        return done
    rows = await ctx.loaders.node.load_many(changed)
    return GridChanged(notification_id=done,
                       nodes=[GridNode.from_row(r) for r in rows if r is not None])


def _household_ids(parts: list[SplitPartInput]) -> dict[str, tuple[str, list[UUID]]] | Problem:
    out: dict[str, tuple[str, list[UUID]]] = {}
    for p in parts:
        if p.code in out:
            return problem_of(errors.InvalidInput(f"Part {p.code[:60]} is listed twice.",
                                                  "Give each new micro-grid once."))
        ids = [canonical(h) for h in p.household_ids]
        if None in ids:
            bad = p.household_ids[ids.index(None)]
            return not_an_id(bad, "household")
        out[p.code] = (p.name, [UUID(h) for h in ids if h])
    return out


@strawberry.type
class GridMutation:
    @strawberry.mutation(description="建市 establish a city, the top of a new tree.")
    async def establish_city(self, info: Info[Context, None],
                             input: EstablishCityInput) -> GridResult:
        ctx = info.context
        if (no := refused(ctx, SHAPERS, "establish cities")) is not None:
            return no
        if not await at_top(ctx):
            return problem_of(errors.NotPermitted(
                "A city is established by an official of a whole city.",
                "Ask a city-level (市级) official."))
        return await _shape(ctx, "establish cities", [], [],
                            lambda app: app.establish_city(input.code, input.name,
                                                           client_id=input.client_id),
                            [input.code])

    @strawberry.mutation(description="新建 create a district, street, community or micro-grid "
                                     "under a node of your jurisdiction.")
    async def create_node(self, info: Info[Context, None],
                          input: CreateNodeInput) -> GridResult:
        return await _shape(info.context, "create grid nodes", [input.parent_code], [],
                            lambda app: app.create_node(input.code, input.name,
                                                        input.parent_code,
                                                        client_id=input.client_id),
                            [input.code, input.parent_code])

    @strawberry.mutation(description="更名 rename a node of your jurisdiction.")
    async def rename_node(self, info: Info[Context, None],
                          input: RenameNodeInput) -> GridResult:
        return await _shape(info.context, "rename grid nodes", [input.code], [],
                            lambda app: app.rename_node(input.code, input.name,
                                                        client_id=input.client_id),
                            [input.code])

    @strawberry.mutation(description="调整隶属 move a node under another node of its parent's "
                                     "level (its history is kept).")
    async def move_node(self, info: Info[Context, None], input: MoveNodeInput) -> GridResult:
        return await _shape(info.context, "move grid nodes", [input.new_parent_code],
                            [input.code],
                            lambda app: app.move_node(input.code, input.new_parent_code,
                                                      client_id=input.client_id),
                            [input.code, input.new_parent_code])

    @strawberry.mutation(description="拆分 split a micro-grid into new ones sharing out its "
                                     "households; the old one retires.")
    async def split_micro_grid(self, info: Info[Context, None],
                               input: SplitMicroGridInput) -> GridResult:
        parts = _household_ids(input.parts)
        if isinstance(parts, Problem):
            return parts
        return await _shape(info.context, "split micro-grids", [], [input.code],
                            lambda app: app.split_micro_grid(input.code, parts,
                                                             client_id=input.client_id),
                            [*parts, input.code])

    @strawberry.mutation(description="合并 merge micro-grids of one community into a new one; "
                                     "the old ones retire.")
    async def merge_micro_grids(self, info: Info[Context, None],
                                input: MergeMicroGridsInput) -> GridResult:
        return await _shape(info.context, "merge micro-grids", [], list(input.codes),
                            lambda app: app.merge_micro_grids(list(input.codes),
                                                              input.into_code, input.name,
                                                              client_id=input.client_id),
                            [input.into_code, *input.codes])

    @strawberry.mutation(description="撤销 retire an empty node (no live children, no "
                                     "households).")
    async def retire_node(self, info: Info[Context, None],
                          input: RetireNodeInput) -> GridResult:
        return await _shape(info.context, "retire grid nodes", [], [input.code],
                            lambda app: app.retire_node(input.code, input.reason,
                                                        client_id=input.client_id),
                            [input.code])
