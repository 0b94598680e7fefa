"""Refusing text no store can hold: the quick check over all of a command's strings at once
refuses exactly what the walk that names the argument refuses, with its message."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from enum import IntEnum, StrEnum
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from gridcore.errors import InvalidInput
from gridcore.wellformed import _walk, check_wellformed


class Colour(StrEnum):
    RED = "红"


class Rank(IntEnum):
    ONE = 1


class Named(BaseModel):
    name: Any = None
    tags: Any = None


@dataclasses.dataclass
class Row:
    text: Any
    more: Any = None


LONG = 5000  # over wellformed._LONG: such strings are searched on their own
texts = st.one_of(st.text(max_size=6),
                  st.sampled_from(["\x00", "a\x00", "\ud800", "b\udfffc", "名", ""]),
                  st.sampled_from(["x" * LONG, "名" * LONG, "x" * LONG + "\x00",
                                   "\ud800" + "名" * LONG]))
scalars = st.one_of(texts, st.integers(), st.floats(allow_nan=True), st.booleans(), st.none(),
                    st.binary(max_size=3), st.just(UUID(int=7)), st.just(Colour.RED),
                    st.just(Rank.ONE), st.just(date(2020, 1, 2)),
                    st.just(datetime(2020, 1, 2, tzinfo=UTC)))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.lists(inner, max_size=3).map(tuple),
    st.frozensets(texts, max_size=2), st.dictionaries(texts, inner, max_size=2),
    st.builds(Named, name=inner, tags=inner), st.builds(Row, text=inner, more=inner),
), max_leaves=30)
arguments = st.dictionaries(st.sampled_from(["rows", "name", "by", "free_text"]), values,
                            max_size=3)


def walked(named: dict[str, Any]) -> str | None:
    """The message of the walk that names the argument (None: nothing refused)."""
    try:
        for name, value in named.items():
            _walk(value, name.replace("_", " "), 0)
    except InvalidInput as e:
        return str(e)
    return None


@settings(max_examples=400, deadline=None)
@given(arguments)
def test_the_quick_check_refuses_what_the_named_walk_refuses_with_its_message(named):
    expected = walked(named)
    if expected is None:
        check_wellformed(named)
    else:
        with pytest.raises(InvalidInput) as refused:
            check_wellformed(named)
        assert str(refused.value) == expected


def test_a_nul_among_many_rows_is_refused_naming_where_it_is():
    rows = [Row(text=f"{i}号", more=Named(name="张伟", tags=[Colour.RED, 3])) for i in range(500)]
    check_wellformed({"rows": rows, "at": datetime(2020, 1, 1, tzinfo=UTC)})
    rows[321] = Row(text="321号", more=Named(name="张\x00伟"))
    with pytest.raises(InvalidInput, match=r"The rows\.more\.name contains a NUL character"):
        check_wellformed({"rows": rows})


@pytest.mark.parametrize("nesting", range(6, 12))
def test_text_nested_at_the_depth_limit_is_refused_as_the_named_walk_refuses_it(nesting):
    deep: Any = "a\x00"
    for level in range(nesting):
        deep = [deep] if level % 2 else Row(text=deep)
    named = {"rows": deep}
    if walked(named) is None:
        check_wellformed(named)
    else:
        with pytest.raises(InvalidInput, match="NUL character"):
            check_wellformed(named)


def test_one_long_text_repeated_is_searched_once_and_still_refused_where_it_is():
    bad = "名" * 100_000 + "\x00"
    with pytest.raises(InvalidInput, match="position 100000"):
        check_wellformed({"notes": ["fine"] + [bad] * 25_000})
    check_wellformed({"notes": ["名" * 100_000] * 25_000})
