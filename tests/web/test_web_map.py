"""The dashboard's 地图 map view in a real headless Chromium, on the small world of the API's
tests (``tests.api.test_api_access.build_world``) with the boundaries and located places of
the spatial questions' tests (``tests.api.test_api_geo``): the community's map draws one SVG
path per micro-grid filled by the chosen figure's ramp (the select changes the fills), a
click on a micro-grid opens its map listing exactly its households, the quarantine site,
camera and checkpoint are markers, nothing is fetched beyond 127.0.0.1 with no tile server,
a configured tile URL is asked for tiles (a local tile server here, allowed by the page's
policy), and axe-core finds nothing to fix.

Expected figures come from the API (``mapLayers``, ``gridNode.households``) asked over HTTP."""

from __future__ import annotations

import base64
import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import pytest

from adapters.bootstrap import api_app
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode, SettingsError, api_settings
from graphql_api.web import headers, tile_origin
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.geo import Crs
from gridcore.status import Health
from projections import all_projections
from projections.runner import Runner
from tests.api.test_api_access import SECRET, World, build_world
from tests.api.test_api_geo import BUILDING, LEFT, RIGHT, SITE_FAR, SITE_NEAR, rect
from tests.scenario import COMMUNITY, STREET, ZONES
from tests.web.axe import expect_accessible
from tests.web.conftest import login

OP = System.OPERATOR
RAMPS = {
    "coverage": ["#eff3ff", "#bdd7e7", "#6baed6", "#3182bd", "#08519c"],
    "cases": ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"],
    "openItems": ["#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603"],
}
"""The page's colour ramps (web/src/map.tsx), light to dark."""
NO_DATA = "#d0d7de"
LAYERS = "query($c: String!) { mapLayers(code: $c) }"
HOUSEHOLDS = ("query($c: String!) { gridNode(code: $c) { households(first: 100) { totalCount "
              "edges { node { id householdNo } } } } }")
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB"
                       "0C8AAAAASUVORK5CYII=")


def expected_fill(value: float | None, figure: str, values: list[float | None]) -> str:
    """What the page fills an area with (the ramp's step of the value; counts up to the
    largest of the map's areas, coverage up to 1)."""
    if value is None:
        return NO_DATA
    top = 1.0 if figure == "coverage" else max([1.0, *[v or 0 for v in values]])
    return RAMPS[figure][min(4, int(value / top * 5))]


def _geography(app: Any, staff: dict[str, UUID]) -> None:
    """The boundaries and places of ``tests.api.test_api_geo``'s world, the community's own
    boundary, a camera, and a confirmed case in zone 1 (so the zones' figures differ)."""
    app.draw_boundaries([(ZONES[0], LEFT), (ZONES[1], RIGHT), (COMMUNITY, rect(0, 0, 1000, 1000))],
                        Crs.WGS84, "test", by=OP)
    app.register_building(COMMUNITY, "1", "1栋", 6, by=OP)
    app.locate_building(COMMUNITY, "1", BUILDING.lng, BUILDING.lat, by=OP)
    app.register_quarantine_site("QS-1", "后湖宾馆隔离点", STREET, 10, by=OP)
    app.locate_quarantine_site("QS-1", SITE_NEAR.lng, SITE_NEAR.lat, by=OP)
    app.register_checkpoint("KK-1", COMMUNITY, "后湖大道卡口", by=OP)
    app.locate_checkpoint("KK-1", SITE_FAR.lng, SITE_FAR.lat, by=OP)
    app.register_camera("CAM-1", ZONES[0], building_id=building_id(COMMUNITY, "1"), by=OP)
    app.locate_camera("CAM-1", BUILDING.lng, BUILDING.lat, by=OP)
    hid = app.household_by_no("712-1-0").id
    rid = next(iter(app.household(hid).residents))
    app.change_health(hid, rid, Health.CONFIRMED, by=staff["DOC1"], reason="核酸阳性")
    app.draw_risk_zones(COMMUNITY, points=[BUILDING], reason="test", by=staff["STR1"])


@contextmanager
def served(folder: Path, tiles: str = "") -> Iterator[World]:
    """The small world with its geography, its read models caught up, served as
    ``gridcore serve`` serves it (the dashboard's tiles from ``tiles``)."""
    app, clock, parents, households, staff = build_world(folder / "gridcore.sqlite")
    _geography(app, staff)
    runner = Runner(app, all_projections()).start()
    settings = ApiSettings(mode=Mode.DEVELOPMENT, secret=SECRET,
                           audit_file=str(folder / "api-audit.jsonl"), map_tiles=tiles,
                           map_attribution="测试底图 test tiles" if tiles else "")
    try:
        with running(api_app(app, runner, settings)) as base:
            world = World(app, runner, clock, base, parents, households, staff, settings)
            world.caught_up()
            yield world
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with served(tmp_path_factory.mktemp("web-map")) as w:
        yield w


