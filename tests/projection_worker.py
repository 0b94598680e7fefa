"""A projection process for the kill tests: catch every projection up over the store the
environment names, then exit. The test kills it with SIGKILL at random points.

Environment: ``GRIDCORE_STORE`` (``sqlite``/``postgres``) with ``GRIDCORE_SQLITE_PATH`` or
``GRIDCORE_PG_DSN`` + ``GRIDCORE_PG_SCHEMA`` (see ``adapters.settings``), and
``GRIDCORE_PROJECTION_BATCH`` (default 500). Prints ``done <events applied>`` when finished.
Run as a script, or forked by ``run_forked`` (the kill tests start fifty-odd runs: forked from
a process that imported everything once, each starts in milliseconds instead of a second).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``tests`` and ``projections`` importable
    sys.path.insert(0, str(ROOT))

from adapters.settings import store_env  # noqa: E402
from gridcore.application import GridcoreApp  # noqa: E402
from projections import all_projections  # noqa: E402
from projections.base import Projection  # noqa: E402


def projection_set() -> list[Projection]:
    """Every read model there is, plus the runner tests' example projection, so the set is
    never empty (the kill and contract tests hold for whatever read models exist)."""
    from tests.projections.test_projection_runner import HouseholdsPerGrid

    found = all_projections()
    if any(p.name == HouseholdsPerGrid.name for p in found):
        return found
    return [*found, HouseholdsPerGrid()]


def main() -> int:
    from projections.runner import Runner

    batch = int(os.environ.get("GRIDCORE_PROJECTION_BATCH", "500"))
    app = GridcoreApp(store_env())
    try:
        applied = Runner(app, projection_set(), batch=batch).catch_up()
    finally:
        app.close()
    print(f"done {applied}", flush=True)
    return 0


def run_forked(env: dict[str, str], log: str) -> None:
    """The same run in a process forked from an already-imported one (the kill tests' fork
    server): the environment given, stderr appended to ``log``, stdout discarded."""
    err = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(err, 2)
    out = os.open(os.devnull, os.O_WRONLY)
    os.dup2(out, 1)
    os.environ.update(env)
    sys.exit(main())


if __name__ == "__main__":
    sys.exit(main())
