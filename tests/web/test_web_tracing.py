"""The dashboard's 流调 tracing view in a real headless Chromium, on the 712 demo's case: the
community's cases listed, the demo's case opened, its chain drawn as a graph (the index, close
contacts, the secondary contact joined to whom they were exposed to) and its contacts listed by
generation, with names as the reader's role may see them; axe-core finds nothing to fix.

The store holds the demo's community and its case only (``demo.build`` and
``demo_field.tracing``: the households it picks are untouched there as after the sweep).
Screenshots go to ``GRIDCORE_SCREENSHOT_DIR`` (default: pytest's tmp folder)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from adapters import demo, demo_field
from adapters.settings import sqlite_env
from graphql_api.app import create_app
from graphql_api.auth import issue_token
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from gridcore.application import GridcoreApp
from gridcore.tracing import Generation
from projections import all_projections
from projections.runner import Runner
from tests.web.axe import expect_accessible
from tests.web.conftest import login

SECRET = "web-tracing-secret-" + "z" * 40


class Site:
    def __init__(self, base: str, app: GridcoreApp, shots: Path) -> None:
        self.base, self.app, self.shots = base, app, shots

    def token(self, staff_no: str) -> str:
        return issue_token(SECRET, self.app.staff_by_no(staff_no).id, 12)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, chromium: str) -> Iterator[Site]:
    clock = demo.ScenarioClock()
    app = GridcoreApp(sqlite_env(tmp_path_factory.mktemp("tracing") / "gridcore.sqlite"),
                      clock=clock)
    demo.build(app)
    demo_field.tracing(app, clock)
    runner = Runner(app, all_projections()).start()
    asgi = create_app(app, runner, ApiSettings(mode=Mode.DEVELOPMENT, secret=SECRET))
    shots = Path(os.environ.get("GRIDCORE_SCREENSHOT_DIR")
                 or tmp_path_factory.mktemp("screenshots"))
    shots.mkdir(parents=True, exist_ok=True)
    try:
        runner.wait(app.recorder.max_notification_id(), timeout=60)
        with running(asgi) as base:
            yield Site(base, app, shots)
    finally:
        runner.stop()



def names(site: Site) -> dict[str, list[str]]:
    """The demo case's people by generation, from the aggregates: the index, then each
    generation's contacts' names in the register, or as the investigation knew them."""
    app = site.app
    case = app.case_by_no(demo_field.CASE_NO)

    def name(hid: Any, rid: Any, known: Any) -> str:
        if hid is not None and rid is not None:
            return str(app.household(hid).residents[rid].identity.name)
        return str(known.name)

    by = app.contacts_by_generation(case.id)
    return {"index": [name(case.index_household_id, case.index_resident_id,
                           case.index_identity)],
            "1": [name(c.household_id, c.resident_id, c.identity) for c in by[Generation.CLOSE]],
            "2": [name(c.household_id, c.resident_id, c.identity)
                  for c in by[Generation.SECONDARY]]}


def test_the_demo_case_opens_with_its_contacts_by_generation(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    login(page, site, "712-DOC")  # a family doctor traces contacts: names whole
    page.get_by_test_id("open-tracing").click()
    cases = page.get_by_test_id("tracing-cases")
    row = cases.locator(f'tr[data-case="{demo_field.CASE_NO}"]')
    expect(row).to_be_visible()
    expect(row.locator("td").first).to_have_text("确诊")
    expect(row.locator("td").nth(2)).to_have_text("4")  # close contacts
    expect(row.locator("td").nth(3)).to_have_text("1")  # secondary
    expect_accessible(page, "the tracing cases of the community")
    row.get_by_role("link", name=demo_field.CASE_NO).click()

    chain = page.get_by_test_id("case-chain")
    expected = names(site)
    expect(chain.get_by_test_id("index-name")).to_have_text(expected["index"][0])
    for g in ("1", "2"):
        items = chain.locator(f'section[data-generation="{g}"] li .person-name')
        expect(items).to_have_count(len(expected[g]))
        assert sorted(items.all_inner_texts()) == sorted(expected[g])
    close_people = expected["1"]
    [secondary] = chain.locator('section[data-generation="2"] li').all_inner_texts()
    assert f"经 {close_people[0]}" in secondary  # the spouse's workmate, via the spouse
    expect(chain.locator('section[data-generation="1"] li', has_text="待落地排查")
           ).to_have_count(1)  # the relative from another district
    expect(chain.locator('section[data-generation="1"] li', has_text="待确认匹配")
           ).to_have_count(1)  # the neighbour known by name and building, left to confirm

    graph = chain.get_by_test_id("chain-graph")
    expect(graph).to_be_visible()
    assert graph.get_attribute("role") == "img"
    expect(graph.locator("g.person")).to_have_count(1 + 4 + 1)
    expect(graph.locator("path.edge")).to_have_count(5)
    expect(graph.locator('g.person[data-kind="proposed"]')).to_have_count(1)
    expect(graph.locator('g.person[data-kind="locate"]')).to_have_count(1)
    expect(graph.locator('g.person[data-kind="secondary"] text.person-name')
           ).to_have_text(expected["2"])
    page.screenshot(path=str(site.shots / "tracing-chain.png"), full_page=True)
    expect_accessible(page, "the chain of the demo's case")


def test_a_volunteer_sees_the_chain_with_names_masked(page: Any, site: Site) -> None:
    from playwright.sync_api import expect

    login(page, site, "712-VOL01")
    page.goto(f"{site.base}/#/tracing/{demo.COMMUNITY}/case/{demo_field.CASE_NO}")
    chain = page.get_by_test_id("case-chain")
    expected = names(site)
    masked = [n[0] + "*" * max(len(n) - 1, 1) for n in expected["1"]]
    items = chain.locator('section[data-generation="1"] li .person-name')
    expect(items).to_have_count(len(masked))
    assert sorted(items.all_inner_texts()) == sorted(masked)
    assert expected["index"][0] not in chain.inner_text()
    expect_accessible(page, "the chain as a volunteer sees it")


def test_the_chain_fits_a_phone_in_english(browser: Any, site: Site) -> None:
    """At 360 px the page does not scroll sideways (the graph and the table scroll in their
    own named boxes); the English switch labels the generations."""
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True,
                                  has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        login(page, site, "712-DIR")
        page.get_by_role("button", name="English").click()
        page.goto(f"{site.base}/#/tracing/{demo.COMMUNITY}/case/{demo_field.CASE_NO}")
        chain = page.get_by_test_id("case-chain")
        expect(chain.get_by_role("heading", name="Close contacts (generation 1) (4)")
               ).to_be_visible()
        expect(chain.get_by_test_id("chain-graph")).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(site.shots / "tracing-chain-phone.png"), full_page=True)
        expect_accessible(page, "the chain at phone width, in English")
    finally:
        context.close()
