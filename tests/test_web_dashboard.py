"""The dashboard (态势感知) in a real headless Chromium, against the 712 demo data.

Debian's ``chromium`` driven by Playwright (``executable_path``; Playwright's own browsers are
never downloaded). The server is the real one: the API and the dashboard built into
``graphql_api/static/``, under uvicorn on a free port, the read models kept up in process.

The scenario adds to the demo what the dashboard must show: a city-level official (so the
drill-down starts at the city), a sweep that covers each zone to a different share (zone 1
none, zone 11 all), a no-answer visit and a symptomatic resident. The expected figures come from
the application's aggregates and from what this test recorded, never from the API.

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
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.staff import Role
from gridcore.status import Health
from gridcore.sweep import Outcome
from projections import all_projections
from projections.runner import Runner

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


def _try_install() -> None:
    """CI (GRIDCORE_REQUIRE_BROWSER=1) as root on Debian: install the distribution's Chromium."""
    if not (_required() and hasattr(os, "geteuid") and os.geteuid() == 0
            and shutil.which("apt-get")):
        return
    subprocess.run(["apt-get", "install", "-y", "chromium"], check=False, timeout=600,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _unavailable(reason: str) -> None:
    if _required():
        pytest.fail(f"{reason} {INSTALL_HINT}")
    pytest.skip(f"{reason} {INSTALL_HINT}")


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = _browser_path()
    if path is None:
        _try_install()
        path = _browser_path()
    if path is None:
        _unavailable("No chromium executable was found.")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _unavailable("The playwright package is not installed.")
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
    app.register_quarantine_site(SITE[0], SITE[1], demo.STREET, SITE[2])
    app.register_checkpoint(CHECKPOINT[0], demo.zone_code(CHECKPOINT[2]), CHECKPOINT[1])
    app.file_request("online", "medical", "urgent", "家中老人需要降压药", household=sick)
    return households, covered, no_answer, sick


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium_path: str) -> Iterator[Site]:
    clock = demo.ScenarioClock()
    app = GridcoreApp(sqlite_env(tmp_path_factory.mktemp("web") / "gridcore.sqlite"),
                      clock=clock)
    demo.build(app)
    app.enrol_staff(CITY_OFFICIAL, "市指挥部", Role.OFFICIAL, demo.CITY, 10)
    app.enrol_staff(ZONE_OFFICIAL, "片区长", Role.OFFICIAL, demo.zone_code(1), 10)
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
    context.set_default_timeout(10_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        yield pg
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


def heading(page: Any, name: str) -> Any:
    return page.locator("h2.node-title", has_text=name)


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
    page.screenshot(path=str(site.shots / "01-city.png"), full_page=True)

    for name in ("江岸区", "后湖街道", "712社区"):
        page.locator("a.drill", has_text=name).click()
        expect(heading(page, name)).to_be_visible()
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
    page.get_by_role("link", name=f"{site.zones[zone]} 查看未覆盖户 ({uncovered})").click()
    panel = page.get_by_test_id("uncovered-panel")
    expect(panel.locator("tbody tr")).to_have_count(uncovered)
    row = panel.locator("tbody tr", has_text=str(site.no_answer)[:8])
    expect(row).to_contain_text("无人应答")
    expect(row.locator("td").last).to_have_text("1")
    page.screenshot(path=str(site.shots / "03-zone-uncovered.png"), full_page=True)

    # The household's timeline: every entry the API has for it, newest first.
    row.get_by_role("link").click()
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_be_visible()
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
    expect(rows.locator("th")).to_have_text([h[:8] for h in symptomatic])  # in id order
    for n in range(len(symptomatic)):
        expect(rows.nth(n)).to_contain_text("有症状")
    table.get_by_role("link", name=str(site.sick)[:8]).click()
    expect(page.get_by_test_id("timeline").locator('li[data-kind="household.health"]')
           ).to_contain_text("有症状")


def test_phone_width_and_the_english_switch(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, timezone_id="Asia/Shanghai")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        login(page, site, "712-DIR")
        expect(heading(page, "712社区")).to_be_visible()
        # Nothing wider than the screen: wide tables scroll inside their own box.
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(site.shots / "05-phone-zh.png"), full_page=True)

        page.get_by_role("button", name="English", exact=True).click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("heading", name="Sweep coverage")).to_be_visible()
        expect(page.get_by_role("heading", name="Situational awareness")).to_be_visible()
        expect(page.get_by_test_id("identity")).to_contain_text("official")
        expect(page.get_by_role("heading", name="态势感知")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        page.screenshot(path=str(site.shots / "06-phone-en.png"), full_page=True)

        # The choice is kept: a reload stays in English; switching back restores Chinese.
        page.reload()
        expect(page.get_by_role("heading", name="Sweep coverage")).to_be_visible()
        page.get_by_role("button", name="中文", exact=True).click()
        expect(page.get_by_role("heading", name="排查覆盖率")).to_be_visible()
    finally:
        context.close()


def test_a_bad_token_is_refused_and_a_zone_official_sees_only_their_zone(
        page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    page.goto(site.base + "/")
    page.get_by_label("访问令牌").fill("not-a-token")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("令牌无效")

    login(page, site, "712-GW-1")
    expect(page.get_by_test_id("identity")).to_have_text("网格员 · 712社区")
    # A zone official of zone 1 sees that zone only; the community reads as not visible.
    page.get_by_role("button", name="退出").click()
    login(page, site, ZONE_OFFICIAL)
    expect(heading(page, site.zones[demo.zone_code(1)])).to_be_visible()
    page.goto(f"{site.base}/#/node/{demo.COMMUNITY}")
    expect(page.get_by_role("alert")).to_contain_text("不在您的辖区内")
    page.goto(f"{site.base}/#/household/{site.no_answer}")  # a household of zone 3
    expect(page.get_by_role("alert")).to_contain_text("不在您的辖区内")


BOARDS = {  # area -> the API query the board's figures must agree with
    "alerts": "{ alerts(first: 20) { id } }",
    "referrals": ("{ referralStages { state count } "
                  "referrals(state: [OPENED, ACCEPTED, IN_TRANSPORT, ADMITTED]) "
                  "{ id state overdue } }"),
    "sites": "{ quarantineSites { code occupancy capacity } }",
    "checkpoints": "{ checkpoints { id } }",
    "enterprises": "{ resumptionCounts { status count } }",
    "requests": "{ requests(first: 20) { id number } }",
}


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
                                         "来自中高风险地区 risk area")
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
                  ".error"]


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
    # Keyboard only: tab to the token field, type, tab to the button, press Enter.
    assert tab_until(page, "el => el.id === 'token'")
    page.keyboard.type(site.token("712-DIR"))
    assert tab_until(page, "el => el.type === 'submit'")
    page.keyboard.press("Enter")
    expect(heading(page, "712社区")).to_be_visible()

    assert unlabelled_controls(page) == []
    check_contrast(page, "the community view")
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
    page.goto(f"{site.base}/#/household/{site.no_answer}")
    expect(page.get_by_test_id("timeline")).to_be_visible()
    check_contrast(page, "the household timeline")
