"""Helpers the read models share: UTC time stamps as sortable text, batched reads by key
(``chunks``, ``marks``), a node->parent table kept from grid events with recursive queries
over it, and ``Patches``, which folds a batch's changes per row and writes them with one
``executemany`` per statement shape."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gridcore.grid import GridNode
from projections.base import ViewCursor


def ts(when: datetime | None) -> str | None:
    """A time as UTC ISO text with microseconds: text order is time order on both databases."""
    return None if when is None else when.astimezone(UTC).isoformat(timespec="microseconds")


def from_ts(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


CHUNK = 500
"""Keys per statement of a batched read (``IN (...)``)."""


def chunks(keys: Sequence[str]) -> list[list[str]]:
    """The distinct keys, sorted, in parts of ``CHUNK`` (one statement each)."""
    unique = sorted(set(keys))
    return [unique[i:i + CHUNK] for i in range(0, len(unique), CHUNK)]


def marks(n: int) -> str:
    """``n`` placeholders for an ``IN (...)`` list."""
    return ", ".join("?" * n)


def node_ddl(table: str) -> tuple[str, ...]:
    return (f"CREATE TABLE IF NOT EXISTS {table} (node_id TEXT PRIMARY KEY, code TEXT NOT NULL, "
            "parent TEXT, level BIGINT NOT NULL)",
            f"CREATE UNIQUE INDEX IF NOT EXISTS {table}_code ON {table} (code)",
            f"CREATE INDEX IF NOT EXISTS {table}_parent ON {table} (parent)")


def apply_nodes(cur: ViewCursor, table: str, events: Iterable[Any]) -> None:
    """Keep ``table`` (node id, code, parent, level) from the batch's grid node events."""
    new: dict[str, list[Any]] = {}
    moved: dict[str, str] = {}
    for e in events:
        key = str(e.originator_id)
        if type(e) is GridNode.Established:
            new[key] = [key, e.code, e.parent_code, int(e.level)]
        elif type(e) is GridNode.Moved:
            if key in new:
                new[key][2] = e.parent_code
            else:
                moved[key] = e.parent_code
    cur.executemany(f"INSERT INTO {table} (node_id, code, parent, level) VALUES (?, ?, ?, ?)",
                    list(new.values()))
    cur.executemany(f"UPDATE {table} SET parent = ? WHERE node_id = ?",
                    [(parent, key) for key, parent in moved.items()])


Under = str | Sequence[str]
"""Where a board answers: the subtree of one node (its code), or of each of several nodes (a
jurisdiction of several nodes: a grid worker's zones)."""


def roots(under: Under) -> list[str]:
    """The nodes ``under`` names, each once, in the order given."""
    return list(dict.fromkeys([under] if isinstance(under, str) else under))


def subtree_cte(table: str, n: int = 1, parent: str = "parent") -> str:
    """``sub(code)``: the ``n`` nodes ``?`` and every node under them (as the tree is now),
    each once: of several nodes, ``UNION`` drops a node reached twice (one named inside
    another), so a board that joins ``sub`` never counts a row twice (none for ``n = 0``)."""
    start = "code = ?" if n == 1 else f"code IN ({marks(n) or 'NULL'})"
    union = "UNION ALL" if n == 1 else "UNION"
    return (f"WITH RECURSIVE sub(code) AS (SELECT code FROM {table} WHERE {start} "
            f"{union} SELECT n.code FROM {table} n JOIN sub s ON n.{parent} = s.code) ")


def chain_cte(table: str) -> str:
    """``up(code, parent)``: the node ``?`` and its ancestors (as the tree is now)."""
    return (f"WITH RECURSIVE up(code, parent) AS (SELECT code, parent FROM {table} "
            f"WHERE code = ? UNION ALL SELECT n.code, n.parent FROM {table} n "
            f"JOIN up u ON n.code = u.parent) ")


@dataclass(frozen=True)
class Expr:
    """A SQL expression as a column's new value (evaluated against the row being updated)."""

    sql: str


class Patches:
    """A batch's changes to one table, folded per row in log order: rows created in the batch
    are written whole by one INSERT; other rows get one UPDATE per touched-column shape."""

    def __init__(self, table: str, key: str) -> None:
        self.table, self.key = table, key
        self.new: dict[str, dict[str, Any]] = {}
        self.sets: dict[str, dict[str, Any]] = {}
        self.adds: dict[str, dict[str, int]] = {}

    def insert(self, key: str, row: dict[str, Any]) -> None:
        self.new[key] = {self.key: key, **row}

    def known(self, key: str, column: str) -> tuple[bool, Any]:
        """The column's value when this batch has determined it."""
        if key in self.new:
            return True, self.new[key][column]
        if column in self.sets.get(key, {}) and column not in self.adds.get(key, {}):
            return True, self.sets[key][column]
        return False, None

    def set(self, key: str, **columns: Any) -> None:
        if key in self.new:
            self.new[key].update(columns)
            return
        self.sets.setdefault(key, {}).update(columns)
        for column in columns:
            self.adds.get(key, {}).pop(column, None)

    def add(self, key: str, **deltas: int) -> None:
        if key in self.new:
            for column, delta in deltas.items():
                self.new[key][column] += delta
            return
        sets, adds = self.sets.setdefault(key, {}), self.adds.setdefault(key, {})
        for column, delta in deltas.items():
            if column in sets:  # set earlier in the batch: the value is known
                sets[column] += delta
            else:
                adds[column] = adds.get(column, 0) + delta

    def flush(self, cur: ViewCursor) -> None:
        shapes: dict[tuple[str, ...], list[list[Any]]] = {}
        for row in self.new.values():
            shapes.setdefault(tuple(row), []).append(list(row.values()))
        for columns, rows in shapes.items():
            cur.insert(self.table, ", ".join(columns), rows)
        updates: dict[tuple[Any, ...], list[list[Any]]] = {}
        for key in dict.fromkeys([*self.sets, *self.adds]):
            sets, adds = self.sets.get(key, {}), self.adds.get(key, {})
            plain = sorted(c for c, v in sets.items() if not isinstance(v, Expr))
            exprs = sorted((c, v.sql) for c, v in sets.items() if isinstance(v, Expr))
            shape = (tuple(plain), tuple(exprs), tuple(sorted(adds)))
            params = [sets[c] for c in plain] + [adds[c] for c in shape[2]] + [key]
            updates.setdefault(shape, []).append(params)
        for (plain, exprs, added), rows in updates.items():
            assignments = ([f"{c} = ?" for c in plain] + [f"{c} = {sql}" for c, sql in exprs]
                           + [f"{c} = {c} + ?" for c in added])
            if assignments:
                cur.executemany(f"UPDATE {self.table} SET {', '.join(assignments)} "
                                f"WHERE {self.key} = ?", rows)
