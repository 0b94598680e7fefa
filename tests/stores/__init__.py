"""Test helpers that look inside a store: which kind it is, and its subject-key rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.kek import is_pack
from adapters.settings import scratch_schema, sqlite_env
from adapters.vault import KEY_TABLE
from gridcore.application import GridcoreApp


def store_kind(app: GridcoreApp) -> str:
    return {"adapters.memory_store": "memory", "adapters.sqlite_store": "sqlite",
            "adapters.postgres_store": "postgres"}[type(app.factory).__module__]


def key_rows(app: GridcoreApp) -> dict[UUID, bytes]:
    """Every subject key the store holds, read from its key table."""
    kind = store_kind(app)
    recorder: Any = app.recorder
    if kind == "memory":
        with recorder.keys.lock:
            return dict(recorder.keys.keys)
    if kind == "sqlite":
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT subject_id, key FROM {KEY_TABLE}")
            return {UUID(r[0]): bytes(r[1]) for r in c.fetchall()}
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(f'SELECT subject_id, key FROM "{recorder.datastore.schema}".{KEY_TABLE}')
        return {r["subject_id"]: bytes(r["key"]) for r in curs.fetchall()}


def subject_keys(app: GridcoreApp) -> int:
    """How many subject keys the store holds: a row holds one, or a pack several (a bulk
    registration stores a household's keys as one row, ``adapters.kek.KeyRing.wrap_pack``)."""
    return sum(keys_in(key) for key in key_rows(app).values())


def keys_in(stored: bytes) -> int:
    """How many subject keys one stored row holds (a pack's entries are 48 bytes)."""
    return (len(stored) - 37) // 48 if is_pack(stored) else 1


KEYS_IN_ROW_SQLITE = ("CASE WHEN substr(key, 1, 1) = x'02' AND length(key) <> 32 "
                      "THEN (length(key) - 37) / 48 ELSE 1 END")
"""``keys_in`` in SQLite's SQL."""
KEYS_IN_ROW_POSTGRES = ("CASE WHEN get_byte(key, 0) = 2 AND octet_length(key) <> 32 "
                        "THEN (octet_length(key) - 37) / 48 ELSE 1 END")
"""``keys_in`` in PostgreSQL's SQL."""


@contextmanager
def scratch_env(kind: str, folder: Path) -> Iterator[dict[str, str]]:
    """The environment of a fresh SQLite file in ``folder`` or a fresh PostgreSQL schema
    (dropped afterwards; skipped or failed as ``need_postgres`` says when the server is down)."""
    from tests.conftest import PG_DSN, need_postgres

    if kind == "sqlite":
        yield sqlite_env(folder / "gridcore.sqlite")
        return
    need_postgres()
    with scratch_schema(PG_DSN, "t") as (_, env):
        yield env
