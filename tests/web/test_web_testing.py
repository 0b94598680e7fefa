"""The dashboard's 核酸检测 mass-testing view in a real headless Chromium, on the 712 demo's
community: a round over the community sampled through the library (zone 1 whole, zone 2 half,
three households of zone 3 in one pool found positive), its coverage per zone on the page equal
to what this test sampled, the pending tubes, the positive pool with the households it put
under temporary control (names whole for the family doctor, masked for a volunteer), the
single-tube retests still due, the case a positive single tube opened, and the second round
one click away; axe-core finds nothing to fix.

Expected figures come from what this test recorded and from the campaign aggregate, never from
the API. Screenshots go to ``GRIDCORE_SCREENSHOT_DIR`` (default: pytest's tmp folder)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from adapters import demo
from graphql_api.auth import issue_token
from graphql_api.privacy import mask_name
from gridcore.application import GridcoreApp
from gridcore.mass_testing import SamplingSite, TestingCampaign, TubeResult
from gridcore.mass_testing_commands import SampleRow
from tests.web.axe import expect_accessible
from tests.web.conftest import login, served_712

SECRET = "web-testing-secret-" + "t" * 40
SITES = [SamplingSite(site_id="CY-01", name="712社区广场采样点", place=demo.COMMUNITY,
                      opens_hour=8, closes_hour=20, capacity_per_hour=1000)]
POOL = "POS-0001"  # the pool found positive: three households of zone 3
FULL, HALF, POSITIVE_ZONE = demo.zone_code(1), demo.zone_code(2), demo.zone_code(3)


@dataclass
class Story:
    """What the test did: the campaign and its second round, residents sampled per zone,
    the tubes left without a result, the positive pool's households."""

    first: UUID
    second: UUID
    sampled: dict[str, int] = field(default_factory=dict)
    pending: set[str] = field(default_factory=set)
    pool_households: list[UUID] = field(default_factory=list)


class Site:
    def __init__(self, base: str, app: GridcoreApp, story: Story, shots: Path) -> None:
        self.base, self.app, self.story, self.shots = base, app, story, shots

    def token(self, staff_no: str) -> str:
        return issue_token(SECRET, self.app.staff_by_no(staff_no).id, 12)

    def campaign(self, cid: UUID) -> TestingCampaign:
        return self.app.testing_campaign(cid)


def in_tubes(prefix: str, people: list[tuple[UUID, UUID]], size: int) -> list[SampleRow]:
    return [SampleRow(hid, rid, f"{prefix}-{n // size + 1:04d}")
            for n, (hid, rid) in enumerate(people)]


