"""The dashboard (态势感知) in a real headless Chromium, against the 712 demo data.

Debian's ``chromium`` driven by Playwright (``executable_path``; Playwright's own browsers are
never downloaded). The server is the real one: the API and the dashboard built into
``graphql_api/static/``, under uvicorn on a free port, the read models kept up in process.

The scenario adds to the demo what the dashboard must show: a city-level official (so the
drill-down starts at the city), a sweep that covers each zone to a different share (zone 1
none, zone 11 all), a no-answer visit and a symptomatic resident, a fever-clinic referral, a
request, a checkpoint with vehicle passes over three hours. The expected figures come from the
application's aggregates and from what this test recorded, never from the API (except where a
test checks that the page shows what the API answers).

Screenshots go to ``GRIDCORE_SCREENSHOT_DIR`` (default: pytest's tmp folder). Without Chromium
the tests skip with how to install it; ``GRIDCORE_REQUIRE_BROWSER=1`` makes that a failure
(and first tries ``apt-get install -y chromium`` when run as root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, timedelta, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from starlette.routing import Mount

from adapters import demo
from adapters.settings import sqlite_env
from graphql_api.app import create_app
from graphql_api.auth import issue_token
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from graphql_api.web import STATIC, dashboard_built, mount_dashboard
from gridcore.application import GridcoreApp, utc_now
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.staff import Role
from gridcore.status import Health
from gridcore.sweep import Outcome
from projections import all_projections
from projections.runner import Runner
from tests.web.axe import expect_accessible

SECRET = "web-test-secret-" + "y" * 40
INSTALL_HINT = ("Chromium is needed for the browser tests: `apt-get install -y chromium` "
                "(Debian) and `pip install -e '.[dev]'` (playwright); "
                "GRIDCORE_REQUIRE_BROWSER=1 makes its absence a failure.")
CITY_OFFICIAL = "WH-CITY-1"
ZONE_OFFICIAL = "WH-Z1-1"
NO_ANSWER_ZONE = 3  # this zone's first uncovered household did not answer
SICK_ZONE = 7  # a resident of this zone turns symptomatic
FEVER_ZONE = 9  # this zone's first household has a fever at the door: a fever-clinic referral
SITE = ("HB-T1", "测试集中隔离点", 40)  # a street's quarantine site
CHECKPOINT = ("CP-WEB", "测试卡口", 2)  # a vehicle checkpoint in zone 2
PASSES = {-3: 30, -2: 12, 0: 7}  # vehicle passes at the checkpoint: hours before the sweep's now
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}


def _browser_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def _required() -> bool:
    return os.environ.get("GRIDCORE_REQUIRE_BROWSER") == "1"


def _has_chinese_font() -> bool:
    """Whether fontconfig knows a font with Chinese glyphs (without one the screenshots show
    empty boxes for every label)."""
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True,
                            check=False)
    return bool(listed.stdout.strip())


def _try_install() -> None:
    """CI (GRIDCORE_REQUIRE_BROWSER=1) as root on Debian: install the distribution's Chromium
    and a Chinese font for the screenshots."""
    if not (_required() and hasattr(os, "geteuid") and os.geteuid() == 0
            and shutil.which("apt-get")):
        return
    packages = [] if _browser_path() else ["chromium"]
    packages += [] if _has_chinese_font() else ["fonts-wqy-microhei"]
    if packages:
        subprocess.run(["apt-get", "install", "-y", *packages], check=False, timeout=600,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _unavailable(reason: str) -> None:
    if _required():
        pytest.fail(f"{reason} {INSTALL_HINT}")
    pytest.skip(f"{reason} {INSTALL_HINT}")


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = _browser_path()
    if path is None or not _has_chinese_font():
        _try_install()
        path = _browser_path()
    if path is None:
        _unavailable("No chromium executable was found.")
    try:
        from playwright.sync_api import expect
    except ImportError:
        _unavailable("The playwright package is not installed.")
    expect.set_options(timeout=60_000)  # a bound for a loaded machine, as in conftest.py
    if not dashboard_built():
        pytest.fail(f"The dashboard is not built in {STATIC}: run `npm ci && npm run build` "
                    "in web/.")
    assert path is not None
    return path


# ---- the data and the server ------------------------------------------------------------------

@dataclass
class Site:
    base: str
    app: GridcoreApp
    campaign: UUID
    zones: dict[str, str]
    """zone code -> name"""
    households: dict[str, list[UUID]]
    """zone code -> its households"""
    covered: dict[str, set[UUID]]
    no_answer: UUID
    sick: UUID
    residents: int
    shots: Path
    clock: demo.ScenarioClock
    tokens: dict[str, str] = field(default_factory=dict)
    alerts: list[UUID] = field(default_factory=list)
    """the alerts the tests raised"""

    def token(self, staff_no: str) -> str:
        if staff_no not in self.tokens:
            self.tokens[staff_no] = issue_token(SECRET, self.app.staff_by_no(staff_no).id, 1.0)
        return self.tokens[staff_no]

    def ask(self, query: str, staff_no: str, variables: dict[str, Any] | None = None) -> Any:
        r = httpx.post(f"{self.base}/graphql", json={"query": query, "variables": variables or {}},
                       headers={"Authorization": f"Bearer {self.token(staff_no)}"}, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        assert "errors" not in body, body
        return body["data"]


def _sweep(app: GridcoreApp, clock: demo.ScenarioClock) -> tuple[
        dict[str, list[UUID]], dict[str, set[UUID]], UUID, UUID]:
    """Zone n (1..11) covered to (n-1)/10 of its households; one no-answer visit in zone 3;
    one symptomatic resident in zone 7."""
    campaign = app.campaign_of(demo.COMMUNITY, 1)
    assignment = app.assignment(demo.COMMUNITY, 1)
    households: dict[str, list[UUID]] = {}
    covered: dict[str, set[UUID]] = {}
    clock.at(0, 10)
    for n in range(1, demo.ZONES + 1):
        code = demo.zone_code(n)
        [grid] = [g for g in app.micro_grids(demo.COMMUNITY) if g.code == code]
        ids = sorted(grid.households, key=str)
        households[code] = ids
        k = round(len(ids) * (n - 1) / 10)
        covered[code] = set(ids[:k])
        for hid in ids[:k]:
            fever = {}
            if n == FEVER_ZONE and hid == ids[0]:
                fever = {"temperatures": {next(iter(app.household(hid).residents)): 38.6}}
            app.record_visit(campaign.id, hid, assignment.method[hid], by=assignment.owner[hid],
                             **fever)
    no_answer = households[demo.zone_code(NO_ANSWER_ZONE)][-1]
    app.record_visit(campaign.id, no_answer, Method.DOOR, Outcome.NO_ANSWER,
                     by=assignment.owner[no_answer])
    sick = households[demo.zone_code(SICK_ZONE)][-1]
    resident = next(iter(app.household(sick).residents))
    app.change_health(sick, resident, Health.SYMPTOMATIC, by=app.staff_by_no("712-DOC").id,
                      reason="fever at the door")
    app.register_quarantine_site(SITE[0], SITE[1], demo.STREET, SITE[2], by=System.OPERATOR)
    app.register_checkpoint(CHECKPOINT[0], demo.zone_code(CHECKPOINT[2]), CHECKPOINT[1],
                            by=System.OPERATOR)
    hour = clock.now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    app.count_vehicle_passes({(CHECKPOINT[0], hour + timedelta(hours=h)): n
                              for h, n in PASSES.items()}, "web-tally", by=System.OPERATOR)
    app.file_request("online", "medical", "urgent", "家中老人需要降压药", household=sick,
                     by=System.PUBLIC)
    return households, covered, no_answer, sick


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    clock = demo.ScenarioClock()
    app = GridcoreApp(sqlite_env(tmp_path_factory.mktemp("web") / "gridcore.sqlite"),
                      clock=clock)
    demo.build(app)
    app.enrol_staff(CITY_OFFICIAL, "市指挥部", Role.OFFICIAL, demo.CITY, 10, by=System.OPERATOR)
    app.enrol_staff(ZONE_OFFICIAL, "片区长", Role.OFFICIAL, demo.zone_code(1), 10,
                    by=System.OPERATOR)
    households, covered, no_answer, sick = _sweep(app, clock)
    zones = {g.code: g.name for g in app.micro_grids(demo.COMMUNITY)}
    residents = sum(len(app.household(h).residents) for ids in households.values() for h in ids)
    runner = Runner(app, all_projections()).start()
    asgi = create_app(app, runner, ApiSettings(mode=Mode.DEVELOPMENT, secret=SECRET))
    if not any(isinstance(r, Mount) and r.path == "" for r in asgi.routes):
        mount_dashboard(asgi)  # until graphql_api.app mounts it itself
    shots = Path(os.environ.get("GRIDCORE_SCREENSHOT_DIR")
                 or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        runner.wait(app.recorder.max_notification_id(), timeout=30)
        with running(asgi) as base:
            yield Site(base, app, app.campaign_of(demo.COMMUNITY, 1).id, zones, households,
                       covered, no_answer, sick, residents, shots, clock)
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    context.set_default_timeout(60_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
        expect_accessible(pg, f"the page the test left: {pg.url}")
    finally:
        context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def login(page: Any, site: Site, staff_no: str) -> None:
    from playwright.sync_api import expect

    page.goto(site.base + "/")
    expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
    page.get_by_label("访问令牌").fill(site.token(staff_no))
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_test_id("identity")).to_be_visible()
    expect(page.get_by_test_id("open-items").first).to_be_visible()
    expect(page.locator('section.board[data-state="loading"]')).to_have_count(0)
    expect_accessible(page, f"the landing view of {staff_no}")


def heading(page: Any, name: str) -> Any:
    return page.locator("h2.node-title", has_text=name)


OPEN_LABELS = {"referrals": "转运", "deliveries": "配送", "requests": "诉求", "alerts": "告警"}


def open_items(site: Site, code: str) -> dict[str, int]:
    """What the application's aggregates say is open under ``code`` (the demo's one community
    is the only one with anything)."""
    from gridcore.alerts import AlertState

    app = site.app
    places = {
        "referrals": [app.household(r.household_id).micro_grid
                      for r in app.open_referrals(demo.COMMUNITY)],
        "deliveries": [app.household(d.household_id).micro_grid
                       for d in app.open_deliveries(demo.COMMUNITY) if d.household_id],
        "requests": [demo.COMMUNITY] * len(app.open_requests(demo.COMMUNITY)),
        "alerts": [app.alert(a).grid_code for a in site.alerts
                   if app.alert(a).state is not AlertState.RESOLVED],
    }
    return {kind: sum(code in chain(app, p) for p in ps) for kind, ps in places.items()}


def chain(app: GridcoreApp, code: str) -> list[str]:
    """The node's code and its ancestors' up to the city, from the grid aggregates."""
    out = [code]
    while (parent := app.node(out[-1]).parent_code) is not None:
        out.append(parent)
    return out


def expect_open_items(cell: Any, counts: dict[str, int]) -> None:
    """A node's open items as the page shows them: the total, then one "转运 1" per kind."""
    from playwright.sync_api import expect

    total = sum(counts.values())
    expect(cell.locator(".open-total, dd").first).to_have_text(str(total))
    breakdown = " · ".join(f"{OPEN_LABELS[k]} {n}" for k, n in counts.items() if n)
    if total:
        expect(cell.locator(".breakdown")).to_have_text(breakdown)
    else:
        expect(cell.locator(".breakdown")).to_have_count(0)


