"""The API's enums are written-out copies of the domain's (so that mypy knows them as types);
``_mirrors`` is what keeps a copy from drifting from its domain enum unnoticed."""

from __future__ import annotations

from enum import Enum

import pytest

from graphql_api.enums import Level, _mirrors
from gridcore import grid


class _Source(Enum):
    OPEN = "open"
    CLOSED = "closed"


def test_a_copy_missing_a_member_is_refused_naming_both_enums() -> None:
    class Copy(Enum):
        OPEN = "open"

    with pytest.raises(TypeError, match=r"Copy must mirror .*_Source.*CLOSED"):
        _mirrors(Copy, _Source)


def test_a_copy_with_another_value_is_refused() -> None:
    class Copy(Enum):
        OPEN = "open"
        CLOSED = "shut"

    with pytest.raises(TypeError, match="shut"):
        _mirrors(Copy, _Source)


def test_an_int_valued_domain_enum_is_mirrored_by_its_lower_cased_names() -> None:
    _mirrors(Level, grid.Level)  # grid.Level's values are its order (ints)
    assert [m.value for m in Level] == [m.name.lower() for m in grid.Level]
