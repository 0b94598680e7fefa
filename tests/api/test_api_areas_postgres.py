"""The boards' and residents' API tests again, over PostgreSQL (events, read models and the
API's own queries in one PostgreSQL schema); skipped with a reason when the server is down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.test_api_access import World, serve_world
from tests.api.test_api_areas import (  # noqa: F401 (collected here, over PostgreSQL)
    given_boards,
    test_a_scope_argument_narrows_but_never_widens,
    test_every_board_answers_only_within_the_jurisdiction,
    test_filters_keep_only_matching_rows,
    test_relations_are_batched_whatever_the_answer_size,
    test_staff_phones_are_masked_unless_the_role_may_see_them,
)
from tests.stores import scratch_env

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder: Path = tmp_path_factory.mktemp("api-areas-pg")
    with scratch_env("postgres", folder) as env, serve_world(env) as w:
        given_boards(w)
        w.caught_up()
        yield w