def run_campaign(app: GridcoreApp, clock: demo.ScenarioClock) -> Story:
    """Round 1 over the community; zone 1 sampled whole (its tubes negative), zone 2 half (its
    tubes sealed, no result yet), three households of zone 3 pooled and found positive; one
    member retested alone and positive (a case); then round 2 for whoever was not sampled."""
    official, doctor = app.staff_by_no("712-DIR").id, app.staff_by_no("712-DOC").id
    clock.at(5, 7)
    app.launch_testing_campaign(demo.COMMUNITY, 1, SITES, by=official, days=2)
    c = app.testing_campaign_of(demo.COMMUNITY, 1)
    by_zone: dict[str, list[UUID]] = {}
    for hid in sorted(c.assignments, key=str):
        by_zone.setdefault(c.assignments[hid].micro_grid, []).append(hid)
    story = Story(first=c.id, second=c.id)
    clock.at(5, 9)
    whole = [(h, r) for h in by_zone[FULL] for r in c.members[h]]
    half = [(h, r) for h in by_zone[HALF][: len(by_zone[HALF]) // 2] for r in c.members[h]]
    pooled: list[tuple[UUID, UUID]] = []
    for h in by_zone[POSITIVE_ZONE]:
        if len(story.pool_households) == 3:
            break
        if len(pooled) + len(c.members[h]) <= c.pool_size:
            story.pool_households.append(h)
            pooled += [(h, r) for r in c.members[h]]
    zone1, zone2 = in_tubes("Z01", whole, c.pool_size), in_tubes("Z02", half, c.pool_size)
    pool = [SampleRow(h, r, POOL) for h, r in pooled]
    app.record_samples(c.id, [*zone1, *zone2, *pool], by=doctor)
    story.sampled = {FULL: len(whole), HALF: len(half), POSITIVE_ZONE: len(pooled)}
    for code in sorted({r.tube_code for r in [*zone1, *zone2, *pool]}):
        app.seal_tube(code, by=doctor)
    story.pending = {r.tube_code for r in zone2}
    clock.at(5, 15)
    for code in sorted({r.tube_code for r in zone1}):
        app.record_tube_result(code, TubeResult.NEGATIVE, by=doctor)
    app.record_tube_result(POOL, TubeResult.POSITIVE, by=doctor)
    clock.at(5, 17)
    hid, rid = pooled[0]  # 单采单检: the first member retested alone, found positive
    app.record_samples(c.id, [SampleRow(hid, rid, "R-0001")], by=doctor)
    clock.at(5, 22)
    app.record_tube_result("R-0001", TubeResult.POSITIVE, by=doctor)
    clock.at(6, 8)
    app.launch_testing_campaign(demo.COMMUNITY, 2, SITES, by=official, days=1,
                                follow_up_of=c.id)
    story.second = app.testing_campaign_of(demo.COMMUNITY, 2).id
    clock.at(6, 9)
    return story


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Site]:
    with served_712(tmp_path_factory, "testing", SECRET, run_campaign) as (base, app, story, shots):
        yield Site(base, app, story, shots)


def percent(share: float) -> str:
    """As the page writes a share (``percent`` in web/src/i18n.ts: to a tenth of a percent)."""
    return f"{math.floor(share * 1000 + 0.5) / 10:g}%"


def residents_by_zone(c: TestingCampaign) -> dict[str, int]:
    out: dict[str, int] = {}
    for hid, a in c.assignments.items():
        out[a.micro_grid] = out.get(a.micro_grid, 0) + len(c.members[hid])
    return out


def controlled_names(site: Site, hid: UUID) -> list[str]:
    """The names, in the register, of the household's residents the campaign put under
    control."""
    c = site.campaign(site.story.first)
    h = site.app.household(hid)
    return sorted(str(h.residents[x.resident_id].identity.name)
                  for x in c.controls.values() if x.household_id == hid)


def test_coverage_per_zone_is_what_was_sampled_and_the_pool_shows_its_households(
        page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    story = site.story
    login(page, site, "712-DOC")  # a family doctor: names whole
    page.get_by_test_id("open-testing").click()
    campaigns = page.get_by_test_id("testing-campaigns")
    first = campaigns.locator(f'tr[data-campaign="{demo.COMMUNITY}#1"]')
    expect(first).to_be_visible()
    expect(campaigns.locator(f'tr[data-campaign="{demo.COMMUNITY}#2"] .badge')
           ).to_have_text("补采轮")
    total = sum(story.sampled.values())
    residents = sum(residents_by_zone(site.campaign(story.first)).values())
    expect(first.locator("td").nth(2)).to_have_text(f"{total} / {residents}")
    expect_accessible(page, "the testing campaigns of the community")

    first.get_by_role("link").click()
    detail = page.get_by_test_id("testing-campaign")
    expect(detail.get_by_test_id("campaign-sampled")).to_have_text(str(total))
    expect(detail.get_by_test_id("campaign-unsampled")).to_have_text(str(residents - total))
    coverage = detail.get_by_test_id("testing-coverage")
    per_zone = residents_by_zone(site.campaign(story.first))
    expect(coverage.locator("tbody tr")).to_have_count(demo.ZONES + 1)  # the zones and the total
    for zone, expected in per_zone.items():
        row = coverage.locator(f'tr[data-node="{zone}"]')
        sampled = story.sampled.get(zone, 0)
        expect(row.locator('[data-col="sampled"]')).to_have_text(f"{sampled} / {expected}")
        expect(row.locator('[data-col="unsampled"]')).to_have_text(str(expected - sampled))
        expect(row.locator('[data-col="share"]')).to_have_text(percent(sampled / expected))
    expect(coverage.locator(f'tr[data-node="{demo.COMMUNITY}"] [data-col="sampled"]')
           ).to_have_text(f"{total} / {residents}")

    tubes = detail.get_by_test_id("tubes-pending").locator("tbody tr")
    expect(tubes).to_have_count(len(story.pending))
    assert {t.get_attribute("data-tube") for t in tubes.all()} == story.pending

    pool = detail.get_by_test_id("positive-pools").locator(f'[data-pool="{POOL}"]')
    expect(pool.locator("li")).to_have_count(len(story.pool_households))
    for hid in story.pool_households:
        names = pool.locator(f'li[data-household="{hid}"] .controlled .person-name')
        expected_names = controlled_names(site, hid)
        assert expected_names, "a positive pool puts its households under control"
        expect(names).to_have_count(len(expected_names))
        assert sorted(names.all_inner_texts()) == expected_names
        expect(pool.locator(f'li[data-household="{hid}"] a')).to_have_text(
            str(site.app.household(hid).household_no))

    c = site.campaign(story.first)
    due = detail.get_by_test_id("retests-due").locator("tbody tr")
    expect(due).to_have_count(len(c.retests_due()))
    assert {r.get_attribute("data-resident") for r in due.all()} == {
        str(r.resident_id) for r in c.retests_due()}
    cases = detail.get_by_test_id("cases-opened").get_by_role("link")
    expect(cases).to_have_text(sorted(c.cases.values()))
    page.screenshot(path=str(site.shots / "testing-campaign.png"), full_page=True)
    expect_accessible(page, "a testing campaign's detail")

    detail.get_by_test_id("open-second-round").click()
    expect(page.get_by_test_id("testing-campaign").get_by_test_id("campaign-sampled")
           ).to_have_text("0")
    second = site.campaign(story.second)
    expect(page.get_by_test_id("testing-campaign").locator(
        f'[data-testid="testing-coverage"] tr[data-node="{demo.COMMUNITY}"] '
        '[data-col="sampled"]')).to_have_text(
        f"0 / {sum(len(m) for m in second.members.values())}")
    assert sum(len(m) for m in second.members.values()) == residents - total
    expect(page.get_by_test_id("second-round")).to_contain_text("补采轮，接续第")


def test_a_volunteer_sees_the_controlled_households_with_names_masked(
        page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    login(page, site, "712-VOL01")
    page.goto(f"{site.base}/#/testing/{demo.COMMUNITY}/campaign/{demo.COMMUNITY}/1")
    pool = page.get_by_test_id("positive-pools").locator(f'[data-pool="{POOL}"]')
    expect(pool.locator("li")).to_have_count(len(site.story.pool_households))
    for hid in site.story.pool_households:
        names = pool.locator(f'li[data-household="{hid}"] .controlled .person-name')
        whole = controlled_names(site, hid)
        expect(names).to_have_count(len(whole))
        assert sorted(names.all_inner_texts()) == sorted(mask_name(n) for n in whole)
        text = pool.inner_text()
        assert not any(n in text for n in whole)
    expect_accessible(page, "the campaign as a volunteer sees it")


def test_a_campaign_over_more_than_a_jurisdiction_is_not_shown(page: Any, site: Site) -> None:
    """712-GW-1 holds zones 1, 5 and 9: the community's campaign (its tubes, retests and
    cases span every zone) is not theirs to read, as ``testingCampaign`` answers; a zone
    outside their jurisdiction shows nothing either."""
    from playwright.sync_api import expect

    login(page, site, "712-GW-1")
    page.goto(f"{site.base}/#/testing/{FULL}")
    row = page.get_by_test_id("testing-campaigns").locator(
        f'tr[data-campaign="{demo.COMMUNITY}#1"]')
    expect(page.get_by_text("此节点暂无核酸检测批次。")).to_be_visible()
    expect(row).to_have_count(0)
    page.goto(f"{site.base}/#/testing/{POSITIVE_ZONE}")
    expect(page.get_by_text("此节点暂无核酸检测批次。")).to_be_visible()


def test_the_campaign_fits_a_phone_in_english(browser: Any, site: Site) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        login(page, site, "712-DIR")
        page.get_by_role("button", name="English").click()
        page.goto(f"{site.base}/#/testing/{demo.COMMUNITY}/campaign/{demo.COMMUNITY}/1")
        detail = page.get_by_test_id("testing-campaign")
        expect(detail.get_by_role("heading", name="Coverage per grid")).to_be_visible()
        expect(detail.get_by_role("heading", name="Single-tube retests due", exact=False)
               ).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(site.shots / "testing-campaign-phone.png"), full_page=True)
        expect_accessible(page, "the campaign at phone width, in English")
    finally:
        context.close()
