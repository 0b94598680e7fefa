"""PostgreSQL plans that must not depend on the tables' statistics: reading many aggregates
at once probes the events table's primary key per aggregate, on a log never analysed
(autovacuum off, or not yet run after a bulk load). As a join or ``= ANY`` the planner read
the whole log in parallel, a cost that grew with the log (25 ms against 1.5 ms for a
community's micro-grids at 60,000 households)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from adapters.settings import postgres_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.grid import node_id
from gridcore.household import household_id
from tests.conftest import PG_DSN
from tests.scenario import ZONES, given_community
from tests.stores.test_persistence import rows_for


@pytest.fixture
def big_log(pg_schema: str) -> Iterator[GridcoreApp]:
    app = GridcoreApp(postgres_env(PG_DSN, schema=pg_schema))
    given_community(app)
    for b in range(5):  # 10,000 households, about 20,000 events, never analysed: the
        # join form of the query is planned as a scan of the whole log already
        app.register_households(rows_for(2_000, ZONES[b % 2], f"P{b}"), by=System.OPERATOR)
    yield app
    app.close()


def plan(app: GridcoreApp, after: bool, params: tuple[Any, ...]) -> str:
    recorder: Any = app.recorder
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(b"EXPLAIN " + recorder.bulk_query(after).as_bytes(curs), params)
        return "\n".join(str(next(iter(r.values()))) for r in curs.fetchall())


def test_many_aggregates_are_read_by_their_key_on_a_log_never_analysed(
        big_log: GridcoreApp) -> None:
    ids = [node_id(z) for z in ZONES] + [household_id(f"P0-{i}") for i in range(28)]
    for after, params in ((True, (ids, [0] * len(ids))), (False, (ids,))):
        shown = plan(big_log, after, params)
        assert "Seq Scan" not in shown and "Gather" not in shown and "_pkey" in shown, shown
    read = big_log._find_many(type(big_log.node(ZONES[0])), [node_id(z) for z in ZONES])
    assert set(read) == {node_id(z) for z in ZONES}
