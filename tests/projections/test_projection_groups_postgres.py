"""Read models as several processes on PostgreSQL, each running a group of them with its own
positions (``gridcore projections run --group NAME``, real processes): exactly once when one
process is killed with SIGKILL again and again at random points and restarted while the other
keeps following the log as it grows, and when two processes are given the same group (the
views' fence, ``projections.views``). At the end every read model's position is the log's last
id and every table equals a rebuild from zero.

The log is the kill test's (``kill_harness``: the 712 demo, so every area has events, plus
bulk-registered households), smaller: the property needs many commits and kills, not a big log.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import demo
from adapters.bootstrap import bootstrap
from adapters.settings import store_env
from gridcore.authority import System
from projections.base import Projection
from projections.groups import DEFAULT_GROUPS
from projections.runner import Runner
from simulations.benchmarks import register
from tests.conftest import PG_DSN
from tests.projections.kill_harness import (
    POLL_EVERY,
    POLLS,
    Rebuild,
    counted,
    differences,
    postgres_log,
    rebuild_views,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

HOUSEHOLDS = int(os.environ.get("GRIDCORE_GROUPS_HOUSEHOLDS", "4000"))
LATER = 400
"""Households registered while the processes run (the follower and the restarts take them)."""
KILLS = int(os.environ.get("GRIDCORE_GROUPS_KILLS", "15"))
MAX_RUNS = 3 * KILLS  # bounds the kill loop (a run that finishes before it is killed is no kill)
BATCH = "100"  # events per commit: many commits, so kills fall between and inside them
KILLED, FOLLOWING = "grid", "field,boards"
CEILING = float(os.environ.get("GRIDCORE_TEST_CEILING", "600"))
GRIDCORE = Path(sys.executable).with_name("gridcore")


@pytest.fixture(scope="module")
def log() -> Iterator[dict[str, str]]:
    yield from postgres_log(HOUSEHOLDS, minimum=10_000)


def start_run(env: dict[str, str], name: Path, group: str,
              once: bool) -> tuple[subprocess.Popen[bytes], Path]:
    """``gridcore projections run --group GROUP`` over ``env``'s store; its output in a file."""
    out = name.with_name(f"{name.name}-{group.replace(',', '+')}.log")
    with out.open("wb") as f:  # a file, not a pipe: a full pipe would block the process
        proc = subprocess.Popen(
            [str(GRIDCORE), "projections", "run", "--group", group, "--batch", BATCH,
             *(["--once"] if once else [])],
            env={**os.environ, **env}, stdout=f, stderr=subprocess.STDOUT)
    return proc, out