class Tiles:
    """A tile server on 127.0.0.1 (another port than the dashboard's): every path it was asked
    for, each answered with a 1×1 PNG."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        tiles = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                tiles.asked.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(PNG)))
                self.end_headers()
                self.wfile.write(PNG)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/tiles/{{z}}/{{x}}/{{y}}.png"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def open_map(page: Any, site: World, code: str, staff_no: str = "OFF1") -> None:
    from playwright.sync_api import expect

    login(page, site, staff_no)
    page.goto(f"{site.base}/#/map/{code}")
    expect(page.get_by_test_id("map-table")).to_be_visible()


def fills(page: Any) -> dict[str, str]:
    """The map's polygons: code -> the fill of its SVG path (one path per area)."""
    paths = page.locator("[data-testid=map] svg path.map-area[data-code]")
    got: dict[str, str] = {}
    for i in range(paths.count()):
        p = paths.nth(i)
        code = p.get_attribute("data-code")
        assert code not in got, f"two paths for {code}"
        got[code] = p.get_attribute("fill")
    return got


def test_the_community_map_colours_each_micro_grid_by_the_chosen_figure(
        page: Any, site: World) -> None:
    from playwright.sync_api import expect

    layers = site.ask(LAYERS, "OFF1", {"c": COMMUNITY})["mapLayers"]
    props = {f["properties"]["code"]: f["properties"] for f in layers["features"]
             if f["properties"]["layer"] == "boundary"}
    assert props[ZONES[0]]["cases"] == 1 and props[ZONES[1]]["cases"] == 0
    open_map(page, site, COMMUNITY)
    expect(page.locator("[data-testid=map] svg path.map-area[data-code]")).to_have_count(len(ZONES))
    seen = {}
    for figure in ("coverage", "cases", "openItems"):
        page.get_by_label("着色指标").select_option(figure)
        values = [props[z][figure] for z in ZONES]
        want = {z: expected_fill(props[z][figure], figure, values) for z in ZONES}
        for z, colour in want.items():
            area = page.locator(f"[data-testid=map] svg path.map-area[data-code='{z}']")
            expect(area).to_have_attribute("fill", colour)
        seen[figure] = fills(page)
        assert seen[figure] == want, figure
    assert seen["cases"] != seen["coverage"]  # the select changes the fills
    assert seen["cases"][ZONES[0]] != seen["cases"][ZONES[1]]  # the ramp tells them apart
    # the table under the map says the same per micro-grid
    rows = page.get_by_test_id("map-table").locator("tbody tr")
    assert sorted(rows.nth(i).get_attribute("data-code") for i in range(rows.count())) == ZONES
    cases = page.locator(f"[data-testid=map-table] tr[data-code='{ZONES[0]}'] "
                         "td[data-figure=cases]")
    expect(cases).to_have_text("1")
    # markers: the street's quarantine site (it serves the community), the camera, the checkpoint
    for layer, code in (("quarantine_site", "QS-1"), ("camera", "CAM-1"),
                        ("checkpoint", "KK-1")):
        expect(page.locator(f"[data-testid=map] path[data-layer={layer}]")).to_have_count(1)
        assert page.locator(f"[data-testid=map] path[data-layer={layer}]").get_attribute(
            "data-code") == code
    page.get_by_test_id("toggle-camera").uncheck()
    expect(page.locator("[data-testid=map] path[data-layer=camera]")).to_have_count(0)
    expect(page.locator("[data-testid=map] path[data-layer=checkpoint]")).to_have_count(1)
    page.get_by_test_id("toggle-camera").check()
    expect(page.locator("[data-testid=map] path[data-layer=camera]")).to_have_count(1)
    # the risk zones in force: one path per zone, under their colours, toggled as a layer
    zones = page.locator("[data-testid=map] svg path.map-zone")
    expect(zones).to_have_count(3)
    strokes = {zones.nth(i).get_attribute("data-zone"): zones.nth(i).get_attribute("stroke")
               for i in range(3)}
    assert strokes == {"lockdown": "#d7191c", "controlled": "#f28e1c", "precaution": "#f2d024"}
    assert {f["properties"]["zone"] for f in layers["features"]
            if f["properties"]["layer"] == "risk_zone"} == {"封控区", "管控区", "防范区"}
    page.get_by_test_id("toggle-zone").uncheck()
    expect(zones).to_have_count(0)
    page.get_by_test_id("toggle-zone").check()
    expect(zones).to_have_count(3)
    shots = os.environ.get("GRIDCORE_SCREENSHOT_DIR")
    if shots:
        page.screenshot(path=str(Path(shots) / "map-community.png"), full_page=True)
    # no tile server configured: no tile image at all
    assert page.locator("[data-testid=map] img.leaflet-tile").count() == 0


