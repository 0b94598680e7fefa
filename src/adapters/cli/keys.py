"""``gridcore keys rotate`` (the rotation itself: ``adapters.key_rotation``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from adapters.bootstrap import bootstrap
from adapters.kek import KEK_ENV, KekError
from adapters.key_rotation import rotate_store_keys

keys_cli = typer.Typer(help="Key-encryption keys (密钥轮换).", no_args_is_help=True)


@keys_cli.callback()
def keys_root() -> None:
    """Key-encryption keys (密钥轮换)."""


@keys_cli.command("rotate")
def rotate(
    keep_old: Annotated[bool, typer.Option(
        "--keep-old", help="Keep the old KEKs in the KEK file (other stores share it).")] = False,
) -> None:
    """Re-wrap every subject key of the configured store under a new key-encryption key
    (safe while serve and the workers run, with a KEK file)."""
    console = Console()
    try:
        app = bootstrap().app
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
        if result.kept:
            console.print(
                f"the old keys ({', '.join(result.kept)}) stay in {KEK_ENV}: a running "
                "process reads it only at start. Restart every process that writes (serve, "
                "stream worker, scheduler) with the new key first, run `gridcore keys rotate` "
                f"again, and only then remove the old keys from {KEK_ENV}")
    elif keep_old:
        console.print(f"kept the old KEKs ({', '.join(result.kept)}) in {result.source}")
    else:
        console.print(f"retired KEKs {', '.join(result.retired)}; backups of the database "
                      "taken before now open only with a backup of the old KEK file")
