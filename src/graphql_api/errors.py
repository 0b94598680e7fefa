"""Typed errors of mutation results, built from gridcore's ``GridcoreError`` (problem and
remedy): each mutation returns a union of its success type and these."""

from __future__ import annotations

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


def problem_of(error: errors.GridcoreError) -> Problem:
    for kind, problem in PROBLEMS:
        if isinstance(error, kind):
            return problem(code=error.code, problem=error.problem, remedy=error.remedy)
    return CommandRejected(code=error.code, problem=error.problem, remedy=error.remedy)


def no_household(hid: str) -> NotFoundProblem:
    """The answer for a household that does not exist, and (the same words) for one outside
    the caller's jurisdiction: it must not confirm that the record exists."""
    e = errors.NotFound(f"No household {hid}.", "Register the household first.")
    return NotFoundProblem(code=e.code, problem=e.problem, remedy=e.remedy)


def not_signed_in() -> NotPermittedProblem:
    return NotPermittedProblem(code=errors.NotPermitted.code,
                               problem="No staff member is signed in.",
                               remedy="Send `Authorization: Bearer <token>` with a token from "
                                      "`gridcore token issue --staff ID`.")
