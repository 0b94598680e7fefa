"""The read side's shape: each read model holds its tables, its handlers and its queries.

- The API runs no SQL of its own: no SQL text and no ``.query``/``.execute`` call anywhere in
  ``src/graphql_api`` (its reads are typed query functions of ``projections``).
- A read model follows exactly the topics of the event classes its handlers are registered
  for (``@handles``): there is no hand-kept list to drift from them, and each topic resolves
  to the very class registered (the runner decodes an event as its own class, and ``apply``
  dispatches by exact class).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from gridcore.grid import GridNode
from gridcore.household import Household
from projections import all_projections
from projections.base import Notified, Projection, ViewCursor, handles

ROOT = Path(__file__).resolve().parents[2]
SQL = re.compile(r"\b(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|WITH RECURSIVE|"
                 r"CREATE (TABLE|INDEX)|DROP TABLE|EXPLAIN)\b|\bFROM \w+ \w+ (WHERE|JOIN)\b")
DATABASE_CALLS = {"query", "execute", "executemany", "fetchall", "fetchone"}


def sql_in(path: Path) -> list[str]:
    """The SQL-looking string constants (f-string parts included) and database calls."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and SQL.search(node.value):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in DATABASE_CALLS:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .{node.func.attr}(...)")
    return found


def test_the_api_runs_no_sql_of_its_own() -> None:
    found = [hit for path in sorted((ROOT / "src/graphql_api").rglob("*.py"))
             for hit in sql_in(path)]
    assert not found, found


def test_the_check_finds_sql_where_there_is_some() -> None:
    hits = sql_in(ROOT / "projections/grid_rollup.py")
    assert any("SELECT" in h for h in hits) and any(".query(" in h for h in hits)


@pytest.mark.parametrize("projection", all_projections(), ids=lambda p: p.name)
def test_a_read_model_follows_exactly_the_events_it_has_handlers_for(
        projection: Projection) -> None:
    assert projection.handlers, f"{projection.name} registers no handler"
    assert projection.topics() == [get_topic(c) for c in projection.handlers]
    assert set(projection.follows) == set(projection.handlers)
    for event_class, handler in projection.handlers.items():
        assert resolve_topic(get_topic(event_class)) is event_class
        assert getattr(type(projection), handler.__name__) is handler


def test_a_hand_kept_list_of_followed_events_is_refused() -> None:
    with pytest.raises(TypeError, match="@handles"):
        class Listed(Projection):
            name = "test_listed"
            follows = (Household.Registered,)


def test_one_event_class_handled_twice_is_refused() -> None:
    with pytest.raises(TypeError, match="handled by both first and second"):
        class Twice(Projection):
            name = "test_twice"

            @handles(Household.Registered)
            def first(self, state: Any, nid: int, e: Any) -> None: ...

            @handles(Household.Registered, Household.Moved)
            def second(self, state: Any, nid: int, e: Any) -> None: ...


class Seen(Projection):
    """Records which handler saw which event, in order."""

    name = "test_seen"
    tables = ()
    ddl = ()

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> list[tuple[str, int]]:
        return []

    def end(self, cur: ViewCursor, seen: list[tuple[str, int]]) -> None:
        self.seen = seen

    @handles(Household.Registered, Household.Moved)
    def household(self, seen: list[tuple[str, int]], nid: int, e: Any) -> None:
        seen.append(("household", nid))

    @handles(GridNode.Established)
    def node(self, seen: list[tuple[str, int]], nid: int, e: Any) -> None:
        seen.append(("node", nid))


class SeenMore(Seen):
    """A subclass inherits its base's handlers and may override one by name."""

    name = "test_seen_more"

    @handles(GridNode.Moved)
    def moved(self, seen: list[tuple[str, int]], nid: int, e: Any) -> None:
        seen.append(("moved", nid))

    def node(self, seen: list[tuple[str, int]], nid: int, e: Any) -> None:
        seen.append(("node, overridden", nid))


def _event(cls: type) -> Any:
    return object.__new__(cls)  # dispatch reads the class only


def test_a_batch_goes_to_each_events_handler_in_log_order() -> None:
    p = Seen()
    events = [(3, _event(Household.Registered)), (5, _event(GridNode.Established)),
              (8, _event(Household.Moved))]
    p.apply(None, events)  # type: ignore[arg-type]  # no table: the cursor is not used
    assert p.seen == [("household", 3), ("node", 5), ("household", 8)]
    with pytest.raises(KeyError):  # an event of a topic it does not follow never reaches it
        p.apply(None, [(9, _event(GridNode.Moved))])  # type: ignore[arg-type]


def test_handlers_are_inherited_and_overridden_by_name() -> None:
    assert set(SeenMore.follows) == {Household.Registered, Household.Moved,
                                     GridNode.Established, GridNode.Moved}
    p = SeenMore()
    p.apply(None, [(1, _event(GridNode.Established)),  # type: ignore[arg-type]
                   (2, _event(GridNode.Moved)), (4, _event(Household.Moved))])
    assert p.seen == [("node, overridden", 1), ("moved", 2), ("household", 4)]
    assert set(Seen.follows) == {Household.Registered, Household.Moved, GridNode.Established}
