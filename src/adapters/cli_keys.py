"""``gridcore keys rotate``: re-wrap every subject key under a new key-encryption key.

With ``GRIDCORE_KEK_FILE`` (the default): a new KEK is put first in the file, every stored key
is re-wrapped with it in one transaction (the old KEK still reads the store meanwhile, and if
the run fails), then the old KEKs are dropped from the file (``--keep-old`` keeps them, for
other stores that share the file). With ``GRIDCORE_KEK``: the operator puts the new key first
in the variable and runs the command; the retired keys are removed from the variable after.

Stop the processes that write to the store (serve, stream worker, scheduler) while rotating:
a process keeps the KEKs it read when it started.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from rich.console import Console

from adapters.kek import (
    KEK_ENV,
    KekError,
    KeyRing,
    kek_file,
    kek_id,
    load_ring,
    new_kek,
    write_kek_file,
)

keys_cli = typer.Typer(help="Key-encryption keys (密钥轮换).", no_args_is_help=True)


@dataclass(frozen=True)
class Rotation:
    rewrapped: int
    current: str
    retired: list[str]
    source: str


def rotate_store_keys(app: Any, environ: Mapping[str, str] | None = None,
                      keep_old: bool = False) -> Rotation:
    """Re-wrap every subject key of ``app``'s store under a new KEK (see the module)."""
    environ = app.env if environ is None else environ
    recorder = app.recorder
    if not hasattr(recorder, "rewrap_keys"):
        raise KekError("The in-memory store keeps no keys beyond its process; nothing to rotate.")
    vault = app.factory.vault
    ring = load_ring(environ)
    if environ.get(KEK_ENV):
        done = recorder.rewrap_keys(ring)
        vault.use_ring(ring)
        return Rotation(done, ring.ids()[0], ring.ids()[1:], KEK_ENV)
    path = kek_file(environ)
    kek = new_kek()
    during = KeyRing((kek, *ring.keks), str(path))
    write_kek_file(path, during.keks)  # the old KEKs stay readable until every key is re-wrapped
    vault.use_ring(during)
    done = recorder.rewrap_keys(during)
    retired = [kek_id(k).hex() for k in ring.keks]
    if not keep_old:
        after = KeyRing((kek,), str(path))
        write_kek_file(path, after.keks)
        vault.use_ring(after)
    return Rotation(done, kek_id(kek).hex(), retired, str(path))


@keys_cli.callback()
def keys_root() -> None:
    """Key-encryption keys (密钥轮换)."""


@keys_cli.command("rotate")
def rotate(
    keep_old: Annotated[bool, typer.Option(
        "--keep-old", help="Keep the old KEKs in the KEK file (other stores share it).")] = False,
) -> None:
    """Re-wrap every subject key of the configured store under a new key-encryption key."""
    from adapters.settings import store_env
    from gridcore.application import GridcoreApp

    console = Console()
    try:
        app = GridcoreApp(store_env())
        try:
            result = rotate_store_keys(app, keep_old=keep_old)
        finally:
            app.close()
    except KekError as e:
        console.print(f"[red]{e}[/red]")
        raise typer.Exit(2) from None
    console.print(f"re-wrapped {result.rewrapped} subject keys under KEK {result.current} "
                  f"({result.source})")
    if result.source == KEK_ENV:
        if result.retired:
            console.print(f"remove the retired keys ({', '.join(result.retired)}) from "
                          f"{KEK_ENV}")
    elif keep_old:
        console.print(f"kept the old KEKs ({', '.join(result.retired)}) in {result.source}")
    else:
        console.print(f"retired KEKs {', '.join(result.retired)}; backups of the database "
                      "taken before now open only with a backup of the old KEK file")
