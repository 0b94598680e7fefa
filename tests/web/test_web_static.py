"""The dashboard's static mount (``graphql_api.web``), without a browser: the built page and its
assets at ``/`` with their headers, the API routes still first, and a clear answer when the
front end was never built."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.settings import sqlite_env
from graphql_api.app import create_app
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from graphql_api.web import HEADERS, NOT_BUILT, STATIC, dashboard_built, mount_dashboard
from gridcore.application import GridcoreApp
from projections import all_projections
from projections.runner import Runner

ASSET = re.compile(r'(?:src|href)="(/assets/[^"]+)"')


def built_assets() -> list[str]:
    return ASSET.findall((STATIC / "index.html").read_text(encoding="utf-8"))


def test_the_committed_build_is_complete() -> None:
    """index.html exists and every asset it names is there (a partial commit would show a
    blank page)."""
    assert dashboard_built(), "run `npm ci && npm run build` in web/"
    assets = built_assets()
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        assert (STATIC / asset.lstrip("/")).is_file(), asset


async def healthz(request: Request) -> Response:
    return JSONResponse({"ok": True})


def small_app(directory: Path) -> Starlette:
    async def graphql(request: Request) -> Response:
        return JSONResponse({"data": {"ok": True}})

    return mount_dashboard(Starlette(routes=[Route("/graphql", graphql, methods=["POST"]),
                                             Route("/healthz", healthz)]), directory=directory)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """The real API app (over an empty SQLite store) with the dashboard mounted, served by
    uvicorn."""
    app = GridcoreApp(sqlite_env(tmp_path_factory.mktemp("static") / "gridcore.sqlite"))
    runner = Runner(app, all_projections())
    runner.catch_up()
    asgi = create_app(app, runner, ApiSettings(mode=Mode.DEVELOPMENT, secret="s" * 40))
    if not any(getattr(r, "name", None) == "dashboard" for r in asgi.routes):
        mount_dashboard(asgi)
    with running(asgi) as base, httpx.Client(base_url=base, timeout=10) as c:
        yield c
    app.close()


def test_the_page_is_served_at_the_root_with_its_headers(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert '<div id="app">' in r.text
    for name, value in HEADERS.items():
        assert r.headers[name] == value
    assert r.headers["cache-control"] == "no-cache"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_assets_are_served_and_cached_for_good(client: httpx.Client) -> None:
    for asset in built_assets():
        r = client.get(asset)
        assert r.status_code == 200, asset
        kind = "javascript" if asset.endswith(".js") else "css"
        assert kind in r.headers["content-type"]
        assert r.content == (STATIC / asset.lstrip("/")).read_bytes()
        assert "immutable" in r.headers["cache-control"]


def test_the_api_routes_still_come_first(client: httpx.Client) -> None:
    assert client.get("/healthz").json()["ok"] is True
    r = client.post("/graphql", json={"query": "{ __typename }"})
    assert r.status_code == 200 and r.json() == {"data": {"__typename": "Query"}}
    assert "content-security-policy" not in r.headers  # GraphiQL keeps its own needs


def test_an_unknown_path_is_404_and_the_static_root_is_not_escaped(client: httpx.Client) -> None:
    assert client.get("/no-such-file.js").status_code == 404
    assert client.get("/../web.py").status_code == 404
    assert client.get("/%2e%2e/web.py").status_code == 404


def test_without_a_build_the_root_says_how_to_build_it(tmp_path: Path) -> None:
    with running(small_app(tmp_path / "missing")) as base:
        r = httpx.get(base + "/")
        assert r.status_code == 404 and r.text == NOT_BUILT
        assert "npm run build" in r.text
        assert httpx.post(base + "/graphql").json() == {"data": {"ok": True}}


def test_a_build_elsewhere_is_served_from_there(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<p>elsewhere</p>", encoding="utf-8")
    with running(small_app(tmp_path)) as base:
        assert httpx.get(base + "/").text == "<p>elsewhere</p>"
