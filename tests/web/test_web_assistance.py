"""The dashboard's 协查 assistance-list view in a real headless Chromium, on the 712 demo's
community: two lists received for the district through the library (residents matched by
name and phone, a person routed by address to a zone, one left at the district), the
community's answers (found with the measure taken, not found, wrong data, moved to another
city) and one person left open past the deadline. The page lists the lists reaching the node
with their completion there; a list opens on its completion per level (district, street,
community, zones) and its persons routed to the node, with names whole for an official and
masked for a volunteer; axe-core finds nothing to fix.

Expected figures come from what this test reported and from the list aggregate (where each
person was routed), never from the API. Screenshots go to ``GRIDCORE_SCREENSHOT_DIR``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adapters import demo
from graphql_api.auth import issue_token
from graphql_api.privacy import mask_name
from gridcore.application import GridcoreApp
from gridcore.assistance import AssistanceRow, ItemStatus
from gridcore.authority import System
from gridcore.staff import Role
from tests.web.axe import expect_accessible
from tests.web.conftest import login, served_712

SECRET = "web-assistance-secret-" + "a" * 40
FIRST, SECOND = "鄂协查〔2020〕21号", "汉协查-2020-07"
DISTRICT_OFFICIAL = "JA-OFF-1"
STATUS = {s.value: s.name for s in ItemStatus}
"""A status as the list aggregate names it -> as the page marks a row (the API's enum)."""


@dataclass
class Story:
    """Per list, each person's number -> the status this test left them in."""

    statuses: dict[str, dict[int, str]] = field(default_factory=dict)


class Site:
    def __init__(self, base: str, app: GridcoreApp, story: Story, shots: Path) -> None:
        self.base, self.app, self.story, self.shots = base, app, story, shots

    def token(self, staff_no: str) -> str:
        return issue_token(SECRET, self.app.staff_by_no(staff_no).id, 12)

    def places(self, reference: str) -> dict[int, str]:
        """Each person's number -> where the list aggregate routed them."""
        return {i.no: i.place for i in self.app.assistance_list(reference).items}

    def names(self, reference: str) -> dict[int, str]:
        """Each person's number -> the name the list gave."""
        return {i.no: str(i.subject.name) for i in self.app.assistance_list(reference).items}

    def in_community(self, reference: str) -> list[int]:
        return [no for no, place in self.places(reference).items()
                if demo.COMMUNITY in chain(self, place)]


def registered(app: GridcoreApp, zone: int, n: int) -> AssistanceRow:
    """A row naming the ``n``-th household's first resident of a zone by name and phone."""
    households = sorted((h for h in app.households_in(demo.zone_code(zone))),
                        key=lambda h: str(h.household_no))
    r = next(iter(households[n].residents.values()))
    phone = r.identity.phone
    return AssistanceRow(name=str(r.identity.name), phone=str.__str__(phone) if phone else "",
                         reason="同行程 same trip")


def run_lists(app: GridcoreApp, clock: demo.ScenarioClock) -> Story:
    """List 1 (day 5): four residents of zones 1, 2 and 4, a person at an address of zone 6,
    one known only by the district; the community answers four, leaves one open. List 2 (day
    7, after list 1's deadline passed): two residents of zone 1, one found."""
    app.enrol_staff(DISTRICT_OFFICIAL, "区协查专班", Role.OFFICIAL, demo.DISTRICT, 10,
                    by=System.OPERATOR)
    worker = app.staff_by_no("712-GW-1").id
    official = app.staff_by_no("712-DIR").id
    clock.at(5, 9)
    rows = [registered(app, 1, 0), registered(app, 2, 0), registered(app, 4, 0),
            registered(app, 4, 1),
            AssistanceRow(name="钱七", address="712社区第6片区", reason="外省来返"),
            AssistanceRow(name="孙八", district="江岸区", reason="通信大数据行程")]
    app.receive_assistance_list("province_platform", FIRST, rows, demo.DISTRICT,
                                by=System.OPERATOR, source_name="湖北省平台",
                                list_format="csv")
    clock.at(5, 15)
    app.report_assistance_item(FIRST, 1, "found", by=worker, measure="居家隔离14天")
    app.report_assistance_item(FIRST, 2, "not_found", by=official)
    app.report_assistance_item(FIRST, 3, "wrong_data", by=official, note="电话有误")
    app.forward_assistance_item(FIRST, 4, by=official, to_city="孝感市", note="已返孝感")
    story = Story({FIRST: {1: "found", 2: "not_found", 3: "wrong_data", 4: "moved_away",
                           5: "pending", 6: "pending"}})
    clock.at(7, 9)  # list 1's deadline (a day) has passed: its open persons are overdue
    app.receive_assistance_list("other_city", SECOND, [registered(app, 1, 1),
                                                       registered(app, 1, 2)],
                                demo.DISTRICT, by=System.OPERATOR, source_name="孝感市卫健委")
    clock.at(7, 11)
    app.report_assistance_item(SECOND, 1, "found", by=worker, measure="居家观察")
    story.statuses[SECOND] = {1: "found", 2: "pending"}
    clock.at(7, 12)
    return story


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Site]:
    with served_712(tmp_path_factory, "assistance", SECRET, run_lists) as (base, app, story, shots):
        yield Site(base, app, story, shots)


