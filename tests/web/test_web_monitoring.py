"""The dashboard's 健康监测 health-monitoring view in a real headless Chromium, on the 712 demo
after its field days (``demo_field.run``, ending with ``demo_monitoring``: reports by chat,
the assisted called by their worker, one resident silent since a missed evening report, one
fever). The page shows a node's counts equal to what the API's ``monitoringBoard`` answers,
a row per sub-grid that drills down, the residents the board lists; a director records a
report for the silent resident and sees it (and their overdue item closed); a grid worker
sees only their zones; axe-core finds nothing to fix.

Expected figures come from the API asked over HTTP with the same token, and from the
library (who is monitored where). Screenshots go to ``GRIDCORE_SCREENSHOT_DIR``."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import demo, demo_field, demo_monitoring
from graphql_api.auth import issue_token
from gridcore.application import GridcoreApp
from tests.web.axe import expect_accessible
from tests.web.conftest import login, served_712

SECRET = "web-monitoring-secret-" + "m" * 40
COLUMNS = {"monitored": "monitored", "due-today": "dueToday", "reported-today": "reportedToday",
           "missed-today": "missedToday", "overdue": "overdue", "abnormal": "abnormal",
           "release": "release", "assisted": "assisted"}
"""The page's column -> the API's field."""
NOTHING = dict.fromkeys(COLUMNS.values(), 0)
"""A node the board does not list: no one monitored there."""
BOARD = "{ monitoringBoard(scope: $s) { code " + " ".join(COLUMNS.values()) + " } }"
LISTED = ("%s: monitoredResidents(status: %s, scope: $s) { monitoringId residentId gridCode "
          "open assisted }")


class Site:
    def __init__(self, base: str, app: GridcoreApp, cast: demo_monitoring.Cast,
                 shots: Path) -> None:
        self.base, self.app, self.cast, self.shots = base, app, cast, shots

    def token(self, staff_no: str) -> str:
        return issue_token(SECRET, self.app.staff_by_no(staff_no).id, 12)

    def ask(self, staff_no: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.base + "/graphql", json.dumps({"query": query, "variables": variables}).encode(),
            {"Content-Type": "application/json",
             "Authorization": f"Bearer {self.token(staff_no)}"})
        with urllib.request.urlopen(request, timeout=60) as response:
            body = json.loads(response.read())
        assert not body.get("errors"), body
        data: dict[str, Any] = body["data"]
        return data

    def board(self, staff_no: str, scope: str) -> dict[str, dict[str, int]]:
        """The API's monitoring board at ``scope``: code -> counts."""
        rows = self.ask(staff_no, f"query($s: String) {BOARD}", {"s": scope})["monitoringBoard"]
        return {r.pop("code"): r for r in rows}

    def listed(self, staff_no: str, scope: str) -> dict[str, dict[str, Any]]:
        """The residents the API lists at ``scope`` under any status (MISSED: the open
        overdue items only, as the page asks): resident id -> a row (``open``: whether any of
        their missed reports is an open overdue item)."""
        statuses = ("DUE", "MISSED, openOnly: true", "ABNORMAL", "RELEASE")
        parts = " ".join(LISTED % (s.split(",")[0].lower(), s) for s in statuses)
        data = self.ask(staff_no, f"query($s: String) {{ {parts} }}", {"s": scope})
        out: dict[str, dict[str, Any]] = {}
        for rows in data.values():
            for r in rows:
                seen = out.setdefault(r["residentId"], r)
                seen["open"] = bool(seen["open"] or r["open"])  # an open overdue item
        return out


def run_field(app: GridcoreApp, clock: demo.ScenarioClock) -> demo_monitoring.Cast:
    demo_field.run(app, clock)  # the field days, ending with the monitoring (29 Feb, 09:30)
    return demo_monitoring.cast(app)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Site]:
    with served_712(tmp_path_factory, "monitoring", SECRET, run_field) as (base, app, cast, shots):
        yield Site(base, app, cast, shots)


def expect_counts(page: Any, want: dict[str, int]) -> None:
    from playwright.sync_api import expect

    counts = page.get_by_test_id("monitoring-counts")
    for col, field in COLUMNS.items():
        expect(counts.locator(f'[data-col="{col}"] dd')).to_have_text(str(want[field]))


