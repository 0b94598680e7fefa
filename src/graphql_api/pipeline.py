"""The one way a mutation runs a command (``run_mutation``): signed in, the targets in the
caller's jurisdiction, the caller still active, the command off the event loop, the read models
caught up to its write, every refusal a typed problem, the request's loaders dropped.

Before it, each area wired these steps by hand (the sign-in check 24 times, nine ``_on_<target>``
helpers, ``GridcoreError`` caught 17 times, most of them without the ``ValidationError``
mapping), and a step left out was a difference in authorization or in the answer between
paths. A mutation now says what it acts on (``on=``, the reaches of ``graphql_api.reach``),
the command and how its success reads; the rest is here, the same for all. Most are declared
in one expression (``mutation``); the few that must do something first (the rate limit of an
anonymous filing) call ``run_mutation`` from a resolver of their own.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import strawberry
from pydantic import ValidationError
from strawberry.types import Info

from graphql_api.context import Context, loaders_for
from graphql_api.problems import InvalidInputProblem, Problem, not_signed_in, problem_of
from gridcore import errors
from gridcore.authority import Actor, System

if TYPE_CHECKING:
    from gridcore.application import GridcoreApp

In = TypeVar("In")
R = TypeVar("R")
S = TypeVar("S")

ClientId = Annotated[str | None, strawberry.field(
    description="The device's id for this command: a retry is applied once.")]
"""Every mutation's input has one: the command is applied once however often it is sent."""

Reach = Callable[[Context], Awaitable[Any]]
"""What a mutation acts on, checked before its command: the value the command is given (an
id, a code), or the problem to answer instead (one outside the jurisdiction reads as missing)."""


@dataclass(frozen=True)
class Call:
    """What a command and its success are given: the request's context, the acting party
    (the signed-in staff member, or ``System.PUBLIC`` for an anonymous caller), the values its
    reaches gave, in order, and the input sent (for a mutation declared with ``mutation``)."""

    ctx: Context
    by: Actor
    targets: tuple[Any, ...]
    input: Any = None

    @property
    def app(self) -> GridcoreApp:
        return self.ctx.app

    @property
    def target(self) -> Any:
        return self.targets[0]


async def run_mutation(info: Info[Context, None], command: Callable[[Call], R],
                       success: Callable[[Call, R], S | Awaitable[S]], *,
                       on: Sequence[Reach] = (), anonymous: bool = False,
                       personal: Iterable[str | None] = ()) -> S | Problem:
    """Run ``command`` for the signed-in caller and answer ``success(call, what it
    returned)``, or the problem that stopped it (nothing was written).

    Who may give the command, and where, is the command's own rule
    (``gridcore.authority``), checked by the application on every path; ``anonymous`` lets
    a caller without a token through as ``System.PUBLIC`` (a resident's own request);
    ``personal`` values of the input (a name, a phone, an
    address) are masked wherever a problem's words would quote them."""
    ctx = info.context
    answer = await _run(ctx, command, success, on, anonymous, None)
    return scrubbed(answer, personal)


def mutation(description: str, input_type: type[In], command: Callable[[Call, In], R], *,
             result: Any, success: Callable[[Call, R], Any],
             on: Callable[[In], Sequence[Reach]] = lambda _: (), anonymous: bool = False,
             personal: Callable[[In], Iterable[str | None]] = lambda _: ()) -> Any:
    """A mutation field declared in one expression: it takes ``input: <input_type>!``, answers
    ``result`` and runs ``command(call, input)`` through ``run_mutation`` with the reaches
    ``on(input)`` (``call.input`` is the input sent, for ``success``).

    Most mutations are only this; an area binds its ``result``, ``success`` and ``on`` once
    (``functools.partial``) and each of its mutations then names the command alone."""
    async def resolve(info: Info[Context, None], input: Any) -> Any:
        answer = await _run(info.context, lambda c: command(c, input), success, on(input),
                            anonymous, input)
        return scrubbed(answer, personal(input))

    resolve.__annotations__ = {"info": Info[Context, None], "input": input_type,
                               "return": result}
    return strawberry.mutation(resolver=resolve, description=description)


async def _run(ctx: Context, command: Callable[[Call], R],
               success: Callable[[Call, R], S | Awaitable[S]], on: Sequence[Reach],
               anonymous: bool, input: Any) -> S | Problem:
    if ctx.caller is None and not anonymous:
        return not_signed_in()
    targets = []
    for reach in on:
        value = await reach(ctx)
        if isinstance(value, Problem):
            return value
        targets.append(value)
    call = Call(ctx, ctx.caller.staff_id if ctx.caller else System.PUBLIC, tuple(targets),
                input)

    def work() -> R:
        still_active(ctx)
        out = command(call)
        # Up to the log's end, not just the command's own position: its follow-ups (the
        # findings of a visit) are written after its own events.
        ctx.runner.wait(ctx.app.recorder.max_notification_id() or 0)
        return out

    try:
        out = await asyncio.to_thread(work)
    except errors.GridcoreError as e:
        return problem_of(e)
    except ValidationError as e:
        return malformed(e)
    finally:
        ctx.loaders = loaders_for(ctx.views, ctx.app)  # what the request read may be stale
    answer = success(call, out)
    return await answer if inspect.isawaitable(answer) else answer


def still_active(ctx: Context) -> None:
    """Refuse a command of a caller deactivated since they were resolved (a socket resolves
    its caller once, at connection_init); an event-store read, in the worker thread."""
    if ctx.caller is not None:
        ctx.app.staff(ctx.caller.staff_id).require_active()


def malformed(error: ValidationError) -> InvalidInputProblem:
    """An input the domain's models refused, naming the fields and the rule, never the value
    (it may be personal)."""
    rules = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                      for e in error.errors(include_input=False, include_url=False)[:5])
    return InvalidInputProblem(code=errors.InvalidInput.code,
                               problem=f"The input is malformed ({rules}).",
                               remedy="Correct the fields named and send it again.")


def mask_text(value: str) -> str:
    """A personal value as a response may show it: its first character, then stars."""
    return value[:1] + "*" * max(len(value) - 1, 2)


def scrubbed(result: S, personal: Iterable[str | None]) -> S:
    """``result`` with each personal value of the input (a name, an address, a phone) masked
    wherever a problem's words quote it."""
    if not isinstance(result, Problem):
        return result
    text, remedy = result.problem, result.remedy
    for value in sorted((v.strip() for v in personal if v and len(v.strip()) >= 2), key=len,
                        reverse=True):
        text, remedy = text.replace(value, mask_text(value)), remedy.replace(value,
                                                                             mask_text(value))
    if (text, remedy) == (result.problem, result.remedy):
        return result
    return type(result)(code=result.code, problem=text, remedy=remedy)
