"""Where gridcore keeps its events, chosen by environment variables (see README).

``GRIDCORE_STORE``: ``sqlite`` (default, ``GRIDCORE_SQLITE_PATH``, default
``./var/gridcore.sqlite``; its read models in ``GRIDCORE_SQLITE_VIEWS_PATH``, default the same
name with ``.views`` before the suffix), ``postgres`` (``GRIDCORE_PG_DSN`` or the ``POSTGRES_*``
variables eventsourcing reads) or ``memory``. The result is an eventsourcing environment for
``GridcoreApp(env)``; explicit eventsourcing variables (``PERSISTENCE_MODULE``...) win.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlparse

DEFAULT_SQLITE_PATH = "./var/gridcore.sqlite"

CODEC = {"TRANSCODER_TOPIC": "adapters.codec:OrjsonTranscoder",
         "MAPPER_TOPIC": "adapters.codec:PydanticMapper"}
"""How events are stored on every store: the orjson transcoder and the pydantic mapper that
seals personal values (named here, by topic, so ``gridcore`` names no adapter)."""


def sqlite_env(path: str | os.PathLike[str],
               views: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """A SQLite store in ``path``, its read models in ``views`` (default: beside it,
    ``adapters.sqlite_store.views_path``)."""
    # a folder made here is owner-only, like the file (adapters.sqlite_store.owner_only)
    Path(path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {**CODEC, "PERSISTENCE_MODULE": "adapters.sqlite_store", "SQLITE_DBNAME": str(path),
           "SQLITE_LOCK_TIMEOUT": "30"}
    if views:
        env["SQLITE_VIEWS_DBNAME"] = str(views)
    return env


def postgres_env(dsn: str = "postgresql://postgres@127.0.0.1:5432/test",
                 schema: str = "") -> dict[str, str]:
    url = urlparse(dsn)
    env = {
        **CODEC,
        "PERSISTENCE_MODULE": "adapters.postgres_store",
        "POSTGRES_DBNAME": url.path.lstrip("/") or "test",
        "POSTGRES_HOST": url.hostname or "127.0.0.1",
        "POSTGRES_PORT": str(url.port or 5432),
        "POSTGRES_USER": unquote(url.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(url.password or ""),
        "POSTGRES_POOL_SIZE": "8",
        "POSTGRES_MAX_OVERFLOW": "16",
        # The library's default (5 s) let PostgreSQL kill a command's session on a loaded
        # machine (a 1,000,000-household run starved of CPU between two statements); a
        # minute still frees the locks of a client that died mid-transaction.
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT":
            os.environ.get("POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT") or "60",
    }
    if schema:
        env["POSTGRES_SCHEMA"] = schema
    return env


def memory_env() -> dict[str, str]:
    return {**CODEC, "PERSISTENCE_MODULE": "adapters.memory_store"}


def store_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The eventsourcing environment for the store the environment variables choose."""
    environ = os.environ if environ is None else environ
    store = environ.get("GRIDCORE_STORE", "sqlite").lower()
    if store == "sqlite":
        env = sqlite_env(environ.get("GRIDCORE_SQLITE_PATH", DEFAULT_SQLITE_PATH),
                         environ.get("GRIDCORE_SQLITE_VIEWS_PATH") or None)
    elif store == "postgres":
        env = postgres_env(environ.get("GRIDCORE_PG_DSN",
                                       "postgresql://postgres@127.0.0.1:5432/test"),
                           environ.get("GRIDCORE_PG_SCHEMA", ""))
    elif store == "memory":
        env = memory_env()
    else:
        raise ValueError(f"GRIDCORE_STORE={store!r} is unknown; use sqlite, postgres or memory")
    return env


@contextmanager
def scratch_schema(dsn: str, prefix: str = "scratch") -> Iterator[tuple[str, dict[str, str]]]:
    """A new PostgreSQL schema (``prefix_<random>``) and the environment of a store in it,
    dropped with everything in it afterwards (benchmarks, stress runs, tests)."""
    import psycopg

    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema, postgres_env(dsn, schema=schema)
    finally:
        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