class Processes:
    """Starts ``gridcore projections run --group`` processes over the log and reads the
    positions on a connection of its own."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder, self.started = env, folder, 0
        self.system = bootstrap(store_env(env))
        self.runner = self.system.runner()  # sets up every read model's tables, runs none
        self.views = self.runner.views

    def start(self, group: str, once: bool) -> tuple[subprocess.Popen[bytes], Path]:
        self.started += 1
        return start_run(self.env, self.folder / f"run-{self.started}", group, once)

    def of(self, groups: str) -> list[Projection]:
        names = {n for g in groups.split(",") for n in DEFAULT_GROUPS[g]}
        return [p for p in self.runner.projections.values() if p.name in names]

    def progress(self, projections: list[Projection]) -> int:
        positions = self.views.positions()
        return sum(positions.get(p.tracking_name, 0) for p in projections)

    def at(self, projections: list[Projection], last: int) -> bool:
        positions = self.views.positions()
        return all(positions.get(p.tracking_name, 0) == last for p in projections)

    def last(self) -> int:
        return self.system.app.recorder.max_notification_id() or 0

    def close(self) -> None:
        self.system.close()


def finished(proc: subprocess.Popen[bytes], out: Path) -> int:
    code = proc.wait(timeout=CEILING)
    assert code in (0, -signal.SIGKILL), (
        f"the process failed ({code}):\n{out.read_text(errors='replace')[-3000:]}")
    return code


def run_and_kill(ps: Processes, rng: random.Random) -> bool:
    """One run of the killed group, killed at a random point; True if it was still working."""
    grid = ps.of(KILLED)
    before = ps.progress(grid)
    proc, out = ps.start(KILLED, once=True)
    if rng.random() < 0.8:  # mostly mid-catch-up, after the run has committed something
        for _ in range(POLLS):
            if proc.poll() is not None or ps.progress(grid) > before:
                break
            time.sleep(POLL_EVERY)
    time.sleep(rng.uniform(0.0, 0.15))  # the fault: a kill at a random point
    proc.send_signal(signal.SIGKILL)
    return finished(proc, out) == -signal.SIGKILL


def register_more(env: dict[str, str]) -> None:
    """LATER households more, in the zones the log already has (while the processes run)."""
    system = bootstrap(store_env(env), clock=demo.ScenarioClock())
    try:
        rows = register.make_rows(HOUSEHOLDS + LATER, register.grid_codes(HOUSEHOLDS))
        system.app.register_households(rows[HOUSEHOLDS:], by=System.OPERATOR)
    finally:
        system.close()


def until(condition: Any, what: str, follower: subprocess.Popen[bytes] | None = None) -> None:
    """Wait on an observable condition (CEILING is a safety net, not a duration)."""
    deadline = time.monotonic() + CEILING
    while not condition():
        assert follower is None or follower.poll() is None, "the following process stopped"
        assert time.monotonic() < deadline, f"not within {CEILING} s: {what}"
        time.sleep(POLL_EVERY)


def equal_to_a_rebuild(ps: Processes, rebuilt: Any, projections: list[Projection],
                       last: int) -> None:
    assert ps.views.failures() == {}
    for p in projections:
        assert (p.name, ps.views.position(p)) == (p.name, last)
        assert (p.name, rebuilt.position(p)) == (p.name, last)
        found = differences(counted(ps.views, p), counted(rebuilt, p))
        assert not found, (p.name, found)


def test_one_group_killed_again_and_again_another_following_equal_a_rebuild(
        log: dict[str, str], tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("GRIDCORE_KILL_SEED", "20200217")))
    ps = Processes(log, tmp_path)
    follower, follower_out = ps.start(FOLLOWING, once=False)
    rebuild = None
    try:
        kills = runs = 0
        while kills < KILLS and runs < MAX_RUNS:
            runs += 1
            if runs == KILLS // 2:
                register_more(log)  # the log grows while one runs and the other follows
                rebuild = Rebuild(log, tmp_path)  # from zero, beside the kills
                rebuild.start()
            if run_and_kill(ps, rng):
                kills += 1
            elif ps.at(ps.of(KILLED), ps.last()):
                for p in ps.of(KILLED):  # it got to the end: start over and keep killing
                    ps.views.reset(p)
        assert kills >= KILLS, f"only {kills} of {runs} runs were killed while working"
        assert rebuild is not None
        last = ps.last()
        assert finished(*ps.start(KILLED, once=True)) == 0

        def there() -> bool:  # a read model stuck on the way never gets there: say why
            assert ps.views.failures() == {}, ps.views.failures()
            return ps.at(ps.of(FOLLOWING), last)

        until(there, "the follower at the log's end", follower)
        assert follower.poll() is None, follower_out.read_text(errors="replace")[-3000:]
        rebuild.join(timeout=CEILING)
        assert not rebuild.is_alive() and rebuild.error is None, rebuild.error
        equal_to_a_rebuild(ps, rebuild.views, list(ps.runner.projections.values()), last)
    finally:
        follower.kill()
        follower.wait(timeout=60)
        if rebuild is not None:
            rebuild.join(timeout=CEILING)
            rebuild.close()
        ps.close()


def test_two_processes_given_the_same_group_apply_each_event_once(
        log: dict[str, str], tmp_path: Path) -> None:
    """Both catch the same group up from zero side by side: together they apply exactly as
    many events as one rebuild does (a batch one of them committed first is discarded by the
    other, and read again from the new position), and the tables equal the rebuild's."""
    ps = Processes(log, tmp_path)
    rebuilt = rebuild_views(log, tmp_path)
    try:
        grid = ps.of(KILLED)
        for p in grid:
            ps.views.reset(p)
        started = [ps.start(KILLED, once=True) for _ in range(2)]
        alone = Runner(ps.system.app, grid, views=rebuilt)
        for p in grid:
            rebuilt.reset(p)
        expected = alone.catch_up()
        applied = 0
        for proc, out in started:
            assert proc.wait(timeout=CEILING) == 0, out.read_text(errors="replace")[-3000:]
            applied += int(re.findall(r"caught up: (\d+) events applied", out.read_text())[-1])
        assert applied == expected > 0
        equal_to_a_rebuild(ps, rebuilt, grid, ps.last())
    finally:
        rebuilt.datastore.close()
        ps.close()


