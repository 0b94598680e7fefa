"""The API's access and mutation tests again, over PostgreSQL (events, read models and the
API's own queries in one PostgreSQL schema); skipped with a reason when the server is down
(failing instead on CI)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from adapters.settings import postgres_env
from tests.api.test_api_access import (  # noqa: F401 (collected here, over PostgreSQL)
    World,
    serve_world,
    test_a_grid_worker_sees_only_their_grid_through_every_path,
    test_a_page_of_households_costs_the_same_queries_whatever_its_size,
    test_households_by_id_and_nested_follow_the_jurisdiction,
    test_nodes_top_level_and_nested_follow_the_jurisdiction,
    test_outside_answers_like_a_record_that_does_not_exist,
    test_paginated_households_under_me_are_exactly_my_subtree,
    test_rollup_counts_match_the_subtree,
)
from tests.api.test_api_mutations import (  # noqa: F401
    test_change_health_reads_its_own_write_applies_a_client_id_once_and_time_travels,
    test_filtered_households_are_those_with_one_resident_matching_every_filter,
    test_outside_the_jurisdiction_answers_as_for_a_missing_household,
    test_refusals_are_typed_problems_and_write_nothing,
)
from tests.conftest import PG_DSN, need_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    need_postgres()
    import psycopg

    schema = f"t_api_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_DSN, autocommit=True) as c:
        c.execute(f"CREATE SCHEMA {schema}")
    try:
        with serve_world(postgres_env(PG_DSN, schema)) as w:
            yield w
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as c:
            c.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