def test_the_community_board_drills_into_a_zone(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    login(page, site, "712-DIR")
    page.get_by_test_id("open-monitoring").click()
    board = site.board("712-DIR", demo.COMMUNITY)
    here = board[demo.COMMUNITY]
    assert here["monitored"] == len(site.app.monitored(demo.COMMUNITY)) > 0
    assert here["overdue"] >= 1 and here["abnormal"] >= 1  # the silent one, the fever
    expect_counts(page, here)
    children = page.get_by_test_id("monitoring-children")
    for code in (demo.zone_code(z) for z in range(1, demo.ZONES + 1)):
        row = children.locator(f'tr[data-node="{code}"]')
        want = board.get(code, NOTHING)
        for col, field in COLUMNS.items():
            expect(row.locator(f'[data-col="{col}"]')).to_have_text(str(want[field]))
    listed = site.listed("712-DIR", demo.COMMUNITY)
    rows = page.get_by_test_id("monitored-residents").locator("tbody tr")
    expect(rows).to_have_count(len(listed))
    page.screenshot(path=str(site.shots / "monitoring-community.png"), full_page=True)
    expect_accessible(page, "the community's monitoring board")

    zone = max(board.keys() - {demo.COMMUNITY}, key=lambda c: (board[c]["monitored"], c))
    children.locator(f'tr[data-node="{zone}"] a').click()
    expect(page).to_have_url(f"{site.base}/#/monitoring/{zone}")
    expect_counts(page, site.board("712-DIR", zone)[zone])
    in_zone = site.listed("712-DIR", zone)
    assert in_zone and all(r["gridCode"] == zone for r in in_zone.values())
    rows = page.get_by_test_id("monitored-residents").locator("tbody tr")
    expect(rows).to_have_count(len(in_zone))
    assert sorted(r.get_attribute("data-resident") for r in rows.all()) == sorted(in_zone)
    expect_accessible(page, "a zone's monitoring board")


def test_a_report_recorded_for_the_silent_resident_shows(page: Any, site: Site) -> None:
    """The resident silent since the missed evening report has an open overdue item; a
    report by phone records the reading, closes the item and counts for today."""
    from playwright.sync_api import expect

    silent = str(site.cast.silent)
    before = site.board("712-DIR", demo.COMMUNITY)[demo.COMMUNITY]
    assert site.listed("712-DIR", demo.COMMUNITY)[silent]["open"] is True
    login(page, site, "712-DIR")
    page.goto(f"{site.base}/#/monitoring/{demo.COMMUNITY}")
    row = page.get_by_test_id("monitored-residents").locator(f'tr[data-resident="{silent}"]')
    expect(row).to_have_class("overdue")
    expect(row.locator('[data-col="overdue"] .badge')).to_have_text("超时")
    row.get_by_role("button").click()
    form = page.get_by_test_id("record-report")
    form.get_by_label("上报方式").select_option("STAFF_PHONE")
    form.get_by_label("体温（°C）").fill("36.6")
    expect_accessible(page, "the form to record a report")
    form.get_by_role("button", name="提交上报").click()
    expect(page.get_by_test_id("monitoring-done")).to_contain_text("已记录上报")
    expect(row.locator('[data-col="last-reading"]')).to_contain_text("36.6 °C")
    expect(row.locator('[data-col="last-reading"]')).to_contain_text("电话随访")
    expect(row.locator('[data-col="overdue"]')).to_have_text("—")
    after = site.board("712-DIR", demo.COMMUNITY)[demo.COMMUNITY]
    assert after["reportedToday"] == before["reportedToday"] + 1
    assert after["overdue"] == before["overdue"] - 1
    expect_counts(page, after)
    page.screenshot(path=str(site.shots / "monitoring-recorded.png"), full_page=True)


def test_a_resident_put_on_the_visit_list_shows_assisted(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    listed = site.listed("712-DIR", demo.COMMUNITY)
    rid = min(r for r, row in listed.items() if row["assisted"] is None)
    login(page, site, "712-DIR")
    page.goto(f"{site.base}/#/monitoring/{demo.COMMUNITY}")
    row = page.get_by_test_id("monitored-residents").locator(f'tr[data-resident="{rid}"]')
    expect(row.locator('[data-col="assisted"]')).to_have_count(0)
    page.get_by_label("居民").select_option(listed[rid]["monitoringId"])
    form = page.get_by_test_id("assist-resident")
    form.get_by_label("协助方式").select_option("VISIT")
    form.get_by_label("原因").fill("独居老人 lives alone")
    form.get_by_role("button", name="标记协助上报").click()
    expect(page.get_by_test_id("monitoring-done")).to_contain_text("已列入协助名单")
    expect(row.locator('[data-col="assisted"]')).to_have_text("协助 上门")
    assert site.listed("712-DIR", demo.COMMUNITY)[rid]["assisted"] == "VISIT"


def test_a_grid_worker_sees_their_zones_only(page: Any, site: Site) -> None:
    """712-GW-2 holds zones 2, 6 and 10: at each only that zone's residents show, as the API
    answers the worker; the community is outside their jurisdiction."""
    from playwright.sync_api import expect

    worker = "712-GW-2"
    zones = demo.worker_zones(2)
    login(page, site, worker)
    shown: set[str] = set()
    for zone in zones:
        page.goto(f"{site.base}/#/monitoring/{zone}")
        listed = site.listed(worker, zone)
        expect_counts(page, site.board(worker, zone).get(zone, NOTHING))
        rows = page.get_by_test_id("monitored-residents").locator("tbody tr")
        if listed:
            expect(rows).to_have_count(len(listed))
            assert {r.get_attribute("data-grid") for r in rows.all()} == {zone}
        else:
            expect(page.get_by_test_id("monitoring-counts")).to_be_visible()
            expect(rows).to_have_count(0)
        shown |= set(listed)
    mine = {str(m.resident_id) for m in site.app.monitored(demo.COMMUNITY)
            if site.app.household(m.household_id).micro_grid in zones}
    assert shown and shown <= mine
    expect_accessible(page, "a zone's monitoring board as its grid worker sees it")

    page.goto(f"{site.base}/#/monitoring/{demo.COMMUNITY}")
    expect(page.get_by_role("alert")).to_have_text("该节点不存在或不在您的辖区内。")
    expect(page.get_by_test_id("monitored-residents")).to_have_count(0)
    assert site.board(worker, demo.COMMUNITY) == {}
