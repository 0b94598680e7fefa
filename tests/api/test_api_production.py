"""Production and development modes over a real HTTP server, the committed ``schema.graphql``,
and the settings the API reads from the environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import projections.grid_rollup
from graphql_api.schema import sdl
from graphql_api.settings import Mode, SettingsError, api_settings
from tests.api.test_api_access import World, serve_world
from tests.scenario import COMMUNITY

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_matches_the_code() -> None:
    committed = (ROOT / "schema.graphql").read_text()
    assert committed == sdl(), ("schema.graphql is stale: run "
                                "`.venv/bin/python -m graphql_api.schema > schema.graphql`")


@pytest.fixture(scope="module", params=[Mode.PRODUCTION, Mode.DEVELOPMENT])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-mode") / "gridcore.sqlite",
                     request.param) as w:
        yield w


def production(world: World) -> bool:
    r = httpx.get(world.base + "/healthz")
    return r.json()["mode"] == "production"


def test_introspection_only_in_development(world: World) -> None:
    body = world.post("{ __schema { queryType { name } } }", "OFF1").json()
    if production(world):
        assert body["data"] is None
        assert "introspection has been disabled" in body["errors"][0]["message"]
    else:
        assert body["data"]["__schema"]["queryType"]["name"] == "Query"


def test_graphiql_and_get_queries_only_in_development(world: World) -> None:
    page = httpx.get(world.base + "/graphql", headers={"Accept": "text/html"})
    via_get = httpx.get(world.base + "/graphql", params={"query": "{ me { role } }"})
    if production(world):
        assert page.status_code == 404
        assert via_get.status_code >= 400
    else:
        assert page.status_code == 200 and "graphiql" in page.text.lower()
        assert via_get.status_code == 200


def test_batched_requests_are_refused(world: World) -> None:
    r = httpx.post(world.base + "/graphql",
                   json=[{"query": "{ me { role } }"}, {"query": "{ me { role } }"}])
    assert r.status_code == 400
    assert "batching" in r.text.lower()


@pytest.mark.parametrize(("query", "words"), [
    ("{ me { jurisdiction " + "{ children " * 10 + "{ code }" + " }" * 10 + " } }",
     "maximum operation depth of 10"),
    ("{ " + " ".join(f"a{i}: me {{ role }}" for i in range(31)) + " }", "31 aliases found"),
    ("{ me { " + " ".join(["role"] * 2100) + " } }", "more than 2000 tokens"),
])
def test_limits_refuse_expensive_documents(world: World, query: str, words: str) -> None:
    body = world.post(query, "OFF1").json()
    assert body["data"] is None
    assert words in body["errors"][0]["message"]


def test_within_the_limits_a_query_runs(world: World) -> None:
    query = "{ me { jurisdiction " + "{ children " * 3 + "{ code }" + " }" * 3 + " } }"
    assert world.ask(query, "OFF1")["me"]["jurisdiction"]["children"]


def test_unexpected_errors_are_masked_in_production(world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(views: object, codes: object) -> None:
        raise RuntimeError("SELECT secret FROM grid_rollup")

    monkeypatch.setattr(projections.grid_rollup, "rollups", broken)
    body = world.post(f'{{ node: gridNode(code: "{COMMUNITY}") {{ rollup {{ households }} }} }}',
                      "OFF1").json()
    message = body["errors"][0]["message"]
    if production(world):
        assert message == "Unexpected error."
        assert "SELECT" not in str(body) and "Traceback" not in str(body)
    else:
        assert "SELECT secret" in message


def test_production_does_not_suggest_field_names(world: World) -> None:
    message = world.post("{ nodee { code } }", "OFF1").json()["errors"][0]["message"]
    assert "nodee" in message
    assert ("Did you mean" in message) is not production(world)


def test_production_needs_a_long_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="GRIDCORE_API_SECRET is not set"):
        api_settings({"GRIDCORE_API_MODE": "production"})
    with pytest.raises(SettingsError, match="shorter than 32"):
        api_settings({"GRIDCORE_API_MODE": "production", "GRIDCORE_API_SECRET": "short"})
    with pytest.raises(SettingsError, match="unknown"):
        api_settings({"GRIDCORE_API_MODE": "staging"})


def test_development_keeps_one_secret_in_a_private_file(tmp_path: Path) -> None:
    env = {"GRIDCORE_API_SECRET_FILE": str(tmp_path / "var" / "api-secret")}
    first, second = api_settings(env), api_settings(env)
    assert first.mode is Mode.DEVELOPMENT
    assert first.secret == second.secret and len(first.secret) >= 32
    assert (tmp_path / "var" / "api-secret").stat().st_mode & 0o077 == 0
    assert first.secret not in repr(first)
