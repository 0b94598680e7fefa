"""The ``gridcore`` command: the home of every verb (``gridcore demo``, ``gridcore import``...)."""

from __future__ import annotations

import typer

from adapters.settings import store_env
from gridcore.application import GridcoreApp

cli = typer.Typer(help="gridcore: community grid management (社区网格化管理)", no_args_is_help=True)


def open_app() -> GridcoreApp:
    """The application over the store chosen by GRIDCORE_STORE (SQLite by default)."""
    return GridcoreApp(store_env())


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
