"""Projection versions: a view stored at another version than its projection's (a change of
the tables' shape, such as the grid rollup's vulnerabilities) is dropped and built again from
the first event when a runner starts; a view at its version keeps its rows and position."""

from __future__ import annotations

from typing import Any

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.household import Vulnerability
from projections.base import ViewCursor
from projections.grid_rollup import GridRollup
from projections.runner import Runner
from projections.views import VERSIONS
from tests.scenario import given_community


@pytest.fixture
def sql_store(request: pytest.FixtureRequest, store: dict[str, str]) -> dict[str, str]:
    if store["PERSISTENCE_MODULE"] == "adapters.memory_store":
        pytest.skip("the views of the in-memory store are covered by sqlite/postgres")
    return store


def dump(runner: Runner) -> dict[str, list[tuple[Any, ...]]]:
    return {t: sorted(runner.views.query(f"SELECT * FROM {t}"), key=repr)
            for t in GridRollup.tables}


def test_a_view_of_an_older_version_is_built_again(sql_store: dict[str, str], clock: Any
                                                   ) -> None:
    app = GridcoreApp(sql_store, clock=clock)
    c = given_community(app)
    h = app.household(c.households[0])
    app.mark_vulnerability(h.id, sorted(h.residents)[0], Vulnerability.PREGNANCY,
                           by=System.OPERATOR)
    runner = Runner(app, [GridRollup()])
    runner.catch_up()
    want = dump(runner)
    assert runner.views.query(f"SELECT version FROM {VERSIONS} WHERE name = ?",
                              ("grid_rollup",)) == [(GridRollup.version,)]
    # the same version: rows and position stay
    again = Runner(GridcoreApp(sql_store, clock=clock), [GridRollup()])
    assert again.catch_up() == 0 and dump(again) == want
    # a view as version 1 left it: households packed without vulnerabilities, no marks
    with runner.views.datastore.transaction(commit=True) as c:
        runner.views._enter(c)
        cur = ViewCursor(c, runner.views.dialect)
        cur.execute(f"UPDATE {VERSIONS} SET version = 1 WHERE name = ?", ("grid_rollup",))
        cur.execute("UPDATE gr_households SET residents = '{}'")
        cur.execute("DELETE FROM gr_vulnerable")
    assert dump(runner) != want
    old = Runner(GridcoreApp(sql_store, clock=clock), [GridRollup()])
    assert old.status()[0].position == 0  # dropped with its position
    assert old.catch_up() > 0
    assert dump(old) == want
    assert old.views.query(f"SELECT version FROM {VERSIONS} WHERE name = ?",
                           ("grid_rollup",)) == [(GridRollup.version,)]
