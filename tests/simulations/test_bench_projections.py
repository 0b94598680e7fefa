"""The catch-up benchmark's own checks (its speed is measured by ``make bench``): the default
groups, each in its own process side by side, build the very read models one process builds,
and the benchmark notices when they do not; the best shape it measures a floor in holds every
value of the tables it merges."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import demo
from adapters.settings import postgres_env, sqlite_env
from gridcore.application import GridcoreApp
from projections.views import views_for
from simulations.benchmarks.projections import (
    HOUSEHOLD_TABLES,
    WIDE,
    Result,
    best_shape,
    final_rows,
    insert_floor,
    same_rows,
    table_columns,
    table_of,
    timed_catch_up,
    timed_group_catch_up,
    widened,
)
from simulations.benchmarks.projections import (
    table as bench_table,
)
from tests.conftest import PG_DSN


@pytest.mark.postgres
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


def test_widening_shares_a_column_only_where_every_household_agrees_and_numbers_them() -> None:
    columns = {"a": [("household_id", "TEXT"), ("grid", "TEXT"), ("size", "BIGINT")],
               "b": [("household_id", "TEXT"), ("grid", "TEXT"), ("no", "TEXT")],
               "c": [("household_id", "TEXT"), ("grid", "TEXT")],
               "line": [("household_id", "TEXT"), ("at", "BIGINT")],
               "other": [("x", "BIGINT")]}
    rows = {"a": [("h1", "g1", 1), ("h2", "g2", 2)],
            "b": [("h1", "g1", "N1"), ("h2", "g2", "N2")],
            "c": [("h1", "g1"), ("h2", "g9")],  # h2 moved, and c does not know yet
            "line": [("h2", 5), ("h1", 6), (None, 7), ("h3", 8)],
            "other": [(1,)]}
    ddl = ["CREATE TABLE IF NOT EXISTS a (household_id TEXT PRIMARY KEY, grid TEXT, "
           "size BIGINT)",
           "CREATE INDEX IF NOT EXISTS a_grid ON a (grid, household_id)",
           "CREATE INDEX IF NOT EXISTS b_grid ON b (grid, household_id)",
           "CREATE UNIQUE INDEX IF NOT EXISTS c_grid ON c (grid)",
           "CREATE TABLE IF NOT EXISTS line (household_id TEXT, at BIGINT)",
           "CREATE INDEX IF NOT EXISTS line_at ON line (household_id, at)",
           "CREATE TABLE IF NOT EXISTS other (x BIGINT)"]
    shape = widened(rows, columns, ddl, tables=("a", "b", "c"))
    assert shape.moved[("b", "grid")] == "grid" and shape.moved[("c", "grid")] == "c_grid"
    assert shape.rows[WIDE] == [(1, "h1", "g1", 1, "N1", "g1"), (2, "h2", "g2", 2, "N2", "g9")]
    # the households' numbers in the other tables (one they do not name: the next number)
    assert shape.rows["line"] == [(2, 5), (1, 6), (None, 7), (3, 8)]
    assert shape.rows["other"] == [(1,)] and not {"a", "b", "c"} & set(shape.rows)
    assert shape.ddl == [
        f"CREATE TABLE {WIDE} (household_n INTEGER PRIMARY KEY, household_id TEXT NOT NULL "
        "UNIQUE, grid TEXT, size BIGINT, no TEXT, c_grid TEXT)",
        f"CREATE INDEX {WIDE}_1 ON {WIDE} (grid, household_n)",  # a's and b's: once
        f"CREATE UNIQUE INDEX {WIDE}_2 ON {WIDE} (c_grid)",
        "CREATE TABLE IF NOT EXISTS line (household_id BIGINT, at BIGINT)",
        "CREATE INDEX IF NOT EXISTS line_at ON line (household_id, at)",
        "CREATE TABLE IF NOT EXISTS other (x BIGINT)"]
    with pytest.raises(ValueError, match="not a CREATE TABLE"):
        table_of("DROP TABLE other")


def test_the_best_shape_of_the_demo_holds_every_value_the_read_models_hold(
        tmp_path: Path) -> None:
    clock = demo.ScenarioClock()
    app = GridcoreApp(sqlite_env(tmp_path / "demo.sqlite"), clock=clock)
    try:
        demo.build(app)
        timed_catch_up(app)
        views = views_for(app)
        rows = final_rows(views)
        shape = best_shape(views, rows)
        columns = {t: [c for c, _ in table_columns(views, t)] for t in rows}
    finally:
        app.close()
    households = {r[0] for t in HOUSEHOLD_TABLES for r in rows[t]}
    create = shape.ddl[0]
    names = [c.split()[0] for c in create[create.index("(") + 1:-1].split(", ")]
    wide = {r[names.index("household_id")]: r for r in shape.rows[WIDE]}
    assert len(households) > 100 and wide.keys() == households
    assert len(shape.rows[WIDE]) < sum(len(rows[t]) for t in HOUSEHOLD_TABLES) / 5
    for table in HOUSEHOLD_TABLES:
        for row in rows[table]:
            found = wide[row[0]]
            assert [found[names.index(shape.moved[(table, c)])] for c in columns[table]] \
                == list(row)
    # the micro-grid is one column: every read model agrees on every household's
    assert shape.moved[("cf_households", "micro_grid")] == "micro_grid"
    # every other table holds the same rows, a household's number for its id
    ids = {r[0]: r[1] for r in shape.rows[WIDE]}
    numbered = 0
    for table, its in rows.items():
        if table in HOUSEHOLD_TABLES:
            continue
        at = columns[table].index("household_id") if "household_id" in columns[table] else -1
        back = [tuple(ids.get(v, v) if i == at and v is not None else v
                      for i, v in enumerate(row)) for row in shape.rows[table]]
        assert back == its, table
        numbered += sum(1 for row in shape.rows[table] if at >= 0 and row[at] is not None)
    assert numbered > 1000
    fresh = GridcoreApp(sqlite_env(tmp_path / "best.sqlite"), clock=clock)
    try:
        assert insert_floor(fresh, shape.rows, shape.ddl) > 0
        assert len(views_for(fresh).query(f"SELECT * FROM {WIDE}")) == len(households)
    finally:
        fresh.close()


def test_the_table_reports_each_floor_and_the_bound_as_ratios_of_the_raw_read() -> None:
    # 1,000 events; the raw read takes 0.01 s (100,000 rows/s), reading and decoding 0.1 s
    r = Result("SQLite", 1000, 0.01, 1.0, 0.1, {"grid_rollup": (900, 0.5)}, 10, 0.2,
               best_rows=5, best_seconds=0.4)
    assert (r.ratio, r.floor_ratio, r.best_ratio) == pytest.approx((0.01, 0.05, 0.025))
    assert r.bound_ratio == pytest.approx(1000 / 0.5 / 100_000)  # read + decode + best floor
    assert r.group_ratio == 0.0  # not measured
    row = bench_table([r]).splitlines()[2]
    assert row.endswith("| one writer per file | - | 5 | 0.4 | 2.5% | 2.0% |")
    assert "| 1.0% | ≥ 15% |" in row
