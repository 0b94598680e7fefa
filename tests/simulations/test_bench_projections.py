"""The catch-up benchmark's own checks (its speed is measured by ``make bench``): the default
groups, each in its own process side by side, build the very read models one process builds,
and the benchmark notices when they do not."""

from __future__ import annotations

import pytest

from adapters import demo
from adapters.settings import postgres_env
from gridcore.application import GridcoreApp
from projections.views import views_for
from simulations.benchmarks.projections import (
    final_rows,
    same_rows,
    timed_catch_up,
    timed_group_catch_up,
)
from tests.conftest import PG_DSN

pytestmark = pytest.mark.postgres


def test_the_groups_side_by_side_build_what_one_process_builds(pg_schema: str) -> None:
    env = postgres_env(PG_DSN, schema=pg_schema)
    app = GridcoreApp(env, clock=demo.ScenarioClock())
    try:
        demo.build(app)
        _, per = timed_catch_up(app)
        alone = final_rows(views_for(app))
        seconds, applied = timed_group_catch_up(app, env)
        assert seconds > 0
        assert applied == sum(n for n, _ in per.values()) > 1000
        assert same_rows(final_rows(views_for(app)), alone)
        assert sum(map(len, alone.values())) > 1000
    finally:
        app.close()


def test_rows_that_differ_in_one_table_are_not_the_same() -> None:
    a = {"t": [(1, "a"), (2, "b")], "u": [(3,)]}
    assert same_rows(a, {"t": [(2, "b"), (1, "a")], "u": [(3,)]})
    assert not same_rows(a, {"t": [(1, "a"), (2, "c")], "u": [(3,)]})
    assert not same_rows(a, {"t": [(1, "a"), (2, "b"), (2, "b")], "u": [(3,)]})
    assert not same_rows(a, {"t": [(1, "a"), (2, "b")]})
