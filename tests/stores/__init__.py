"""Test helpers that look inside a store: which kind it is, and its subject-key rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

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