def test_the_groups_processes_started_together_on_a_new_schema_all_start(
        pg_schema: str, tmp_path: Path) -> None:
    """Each creates the tables it needs; without one process at a time doing so, PostgreSQL's
    catalogue made one of four such processes fail (a unique violation on ``pg_type``)."""
    env = {"GRIDCORE_STORE": "postgres", "GRIDCORE_PG_DSN": PG_DSN,
           "GRIDCORE_PG_SCHEMA": pg_schema}  # an empty schema: the processes make the tables
    started = [start_run(env, tmp_path / f"run-{i}", group, once=True)
               for i, group in enumerate([*DEFAULT_GROUPS, KILLED])]
    for proc, out in started:
        assert proc.wait(timeout=CEILING) == 0, out.read_text(errors="replace")[-3000:]
        assert "caught up: 0 events applied" in out.read_text()


def test_the_groups_commit_side_by_side_and_each_read_model_has_one_writer_at_a_time(
        pg_schema: str) -> None:
    """The fence's lock is per read model: while one transaction holds ``public_notices``'s,
    a batch of ``alerts_board`` (another group's) commits, and one of ``public_notices`` waits
    for it. One lock for the whole schema made the groups' processes take turns: three of them
    caught up no faster than one process."""
    import threading

    import psycopg

    from projections.base import ViewCursor

    env = {"GRIDCORE_STORE": "postgres", "GRIDCORE_PG_DSN": PG_DSN,
           "GRIDCORE_PG_SCHEMA": pg_schema}
    system = bootstrap(store_env(env))
    runner = system.runner(groups=["boards"])
    views = runner.views
    notices, alerts = runner.projections["public_notices"], runner.projections["alerts_board"]
    held, release = threading.Event(), threading.Event()
    holder: list[int] = []

    def hold() -> None:
        with views.datastore.transaction(commit=True) as c:
            views._enter(c)
            views._fence(ViewCursor(c, views.dialect), {notices.tracking_name: 0})
            c.execute("SELECT pg_backend_pid()")
            holder.append(int(next(iter(c.fetchone().values()))))
            held.set()
            release.wait(CEILING)

    def someone_waits() -> bool:
        """Whether a transaction waits for the holder's (PostgreSQL's lock table)."""
        with psycopg.connect(PG_DSN, autocommit=True) as c:
            row = c.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY("
                            "pg_blocking_pids(pid))", (holder[0],)).fetchone()
        return bool(row and row[0])

    threads = [threading.Thread(target=hold)]
    try:
        threads[0].start()
        until(held.is_set, "the first transaction holds public_notices's lock")
        other = threading.Thread(target=views.apply_batch, args=(alerts, [], 7),
                                 kwargs={"since": 0})
        same = threading.Thread(target=views.apply_batch, args=(notices, [], 7),
                                kwargs={"since": 0})
        threads += [other, same]
        other.start()
        until(lambda: not other.is_alive() or someone_waits(),
              "the other read model's batch commits or waits")
        assert not other.is_alive(), "another read model's batch waits for this one's lock"
        assert views.position(alerts) == 7
        same.start()
        until(someone_waits, "the same read model's batch waits for the lock")
        assert same.is_alive() and views.position(notices) == 0
        release.set()
        same.join(CEILING)
        assert views.position(notices) == 7  # the holder moved nothing: its fence passes
    finally:
        release.set()
        for t in threads:
            if t.ident is not None:
                t.join(CEILING)
        system.close()
