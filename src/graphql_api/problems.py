"""Typed problems of mutation results, built from gridcore's ``GridcoreError`` (problem and
remedy): each mutation returns a union of its one success type and all of these
(``result``), so a client handles every refusal the same way, whatever the mutation."""

from __future__ import annotations

from typing import Annotated, Any, Union

import strawberry

from gridcore import errors


@strawberry.interface(description="Why a command was refused and what would be right; nothing "
                                  "was written.")
class Problem:
    code: str
    problem: str
    remedy: str


@strawberry.type
class NotFoundProblem(Problem):
    pass


@strawberry.type
class NotPermittedProblem(Problem):
    pass


@strawberry.type
class InvalidInputProblem(Problem):
    pass


@strawberry.type
class ForbiddenTransitionProblem(Problem):
    pass


@strawberry.type
class ConflictProblem(Problem):
    pass


@strawberry.type(description="Any other refusal of the domain (its code says which).")
class CommandRejected(Problem):
    pass


PROBLEMS: tuple[tuple[type[errors.GridcoreError], type[Problem]], ...] = (
    (errors.NotFound, NotFoundProblem),
    (errors.NotPermitted, NotPermittedProblem),
    (errors.InvalidInput, InvalidInputProblem),
    (errors.ForbiddenTransition, ForbiddenTransitionProblem),
    (errors.ConcurrencyConflict, ConflictProblem),
)


PROBLEM_TYPES: tuple[type[Problem], ...] = (
    NotFoundProblem, NotPermittedProblem, InvalidInputProblem, ForbiddenTransitionProblem,
    ConflictProblem, CommandRejected)


def result(name: str, success: type) -> Any:
    """The result union ``name`` of a mutation: its success type or any problem."""
    return Annotated[Union[(success, *PROBLEM_TYPES)],
                     strawberry.union(name)]


def problem_of(error: errors.GridcoreError) -> Problem:
    for kind, problem in PROBLEMS:
        if isinstance(error, kind):
            return problem(code=error.code, problem=error.problem, remedy=error.remedy)
    return CommandRejected(code=error.code, problem=error.problem, remedy=error.remedy)


def no_household(hid: str) -> NotFoundProblem:
    """The answer for a household that does not exist, and (the same words) for one outside
    the caller's jurisdiction: it must not confirm that the record exists."""
    e = errors.NotFound(f"No household {hid}.", errors.HOUSEHOLD_HINT)
    return NotFoundProblem(code=e.code, problem=e.problem, remedy=e.remedy)


def not_signed_in() -> NotPermittedProblem:
    return NotPermittedProblem(code=errors.NotPermitted.code,
                               problem="No staff member is signed in.",
                               remedy="Send `Authorization: Bearer <token>` with a token from "
                                      "`gridcore token issue --staff ID`.")


def not_found(problem: str, remedy: str) -> NotFoundProblem:
    """A record that does not exist, and (the same words) one outside the caller's
    jurisdiction."""
    return NotFoundProblem(code=errors.NotFound.code, problem=problem, remedy=remedy)


def invalid(problem: str, remedy: str) -> InvalidInputProblem:
    return InvalidInputProblem(code=errors.InvalidInput.code, problem=problem, remedy=remedy)