# ---- the tests -----------------------------------------------------------------------------------

def test_drill_down_to_a_zone_see_coverage_and_open_a_household_timeline(
        page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    login(page, site, CITY_OFFICIAL)
    expect(page.get_by_test_id("identity")).to_have_text("干部 · 武汉市")
    expect(heading(page, "武汉市")).to_be_visible()
    total = sum(len(ids) for ids in site.households.values())
    expect(page.get_by_test_id("households")).to_have_text(str(total))
    expect(page.get_by_test_id("residents")).to_have_text(str(site.residents))
    # 待办 open items: the referral of the fever at the door and the request, at every level
    city = open_items(site, demo.CITY)
    assert city["referrals"] == 1 and city["requests"] == 1
    expect_open_items(page.get_by_test_id("open-items"), city)
    page.screenshot(path=str(site.shots / "01-city.png"), full_page=True)

    for name in ("江岸区", "后湖街道", "712社区"):
        row = page.locator("table.grid-table tbody tr", has=page.locator("a.drill", has_text=name))
        expect_open_items(row.locator("td.open-cell"), open_items(site, row.get_attribute(
            "data-code")))
        row.locator("a.drill").click()
        expect(heading(page, name)).to_be_visible()
    for code in site.zones:  # per zone: only the fever zone has its referral (requests are the
        row = page.locator(f'table.grid-table tbody tr[data-code="{code}"]')  # community's)
        expect_open_items(row.locator("td.open-cell"), open_items(site, code))
    assert open_items(site, demo.zone_code(FEVER_ZONE))["referrals"] == 1
    crumbs = page.get_by_role("navigation", name="网格层级")
    expect(crumbs.get_by_role("link")).to_have_text(["武汉市", "江岸区", "后湖街道"])

    # The heat table: one row per zone, each with the coverage this test recorded.
    heat = page.get_by_test_id("heat-table")
    expect(heat.locator("tbody tr")).to_have_count(len(site.zones))
    for code, ids in site.households.items():
        row = heat.locator(f'tbody tr[data-code="{code}"]')
        covered = len(site.covered[code])
        expect(row.locator("td").nth(0)).to_have_text(f"{covered}/{len(ids)}")
        expect(row.locator("td").nth(2)).to_have_text(str(len(ids) - covered))
    first, last = demo.zone_code(1), demo.zone_code(demo.ZONES)
    expect(heat.locator(f'tr[data-code="{first}"] .heat-cell')).to_have_class(
        "num heat-cell heat-0")
    expect(heat.locator(f'tr[data-code="{last}"] .heat-cell')).to_have_class(
        "num heat-cell heat-5")
    page.screenshot(path=str(site.shots / "02-community-coverage.png"), full_page=True)

    # Drill to the zone with the no-answer visit; its uncovered households are one click away.
    zone = demo.zone_code(NO_ANSWER_ZONE)
    page.locator("a.drill", has_text=site.zones[zone]).click()
    expect(heading(page, site.zones[zone])).to_be_visible()
    expect(page.get_by_text("已是最小网格")).to_be_visible()
    uncovered = len(site.households[zone]) - len(site.covered[zone])
    page.get_by_role("link", name=f"{site.zones[zone]} 查看未覆盖户: {uncovered}").click()
    panel = page.get_by_test_id("uncovered-panel")
    expect(panel.locator("tbody tr")).to_have_count(uncovered)
    no_answer = site.app.household(site.no_answer)  # rows name where to go: 户号 and 门牌
    row = panel.locator("tbody tr", has_text=no_answer.household_no)
    expect(row).to_contain_text(no_answer.address.text or "")
    expect(row).to_contain_text("无人应答")
    expect(row.locator("td").last).to_have_text("1")
    page.screenshot(path=str(site.shots / "03-zone-uncovered.png"), full_page=True)

    # The household's timeline: every entry the API has for it, newest first.
    row.get_by_role("link").click()
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_be_visible()
    expect(page.get_by_test_id("where")).to_contain_text(no_answer.address.text or "-")
    entries = site.ask('query($id: ID!) { household(id: $id) { timeline { kind } } }',
                       CITY_OFFICIAL, {"id": str(site.no_answer)})["household"]["timeline"]
    kinds = [e["kind"] for e in reversed(entries)]
    assert "visit.recorded" in kinds and "household.registered" in kinds
    expect(timeline.locator("li")).to_have_count(len(kinds))
    assert timeline.locator("li").evaluate_all(
        "items => items.map(i => i.dataset.kind)") == kinds
    expect(timeline.locator('li[data-kind="visit.recorded"]')).to_contain_text("无人应答")
    page.screenshot(path=str(site.shots / "04-household-timeline.png"), full_page=True)

    page.get_by_role("link", name="返回网格").click()
    expect(heading(page, site.zones[zone])).to_be_visible()


def test_household_filter_finds_the_symptomatic_resident(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    login(page, site, "712-DIR")
    expect(heading(page, "712社区")).to_be_visible()
    table = page.get_by_test_id("household-table")
    expect(table.locator("tbody tr")).to_have_count(20)  # the first page
    symptomatic = sorted(str(h) for ids in site.households.values() for h in ids
                         if any(r.health is Health.SYMPTOMATIC
                                for r in site.app.household(h).residents.values()))
    assert str(site.sick) in symptomatic  # and the fever at the door made another one
    page.get_by_label("按健康状况筛选").select_option("SYMPTOMATIC")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(symptomatic))
    expect(rows.locator("th")).to_have_text(  # by household number (户号), in id order
        [site.app.household(UUID(h)).household_no for h in symptomatic])
    for n in range(len(symptomatic)):
        expect(rows.nth(n)).to_contain_text("有症状")
    table.get_by_role("link", name=site.app.household(site.sick).household_no).click()
    expect(page.get_by_test_id("timeline").locator('li[data-kind="household.health"]')
           ).to_contain_text("有症状")


def test_phone_width_and_the_english_switch(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, timezone_id="Asia/Shanghai")
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        login(page, site, "712-DIR")
        expect(heading(page, "712社区")).to_be_visible()
        expect(page.get_by_test_id("hour-chart").locator("canvas")).to_have_count(1)
        # Nothing wider than the screen (the chart neither): wide tables scroll in their box.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(site.shots / "05-phone-zh.png"), full_page=True)

        page.get_by_role("button", name="English", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Sweep coverage")).to_be_visible()
        expect(page.get_by_role("heading", name="Situational awareness")).to_be_visible()
        expect(page.get_by_test_id("identity")).to_contain_text("official")
        expect(page.get_by_test_id("open-items")).to_contain_text("Open items")
        counts = open_items(site, demo.COMMUNITY)
        expect(page.get_by_test_id("open-items").locator(".breakdown")).to_have_text(
            " · ".join(f"{kind} {n}" for kind, n in counts.items() if n))
        expect(page.get_by_role("heading", name="Escalations and overdue items")).to_be_visible()
        expect(page.get_by_role("img", name="测试卡口: Passes")).to_be_visible()
        expect(page.get_by_role("heading", name="态势感知")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(site.shots / "06-phone-en.png"), full_page=True)
        expect_accessible(page, "the phone-width view in English")

        # The choice is kept: a reload stays in English; switching back restores Chinese.
        page.reload()
        expect(page.get_by_role("heading", name="Sweep coverage")).to_be_visible()
        page.get_by_role("button", name="中文", exact=True).click()
        expect(page.get_by_role("heading", name="排查覆盖率")).to_be_visible()
    finally:
        context.close()


def test_a_bad_token_is_refused_and_a_grid_worker_and_a_zone_official_see_only_their_zones(
        page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.base + "/")
    page.get_by_label("访问令牌").fill("not-a-token")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("令牌无效")

    login(page, site, "712-GW-1")
    # a demo grid worker's jurisdiction is their zones (1, 5 and 9), the first their home
    expect(page.get_by_test_id("identity")).to_have_text("网格员 · 第1片区")
    # the header lists every zone of the jurisdiction; one click opens another zone
    zones = page.get_by_test_id("my-nodes").get_by_role("link")
    expect(zones).to_have_text(["第1片区", "第5片区", "第9片区"])
    zones.nth(1).click()
    expect(heading(page, site.zones[demo.zone_code(5)])).to_be_visible()
    page.goto(f"{site.base}/#/node/{demo.zone_code(9)}")
    expect(heading(page, site.zones[demo.zone_code(9)])).to_be_visible()
    page.goto(f"{site.base}/#/node/{demo.zone_code(2)}")
    expect(page.get_by_role("alert")).to_contain_text("不在您的辖区内")
    # A zone official of zone 1 sees that zone only; the community reads as not visible.
    page.get_by_role("button", name="退出").click()
    login(page, site, ZONE_OFFICIAL)
    expect(heading(page, site.zones[demo.zone_code(1)])).to_be_visible()
    page.goto(f"{site.base}/#/node/{demo.COMMUNITY}")
    expect(page.get_by_role("alert")).to_contain_text("不在您的辖区内")
    page.goto(f"{site.base}/#/household/{site.no_answer}")  # a household of zone 3
    expect(page.get_by_role("alert")).to_contain_text("不在您的辖区内")


BOARDS: dict[str, str | None] = {  # area -> the API query its figures must agree with
    "alerts": "{ alerts(first: 20) { id } }",
    "referrals": ("{ referralStages { state count } "
                  "referrals(state: [OPENED, ACCEPTED, IN_TRANSPORT, ADMITTED]) "
                  "{ id state overdue } }"),
    "sites": "{ quarantineSites { code occupancy capacity } }",
    "checkpoints": "{ checkpoints { id } }",
    "watch": None,  # subscriptions: no query to compare with
    "enterprises": "{ resumptionCounts { status count } }",
    "requests": "{ requests(first: 20) { id number } }",
}


BAR_HEIGHTS_JS = """
(chart) => {  // the height in pixels of each run of passes-coloured columns in the plot area
  const canvas = chart.querySelector('canvas'), over = chart.querySelector('.u-over');
  const cr = canvas.getBoundingClientRect(), or = over.getBoundingClientRect();
  const sx = canvas.width / cr.width, sy = canvas.height / cr.height;
  const x0 = Math.round((or.left - cr.left) * sx), y0 = Math.round((or.top - cr.top) * sy);
  const w = Math.round(or.width * sx), h = Math.round(or.height * sy);
  const px = canvas.getContext('2d').getImageData(x0, y0, w, h).data;
  const near = (i) => px[i + 3] > 100 && Math.abs(px[i] - 11) < 30
    && Math.abs(px[i + 1] - 92) < 30 && Math.abs(px[i + 2] - 173) < 30;  // #0b5cad
  const runs = []; let run = null;
  for (let x = 0; x < w; x++) {
    let n = 0;
    for (let y = 0; y < h; y++) if (near((y * w + x) * 4)) n++;
    if (n === 0) { run = null; continue; }
    if (!run) { run = [0]; runs.push(run); }
    run[0] = Math.max(run[0], n);
  }
  return runs.map(r => r[0] / sy);
}
"""


def expect_chart(figure: Any, site: Site) -> None:
    """The checkpoint's chart: a canvas whose bars are the API's passes per hour (one bar per
    hour with passes, as tall as its share of the busiest), its label the totals, and the
    same figures in its table."""
    from playwright.sync_api import expect

    [cp] = [c for c in site.ask("{ checkpoints { id hours { hour passes alerts } } }",
                                CITY_OFFICIAL)["checkpoints"] if c["id"] == CHECKPOINT[0]]
    hours = cp["hours"]
    assert [h["passes"] for h in hours] == list(PASSES.values())  # what this test counted
    chart = figure.get_by_test_id("hour-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    passes, alerts = sum(h["passes"] for h in hours), sum(h["alerts"] for h in hours)
    assert alerts == len(site.alerts)  # the vehicle alerts the tests raised there
    expect(chart).to_have_attribute(
        "aria-label", f"{CHECKPOINT[1]}: 过车 {passes} · 告警 {alerts} ({len(hours)} 个有车时段)")
    heights = chart.evaluate(BAR_HEIGHTS_JS)
    assert len(heights) == len([h for h in hours if h["passes"]]), heights
    top = max(heights)
    busiest = max(h["passes"] for h in hours)
    for height, h in zip(heights, hours, strict=True):  # within a few pixels of its share
        assert abs(height / top - h["passes"] / busiest) < 0.08, (heights, hours)
    rows = figure.locator("details.chart-data tbody tr")
    expect(rows).to_have_count(len(hours))
    for n, h in enumerate(hours):
        expect(rows.nth(n).locator("td.num")).to_have_text([str(h["passes"]), str(h["alerts"])])


def api_answer(site: Site, query: str) -> dict[str, Any] | None:
    """The API's data for ``query`` as the city official, or None when its schema lacks it."""
    r = httpx.post(f"{site.base}/graphql", json={"query": query}, timeout=30,
                   headers={"Authorization": f"Bearer {site.token(CITY_OFFICIAL)}"})
    body = r.json()
    if "errors" in body:
        assert any("Cannot query field" in e["message"] for e in body["errors"]), body
        return None
    return body["data"]


def test_the_boards_agree_with_the_api_or_say_they_are_coming(page: Any, site: Site) -> None:
    """Each board shows what the API answers for the jurisdiction; a server whose schema does
    not offer that area yet gets a "coming" placeholder, not an error."""
    from playwright.sync_api import expect

    login(page, site, CITY_OFFICIAL)
    expect(heading(page, "武汉市")).to_be_visible()
    for area, query in BOARDS.items():
        board = page.locator(f'section.board[data-area="{area}"]')
        expect(board).not_to_have_attribute("data-state", "loading")
        if query is None:
            expect(board.locator(".live")).to_have_attribute("data-live", "live")
            continue
        data = api_answer(site, query)
        if data is None:
            expect(board).to_have_attribute("data-state", "missing")
            expect(board).to_contain_text("待接入")
            continue
        expect(board).to_have_attribute("data-state", "ok")
        if area == "referrals":
            stages = {s["state"]: s["count"] for s in data["referralStages"]}
            assert stages["OPENED"] == 1  # the fever at the door
            for state, count in stages.items():
                expect(board.locator(f'li[data-state="{state}"] strong')).to_have_text(str(count))
            columns = board.get_by_test_id("referral-columns")
            assert len(data["referrals"]) == 1
            for r in data["referrals"]:  # each open referral is a card in its stage's column
                column = columns.locator(f'section[data-state="{r["state"]}"]')
                card = column.locator(f'li[data-id="{r["id"]}"]')
                expect(card).to_have_count(1)
                expect(card).to_contain_text("发热门诊")
                assert ("overdue" in card.get_attribute("class").split()) is r["overdue"]
        elif area == "sites":
            [row] = [s for s in data["quarantineSites"] if s["code"] == SITE[0]]
            expect(board.locator(f'tr[data-code="{SITE[0]}"]')).to_contain_text(
                f"{row['occupancy']}/{SITE[2]}")
        elif area == "requests":
            assert len(data["requests"]) == 1  # the one this test filed
            expect(board.locator("tbody tr")).to_have_count(1)
            expect(board.locator("tbody tr")).to_contain_text(data["requests"][0]["number"])
        elif area == "enterprises":
            if all(r["count"] == 0 for r in data["resumptionCounts"]):
                expect(board).to_contain_text("暂无")
        elif area == "checkpoints":
            assert [c["id"] for c in data["checkpoints"]] == [CHECKPOINT[0]]
            expect(board.locator("figcaption")).to_have_text([
                f"{CHECKPOINT[1]} {demo.zone_code(CHECKPOINT[2])}"])
            expect_chart(board.locator(f'figure[data-id="{CHECKPOINT[0]}"]'), site)
        else:  # no alert raised yet
            assert data["alerts"] == []
            expect(board).to_contain_text("暂无")
    page.locator("section.board").first.scroll_into_view_if_needed()
    page.screenshot(path=str(site.shots / "07-boards.png"), full_page=True)


def test_an_alert_raised_during_the_test_arrives_live_and_is_acknowledged_and_resolved(
        page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    from gridcore.alerts import AlertState

    if api_answer(site, "{ alerts { id } }") is None:
        pytest.skip("the API offers no alerts yet")
    login(page, site, "712-DIR")
    board = page.locator('section.board[data-area="alerts"]')
    expect(board.locator(".live")).to_have_attribute("data-live", "live")
    expect(board.locator("tbody tr")).to_have_count(0)

    alert = site.app.raise_vehicle_alert("WEB-PASS-1", CHECKPOINT[0], "鄂A12345", site.clock.now,
                                         "来自中高风险地区 risk area", by=System.OPERATOR)
    site.alerts.append(alert)
    expect(board.get_by_test_id("alert-news")).to_contain_text("新告警")
    row = board.locator(f'tbody tr[data-id="{alert}"]')
    expect(row).to_have_attribute("data-state", "RAISED")
    expect(row).to_contain_text(CHECKPOINT[0])
    page.screenshot(path=str(site.shots / "08-alert-live.png"), full_page=True)

    row.get_by_role("button", name="签收").click()
    expect(row).to_have_attribute("data-state", "ACKNOWLEDGED")
    assert site.app.alert(alert).state is AlertState.ACKNOWLEDGED

    row.get_by_role("button", name="处置").click()
    page.get_by_label("处置结果").select_option("FALSE_ALARM")
    page.get_by_label("处置措施").fill("核实为本小区车辆")
    page.get_by_role("button", name="提交处置").click()
    expect(board.locator(f'tbody tr[data-id="{alert}"]')).to_have_count(0)  # resolved: gone
    assert site.app.alert(alert).state is AlertState.RESOLVED


# ---- accessibility basics ------------------------------------------------------------------------

CONTRAST_JS = """
(selectors) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const ch = [r, g, b].map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c.length >= 3 && (c.length < 4 || c[3] > 0)) return c;
    }
    return [255, 255, 255];
  };
  const out = [];
  for (const sel of selectors) {
    for (const el of document.querySelectorAll(sel)) {
      if (!el.textContent.trim() || el.offsetParent === null) continue;
      const fg = parse(getComputedStyle(el).color), bg = background(el);
      const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      out.push({sel, text: el.textContent.trim().slice(0, 30),
                ratio: (a + 0.05) / (b + 0.05)});
    }
  }
  return out;
}
"""
TEXT_SELECTORS = ["body", "h1", "h2", "h3", "th", "td", "a", "button", "label", ".muted",
                  ".code", ".level", "dt", "dd", ".identity", ".heat-cell", "caption", "time",
                  ".error", ".breakdown", ".badge", ".feed li", ".legend", "summary", "h4"]


def unlabelled_controls(page: Any) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll(
        'input, select, textarea, button')].filter(el => {
          const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label')
            || el.getAttribute('aria-labelledby')
            || (el.tagName === 'BUTTON' && el.textContent.trim());
          return !named;
        }).map(el => el.outerHTML.slice(0, 80))""")


def tab_until(page: Any, predicate: str, limit: int = 60) -> bool:
    """Press Tab until the focused element satisfies the JS predicate ``el => bool``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; "
                         f"return !!el && ({predicate})(el); }})()"):
            return True
    return False


def check_contrast(page: Any, where: str, kinds: int = 8) -> None:
    rows = page.evaluate(CONTRAST_JS, TEXT_SELECTORS)
    assert len({r["sel"] for r in rows}) >= kinds, rows  # the page really has these texts
    low = [r for r in rows if r["ratio"] < 4.5]
    assert low == [], f"text below WCAG AA contrast on {where}: {low[:5]}"


def test_accessibility_labels_keyboard_and_contrast(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.base + "/")
    expect(page.get_by_label("访问令牌")).to_be_visible()
    assert unlabelled_controls(page) == []
    check_contrast(page, "the login page", kinds=5)
    expect_accessible(page, "the login page")
    # Keyboard only: tab to the token field, type, tab to the button, press Enter.
    assert tab_until(page, "el => el.id === 'token'")
    page.keyboard.type(site.token("712-DIR"))
    assert tab_until(page, "el => el.type === 'submit'")
    page.keyboard.press("Enter")
    expect(heading(page, "712社区")).to_be_visible()

    assert unlabelled_controls(page) == []
    check_contrast(page, "the community view")
    # The chart is a labelled picture whose figures a keyboard opens as a table.
    chart = page.get_by_role("img", name=f"{CHECKPOINT[1]}: 过车")
    expect(chart.locator("canvas")).to_have_count(1)
    table = page.locator("details.chart-data table")
    expect(table).to_be_hidden()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    assert tab_until(page, "el => el.tagName === 'SUMMARY'", limit=200)
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    check_contrast(page, "the community view with the chart's table")
    expect_accessible(page, "the community view with the chart's table")
    for feed in ("升级", "超时"):  # the live feeds are named regions
        expect(page.get_by_role("region", name=feed, exact=True)).to_have_count(1)
    # Tabbing reaches the language switch, a drill-down link, the campaign and the filters...
    wanted = ["lang", "drill", "campaign", "filter-health"]
    page.evaluate("document.activeElement && document.activeElement.blur()")
    reached: list[str] = []
    for _ in range(150):
        page.keyboard.press("Tab")
        el = page.evaluate("(() => { const e = document.activeElement; "
                           "return e ? [e.id, e.className] : ['', '']; })()")
        hit = next((w for w in wanted if w == el[0] or w in el[1].split()), None)
        if hit and hit not in reached:
            reached.append(hit)
        if len(reached) == len(wanted):
            break
    assert sorted(reached) == sorted(wanted)
    # ...and a drill-down link opens with Enter, with a visible focus ring.
    page.evaluate("document.activeElement && document.activeElement.blur()")
    assert tab_until(page, "el => el.classList.contains('drill')", limit=120)
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    name = page.evaluate("document.activeElement.textContent")
    page.keyboard.press("Enter")
    expect(heading(page, name)).to_be_visible()

    # The uncovered list and a timeline keep their labels and contrast too.
    page.goto(f"{site.base}/#/node/{demo.zone_code(NO_ANSWER_ZONE)}/uncovered/{site.campaign}")
    expect(page.get_by_test_id("uncovered-panel").locator("tbody tr").first).to_be_visible()
    assert unlabelled_controls(page) == []
    check_contrast(page, "the uncovered list")
    expect_accessible(page, "the uncovered list")
    page.goto(f"{site.base}/#/household/{site.no_answer}")
    expect(page.get_by_test_id("timeline")).to_be_visible()
    check_contrast(page, "the household timeline")
    expect_accessible(page, "the household timeline")


def test_escalations_and_overdue_items_arrive_live_and_the_overdue_referral_is_marked(
        page: Any, site: Site) -> None:
    """Time passes with an alert not acknowledged and the fever referral not transported: the
    alert escalates (升级), the referral becomes overdue (超时), both arrive in their feeds
    while the page is open, and the pipeline marks the referral overdue in its column."""
    from playwright.sync_api import expect

    login(page, site, "712-DIR")
    feeds = page.locator('section.board[data-area="watch"]')
    expect(feeds.locator(".live")).to_have_attribute("data-live", "live")
    alerts = page.locator('section.board[data-area="alerts"]')
    expect(alerts.locator(".live")).to_have_attribute("data-live", "live")
    pipeline = page.locator('section.board[data-area="referrals"]')
    [referral] = site.app.open_referrals(demo.COMMUNITY)
    card = pipeline.locator(f'li[data-id="{referral.id}"]')
    expect(card).not_to_have_class("ref overdue")
    expect(card.locator(".badge")).to_have_count(0)

    alert = site.app.raise_vehicle_alert("WEB-PASS-2", CHECKPOINT[0], "鄂A54321", site.clock.now,
                                         "来自中高风险地区 risk area", by=System.OPERATOR)
    site.alerts.append(alert)
    expect(alerts.locator(f'tbody tr[data-id="{alert}"]')).to_have_attribute("data-state",
                                                                           "RAISED")
    # the new alert reloads the checkpoint's chart: its hour now counts it
    expect_chart(page.locator(f'figure[data-id="{CHECKPOINT[0]}"]'), site)
    site.clock.now = max(referral.transport_due, site.clock.now) + timedelta(hours=1)
    ticked = site.app.tick(site.clock.now)
    assert ticked["referrals"] >= 1 and ticked["alerts"] >= 1
    assert site.app.referral(referral.id).overdue

    escalated = feeds.get_by_test_id("escalation-feed").locator(
        f'li[data-subject="ALERT"][data-id="{alert}"]')
    expect(escalated).to_contain_text("告警")
    expect(escalated).to_contain_text(demo.zone_code(CHECKPOINT[2]))
    late = feeds.get_by_test_id("overdue-feed").locator(
        f'li[data-subject="REFERRAL"][data-id="{referral.id}"]')
    expect(late).to_contain_text("转运")
    # the feed's item reloaded the pipeline: the card is marked, in its stage's column
    expect(card).to_have_class("ref overdue")
    expect(card.locator(".badge")).to_have_text("超时")
    state = site.ask("query($s: [ReferralState!]) { referrals(state: $s) { id state overdue } }",
                     "712-DIR", {"s": ["OPENED", "ACCEPTED", "IN_TRANSPORT", "ADMITTED"]})
    [row] = [r for r in state["referrals"] if r["id"] == str(referral.id)]
    assert row["overdue"] is True
    expect(pipeline.locator(f'section.column[data-state="{row["state"]}"] li[data-id='
                            f'"{referral.id}"]')).to_have_count(1)
    feeds.scroll_into_view_if_needed()
    page.screenshot(path=str(site.shots / "09-escalations-overdue.png"), full_page=True)
    # the open items of the community now count the new alert too
    page.reload()
    expect_open_items(page.get_by_test_id("open-items"), open_items(site, demo.COMMUNITY))
    assert open_items(site, demo.COMMUNITY)["alerts"] == 1


def age_text(hours: float) -> str:
    """An age as the page writes it: 2天3小时, 5小时, 40分钟 (web/src/i18n.ts formatAge)."""
    minutes = max(0, round(hours * 60))
    if minutes < 60:
        return f"{minutes}分钟"
    days, rest = divmod(round(minutes / 60), 24)
    return (f"{rest}小时" if days == 0 else f"{days}天" if rest == 0
            else f"{days}天{rest}小时")


def test_the_scenario_time_is_shown_and_ages_read_in_days_and_hours(page: Any,
                                                                     site: Site) -> None:
    """The application runs on the demo's clock (February 2020): a banner says the page is
    as of the scenario's time, and each referral's age reads in days and hours as of then;
    on the wall clock there is no banner."""
    import re

    from playwright.sync_api import expect

    login(page, site, "712-DIR")
    now = site.clock.now.astimezone(timezone(timedelta(hours=8)))
    expect(page.get_by_test_id("scenario-clock")).to_have_text(re.compile(
        rf"^情景时间 scenario time: {now:%Y-%m-%d %H:%M} \(UTC\+8\) · 本页数据按情景中的时间显示"))
    pipeline = page.locator('section.board[data-area="referrals"]')
    rows = site.ask("{ referrals(state: [OPENED, ACCEPTED, IN_TRANSPORT, ADMITTED]) "
                    "{ id ageHours } }", "712-DIR")["referrals"]
    assert rows
    for r in rows:
        expect(pipeline.locator(f'li[data-id="{r["id"]}"]')).to_contain_text(
            f" · {age_text(r['ageHours'])}")
    expect(pipeline).not_to_contain_text(re.compile(r"\d h\b"))
    page.screenshot(path=str(site.shots / "10-scenario-time.png"), full_page=True)

    clock = site.app.clock
    site.app.clock = utc_now
    try:
        page.reload()
        expect(page.get_by_test_id("identity")).to_be_visible()
        expect(page.get_by_test_id("open-items").first).to_be_visible()
        expect(page.get_by_test_id("scenario-clock")).to_have_count(0)
    finally:
        site.app.clock = clock
