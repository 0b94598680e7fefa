"""Domain errors: each says what was wrong and what would be right.

A command that raises one of these has written nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

E = TypeVar("E", bound=StrEnum)


class GridcoreError(Exception):
    """Base of every domain error.

    ``problem`` says what was wrong, ``remedy`` what would be right; ``str()`` joins them.
    """

    code = "GRIDCORE_ERROR"

    def __init__(self, problem: str, remedy: str = "") -> None:
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"{problem} {remedy}".strip())


class NotFound(GridcoreError):
    code = "NOT_FOUND"


NODE_HINT = ("Check the code (a node outside your jurisdiction reads as missing), or create the "
             "node first.")
HOUSEHOLD_HINT = ("Check the id (a household outside your jurisdiction reads as missing), or "
                  "register the household first.")
"""The remedies of a missing grid node and household, the same for one outside the caller's
jurisdiction: the answer must not confirm that a record exists where the caller may not look."""


class DuplicateCode(GridcoreError):
    code = "DUPLICATE"


class LevelViolation(GridcoreError):
    code = "LEVEL_VIOLATION"


class InvalidInput(GridcoreError):
    code = "INVALID_INPUT"


class ForbiddenTransition(GridcoreError):
    code = "FORBIDDEN_TRANSITION"


class NotPermitted(GridcoreError):
    code = "NOT_PERMITTED"


class NodeRetired(GridcoreError):
    code = "RETIRED"


class Erased(GridcoreError):
    code = "ERASED"


class ConcurrencyConflict(GridcoreError):
    code = "CONCURRENCY_CONFLICT"


def parse_enum(cls: type[E], value: Any, what: str) -> E:
    """A member of ``cls`` from a member or its value; anything else is an ``InvalidInput``
    naming the accepted values."""
    try:
        return cls(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a {what}.",
                           f"Give one of: {', '.join(m.value for m in cls)}.") from None