def chain(site: Site, code: str) -> set[str]:
    """The node and every node above it, from the grid aggregates."""
    out: set[str] = set()
    current: str | None = code
    while current is not None and current not in out:
        out.add(current)
        current = site.app.node(current).parent_code
    return out


def counts(site: Site, reference: str, under: str) -> dict[str, int]:
    """Persons of a list routed to ``under`` or below, by the status this test left them in;
    ``overdue``: the open ones of the first list (its deadline passed)."""
    out = dict.fromkeys(STATUS, 0) | {"total": 0, "overdue": 0}
    for no, place in site.places(reference).items():
        if under in chain(site, place):
            status = site.story.statuses[reference][no]
            out[status] += 1
            out["total"] += 1
            out["overdue"] += status == "pending" and reference == FIRST
    return out


def test_the_lists_reaching_the_community_and_one_lists_persons(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    login(page, site, "712-DIR")  # a community official: names whole
    page.get_by_test_id("open-assistance").click()
    lists = page.get_by_test_id("assistance-lists")
    expect(lists.locator("tbody tr")).to_have_count(2)
    for reference in (FIRST, SECOND):
        row = lists.locator(f'tr[data-list="{reference}"]')
        here = counts(site, reference, demo.COMMUNITY)
        n = len(site.places(reference))
        expect(row.locator('[data-col="total"]')).to_have_text(f"{here['total']} / {n}")
        expect(row.locator('[data-col="done"]')).to_have_text(
            str(here["total"] - here["pending"]))
        expect(row.locator('[data-col="pending"]')).to_have_text(str(here["pending"]))
        expect(row.locator('[data-col="overdue"]')).to_have_text(str(here["overdue"]))
    expect_accessible(page, "the assistance lists of the community")

    lists.get_by_role("link", name=FIRST).click()
    detail = page.get_by_test_id("assistance-list")
    items = detail.get_by_test_id("assistance-items").locator("tbody tr")
    mine = site.in_community(FIRST)
    expect(items).to_have_count(len(mine))
    names = site.names(FIRST)
    for no in mine:
        row = detail.get_by_test_id("assistance-items").locator(f'tr[data-item="{no}"]')
        status = site.story.statuses[FIRST][no]
        assert row.get_attribute("data-status") == STATUS[status]
        expect(row.locator(".person-name")).to_have_text(names[no])
        if status == "pending":
            expect(row).to_have_class("overdue")
            expect(row.locator('[data-col="state"] .badge')).to_have_text("超时")
    completion = detail.get_by_test_id("assistance-completion")
    for code in [demo.COMMUNITY, *sorted({site.places(FIRST)[no] for no in mine})]:
        row = completion.locator(f'tr[data-node="{code}"]')
        want = counts(site, FIRST, code)
        for col, key in (("total", "total"), ("found", "found"), ("not-found", "not_found"),
                         ("moved-away", "moved_away"), ("wrong-data", "wrong_data"),
                         ("pending", "pending"), ("overdue", "overdue")):
            expect(row.locator(f'[data-col="{col}"]')).to_have_text(str(want[key]))
    page.screenshot(path=str(site.shots / "assistance-list.png"), full_page=True)
    expect_accessible(page, "an assistance list's detail")

    page.get_by_test_id("assistance-lists").get_by_role("link", name=SECOND).click()
    expect(page.get_by_test_id("assistance-list").get_by_role("heading", level=3)
           ).to_contain_text(SECOND)
    expect(page.get_by_test_id("assistance-items").locator("tbody tr")).to_have_count(
        len(site.in_community(SECOND)))


def test_completion_per_level_from_the_district(page: Any, site: Site) -> None:
    """A district official sees every level the list reached: the district (with the person
    left there), the street, the community and its zones."""
    from playwright.sync_api import expect

    login(page, site, DISTRICT_OFFICIAL)
    page.goto(f"{site.base}/#/assistance/{demo.DISTRICT}/list/{FIRST}")
    completion = page.get_by_test_id("assistance-completion")
    places = site.places(FIRST)
    district = completion.locator(f'tr[data-node="{demo.DISTRICT}"]')
    expect(district.locator('[data-col="total"]')).to_have_text(str(len(places)))
    expect(district.locator("td").first).to_have_text("区")
    expect(completion.locator(f'tr[data-node="{demo.STREET}"] td').first).to_have_text("街道")
    community = completion.locator(f'tr[data-node="{demo.COMMUNITY}"]')
    expect(community.locator('[data-col="total"]')).to_have_text(
        str(len(site.in_community(FIRST))))
    expect(community.locator("td").first).to_have_text("社区")
    levels = completion.locator("tbody tr td:first-child").all_inner_texts()
    assert levels == sorted(levels, key=["区", "街道", "社区", "微网格"].index)
    expect(page.get_by_test_id("assistance-items").locator("tbody tr")).to_have_count(
        len(places))
    expect_accessible(page, "a list's completion per level from the district")


def test_a_volunteer_sees_the_listed_names_masked(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    login(page, site, "712-VOL01")
    page.goto(f"{site.base}/#/assistance/{demo.COMMUNITY}/list/{FIRST}")
    table = page.get_by_test_id("assistance-items")
    mine = site.in_community(FIRST)
    expect(table.locator("tbody tr")).to_have_count(len(mine))
    names = site.names(FIRST)
    shown = table.locator(".person-name").all_inner_texts()
    assert sorted(shown) == sorted(mask_name(names[no]) for no in mine)
    assert not any(names[no] in table.inner_text() for no in mine)
    expect_accessible(page, "the list as a volunteer sees it")


def test_a_grid_worker_sees_the_lists_reaching_their_zone_only(page: Any, site: Site) -> None:
    """712-GW-2 holds zones 2, 6 and 10: at zone 2 only the list with a person routed there
    shows, and that list shows only that person."""
    from playwright.sync_api import expect

    zone = demo.zone_code(2)
    login(page, site, "712-GW-2")
    page.goto(f"{site.base}/#/assistance/{zone}")
    lists = page.get_by_test_id("assistance-lists")
    reaching = [ref for ref in (FIRST, SECOND)
                if any(zone in chain(site, p) for p in site.places(ref).values())]
    assert reaching == [FIRST]
    expect(lists.locator("tbody tr")).to_have_count(len(reaching))
    lists.get_by_role("link", name=FIRST).click()
    rows = page.get_by_test_id("assistance-items").locator("tbody tr")
    here = [no for no, p in site.places(FIRST).items() if zone in chain(site, p)]
    expect(rows).to_have_count(len(here))
    assert [r.get_attribute("data-item") for r in rows.all()] == [str(no) for no in here]
    completion = page.get_by_test_id("assistance-completion")
    expect(completion.locator("tbody tr")).to_have_count(1)  # the zone: nothing above it
    expect_accessible(page, "a list as a grid worker of one zone sees it")


def test_a_link_followed_the_moment_the_login_shows_is_not_lost(page: Any, site: Site) -> None:
    """The hash changed right after the page that follows the login first renders, before its
    effects run (a user following a link at once; a test navigating after the login): the
    page shows where the hash points, not the home node. A MutationObserver changes the hash
    the moment the identity appears, which is before the route's listener was added."""
    from playwright.sync_api import expect

    zone = demo.zone_code(2)
    page.goto(site.base + "/")
    page.evaluate("""(target) => new MutationObserver((_, seen) => {
        if (document.querySelector('[data-testid=identity]')) {
            seen.disconnect();
            location.hash = target;
        }
    }).observe(document.body, {childList: true, subtree: true})""", f"#/assistance/{zone}")
    page.get_by_label("访问令牌").fill(site.token("712-GW-2"))
    page.get_by_role("button", name="登录").click()
    lists = page.get_by_test_id("assistance-lists")
    expect(lists.locator("tbody tr")).to_have_count(1)
    expect(lists.get_by_role("link", name=FIRST)).to_be_visible()


def test_the_list_fits_a_phone_in_english(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        login(page, site, "712-DIR")
        page.get_by_role("button", name="English").click()
        page.goto(f"{site.base}/#/assistance/{demo.COMMUNITY}/list/{FIRST}")
        detail = page.get_by_test_id("assistance-list")
        expect(detail.get_by_role("heading", name="Completion per level")).to_be_visible()
        expect(detail.get_by_test_id("assistance-completion").locator(
            f'tr[data-node="{demo.COMMUNITY}"] td').first).to_have_text("community")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(site.shots / "assistance-list-phone.png"), full_page=True)
        expect_accessible(page, "the list at phone width, in English")
    finally:
        context.close()