def test_clicking_a_micro_grid_opens_its_map_with_exactly_its_households(
        page: Any, site: World) -> None:
    from playwright.sync_api import expect

    open_map(page, site, COMMUNITY)
    zone = ZONES[1]
    path = page.locator(f"[data-testid=map] svg path.map-area[data-code='{zone}']")
    expect(path).to_have_count(1)
    path.click()
    expect(page).to_have_url(f"{site.base}/#/map/{zone}")
    expect(page.locator("h2.node-title")).to_contain_text(zone)
    # its own polygon, and its households beside it, exactly as the API lists them
    expect(page.locator("[data-testid=map] svg path.map-area[data-code]")).to_have_count(1)
    api = site.ask(HOUSEHOLDS, "OFF1", {"c": zone})["gridNode"]["households"]
    want = sorted(e["node"]["householdNo"] for e in api["edges"])
    assert api["totalCount"] == len(want) == 3
    assert want == sorted(no for no in want if no.startswith("712-2-"))
    table = page.get_by_test_id("household-table")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(want))
    shown = sorted(rows.nth(i).locator("a").first.inner_text().strip()
                   for i in range(rows.count()))
    assert shown == want


def test_the_table_drills_down_by_keyboard_and_axe_finds_nothing(page: Any, site: World) -> None:
    from playwright.sync_api import expect

    open_map(page, site, COMMUNITY)
    expect_accessible(page, "the community's map")
    link = page.get_by_test_id("map-table").get_by_role("link", name="第1片区", exact=True)
    link.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{site.base}/#/map/{ZONES[0]}")
    expect(page.get_by_test_id("household-table").locator("tbody tr")).to_have_count(3)
    expect_accessible(page, "a micro-grid's map")


def test_the_node_view_links_to_its_map(page: Any, site: World) -> None:
    from playwright.sync_api import expect

    login(page, site, "OFF1")
    page.goto(f"{site.base}/#/node/{COMMUNITY}")
    page.get_by_test_id("open-map").click()
    expect(page).to_have_url(f"{site.base}/#/map/{COMMUNITY}")
    expect(page.locator("[data-testid=map] svg path.map-area[data-code]")).to_have_count(len(ZONES))


def test_without_tiles_no_request_leaves_the_machine(page: Any, site: World) -> None:
    from playwright.sync_api import expect

    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url))
    open_map(page, site, COMMUNITY)
    expect(page.locator("[data-testid=map] svg path.map-area[data-code]")).to_have_count(len(ZONES))
    page.locator(f"[data-testid=map] svg path.map-area[data-code='{ZONES[0]}']").click()
    expect(page.get_by_test_id("household-table").locator("tbody tr")).to_have_count(3)
    hosts = {urlsplit(u).hostname for u in asked if not u.startswith(("data:", "blob:"))}
    assert asked and hosts == {"127.0.0.1"}, sorted(set(asked))
    assert site.base.startswith("http://127.0.0.1:")


def test_a_configured_tile_url_is_asked_for_tiles(browser: Any) -> None:
    from playwright.sync_api import expect

    tiles = Tiles()
    folder = Path(tempfile.mkdtemp(prefix="web-map-tiles-"))
    try:
        with served(folder, tiles.url) as w:
            context = browser.new_context(viewport={"width": 1280, "height": 900},
                                          locale="zh-CN", timezone_id="Asia/Shanghai")
            context.set_default_timeout(60_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            try:
                settings = w.ask("{ dashboardSettings { mapTiles mapAttribution } }", "OFF1")
                assert settings["dashboardSettings"]["mapTiles"] == tiles.url
                assert w.ask("{ dashboardSettings { mapTiles } }")["dashboardSettings"] is None
                open_map(page, w, COMMUNITY)
                tile = page.locator("[data-testid=map] img.leaflet-tile").first
                expect(tile).to_have_attribute("src", _tile_pattern(tiles.url))
                # loaded: the page's policy allows the tile server's origin
                page.wait_for_function(
                    "() => [...document.querySelectorAll('img.leaflet-tile')]"
                    ".some(i => i.complete && i.naturalWidth === 1)")
                assert tiles.asked and all(p.startswith("/tiles/") for p in tiles.asked)
                expect(page.locator(".leaflet-control-attribution")).to_contain_text("测试底图")
                assert errors == []
            finally:
                context.close()
    finally:
        tiles.close()


def _tile_pattern(template: str) -> Any:
    import re

    prefix = template.split("{z}")[0]
    return re.compile(re.escape(prefix) + r"\d+/\d+/\d+\.png$")


def test_the_tile_setting_is_checked_and_opens_the_policy_to_its_origin_only() -> None:
    env = {"GRIDCORE_API_SECRET": "s" * 40}
    assert api_settings(env).map_tiles == ""  # unset: no tiles
    good = "https://{s}.tiles.example.org/{z}/{x}/{y}.png"
    assert api_settings({**env, "GRIDCORE_MAP_TILES": good}).map_tiles == good
    for bad in ("ftp://tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/a.png",
                "tiles/{z}/{x}/{y}.png"):
        with pytest.raises(SettingsError, match="GRIDCORE_MAP_TILES"):
            api_settings({**env, "GRIDCORE_MAP_TILES": bad})
    assert tile_origin(good) == "https://*.tiles.example.org"
    assert tile_origin("") is None
    policy = headers(["https://*.tiles.example.org"])["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.tiles.example.org;" in policy
    assert "img-src 'self' data:;" in headers()["Content-Security-Policy"]
