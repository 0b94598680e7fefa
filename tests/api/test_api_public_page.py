"""A community's public page over a real HTTP server (``GET /public/{code}`` and
``/public/{code}.json``, 知情权): the notices that reach the community and no other's, its
statistics as the read models hold them, no personal data, no token needed, 404 for a code
that is not a community's, and notice text escaped."""

from __future__ import annotations

import html
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

import httpx
import pytest

from gridcore.authority import System
from gridcore.status import Health, Measure
from projections import grid_rollup, queries
from tests.api.test_api_access import OTHER_COMMUNITY, OTHER_ZONE, World, serve_world
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)> & 通知'
REACHING = {  # scope -> text of a notice that reaches COMMUNITY's page
    CITY: "全市明日起暂停堂食。",
    STREET: "后湖街道周六全员核酸检测，请携带身份证。",
    COMMUNITY: "712社区物资发放点设在北门。",
    ZONES[0]: "第1片区今晚8点消杀，请关好门窗。",
}
ELSEWHERE = {OTHER_COMMUNITY: "713社区今日停水。", OTHER_ZONE: "713第1片区明日发菜。"}


@dataclass
class Page:
    world: World

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": token} if token is not None else {}
        return httpx.get(self.world.base + path, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
    with serve_world(tmp_path_factory.mktemp("public") / "gridcore.sqlite") as w:
        for scope, text in [*REACHING.items(), *ELSEWHERE.items(), (COMMUNITY, EVIL)]:
            w.clock.advance(minutes=5)
            w.app.post_notice(scope, text, by=System.OPERATOR)
        hid = UUID(next(h for h, z in w.households.items() if z == ZONES[0]))
        rid = next(iter(w.app.household(hid).residents))
        w.app.change_health(hid, rid, Health.CONFIRMED, by=w.staff["DOC1"], reason="核酸阳性")
        w.app.change_measure(hid, rid, Measure.CENTRALIZED_QUARANTINE, by=w.staff["OFF1"],
                           reason="确诊转运 confirmed")
        w.caught_up()
        yield Page(w)


def test_notices_above_and_inside_appear_newest_first_and_others_do_not(page: Page) -> None:
    r = page.get(f"/public/{COMMUNITY}.json")
    assert r.status_code == 200, r.text
    notices = r.json()["notices"]
    assert [n["text"] for n in notices] == [EVIL, *reversed(REACHING.values())]
    assert [n["scope"]["code"] for n in notices] == [COMMUNITY, *reversed(REACHING)]
    assert notices[-1]["scope"]["name"] == "武汉市"
    times = [n["posted_at"] for n in notices]
    assert times == sorted(times, reverse=True)
    text = page.get(f"/public/{COMMUNITY}").text
    for other in ELSEWHERE.values():
        assert other not in r.text and other not in text
    for shown in REACHING.values():
        assert shown in text
    other = page.get(f"/public/{OTHER_COMMUNITY}.json").json()
    assert {n["text"] for n in other["notices"]} == {
        REACHING[CITY], REACHING[STREET], *ELSEWHERE.values()}


def test_the_names_of_the_community_and_its_parents(page: Page) -> None:
    body = page.get(f"/public/{COMMUNITY}.json").json()
    assert body["community"] == {"code": COMMUNITY, "name": "712社区", "level": "community",
                                 "level_label": "社区 community"}
    assert [(p["code"], p["name"]) for p in body["parents"]] == [
        (CITY, "武汉市"), (DISTRICT, "江岸区"), (STREET, "后湖街道")]
    text = page.get(f"/public/{COMMUNITY}").text
    assert all(name in text for name in ("712社区", "武汉市", "江岸区", "后湖街道"))


def test_statistics_equal_the_read_models(page: Page) -> None:
    views = page.world.runner.views
    counts = grid_rollup.rollups(views, [COMMUNITY])[COMMUNITY]
    open_now = queries.open_items(views, [COMMUNITY])[COMMUNITY]
    stats = page.get(f"/public/{COMMUNITY}.json").json()["statistics"]
    assert (stats["households"], stats["residents"], stats["staff"]) == (
        counts["households"], counts["residents"], counts["staff"]) == (6, 12, 6)
    assert {h["health"]: h["count"] for h in stats["by_health"]} == counts["by_health"]
    assert {m["measure"]: m["count"] for m in stats["by_measure"]} == counts["by_measure"]
    assert {t["tag"]: t["count"] for t in stats["by_tag"]} == counts["by_tag"]
    assert counts["by_health"][Health.CONFIRMED.value] == 1
    assert counts["by_measure"][Measure.CENTRALIZED_QUARANTINE.value] == 1
    assert stats["open"] == {"referrals": open_now.referrals, "deliveries": open_now.deliveries,
                             "requests": open_now.requests, "alerts": open_now.alerts}
    text = page.get(f"/public/{COMMUNITY}").text
    assert '<html lang="zh-CN">' in text and "<table>" in text and "<h1>" in text
    assert '<th scope="row">居民 residents</th><td class="n">12</td>' in text
    confirmed = next(h["label"] for h in stats["by_health"] if h["health"] == "confirmed")
    assert f'<th scope="row">{confirmed}</th><td class="n">1</td>' in text


def test_no_personal_data_of_any_resident_appears(page: Page) -> None:
    w = page.world
    secrets: set[str] = set()
    for hid in w.households:
        h = w.app.household(UUID(hid))
        secrets.update({str.__str__(h.address.text or ""), str(h.id), h.household_no})
        for rid, r in h.residents.items():
            secrets.update({r.identity.name or "", str(rid)})
            if r.identity.phone is not None:
                secrets.add(str.__str__(r.identity.phone))
    secrets.discard("")
    assert {"张三", "李四", "13812341234", "1栋101"} <= secrets  # what the fixture registered
    for code in (COMMUNITY, OTHER_COMMUNITY):
        for path in (f"/public/{code}", f"/public/{code}.json"):
            body = page.get(path).text
            assert [s for s in secrets if s in body] == [], path


def test_no_token_is_needed_and_a_bad_one_does_not_matter(page: Page) -> None:
    plain = page.get(f"/public/{COMMUNITY}.json")
    assert plain.status_code == 200
    assert plain.headers["cache-control"] == "public, max-age=60"
    assert plain.headers["content-type"].startswith("application/json")
    for token in ("Bearer not-a-token", "Basic Zm9vOmJhcg==", "garbage",
                  f"Bearer {page.world.token('OFF1')}"):
        r = page.get(f"/public/{COMMUNITY}.json", token)
        assert r.status_code == 200, r.text
        assert r.json()["notices"] == plain.json()["notices"]
        assert r.json()["statistics"]["households"] == plain.json()["statistics"]["households"]
    html_page = page.get(f"/public/{COMMUNITY}", "Bearer not-a-token")
    assert html_page.status_code == 200
    assert html_page.headers["content-type"].startswith("text/html")
    assert html_page.headers["cache-control"] == "public, max-age=60"


@pytest.mark.parametrize(("code", "says"), [
    ("999999999999", "No grid node has the code"),
    (ZONES[0], "is a 微网格 micro-grid"),
    (STREET, "is a 街道 street"),
    (CITY, "is a 市 city"),
])
def test_a_code_that_is_not_a_community_is_a_404_saying_what_is_accepted(
        page: Page, code: str, says: str) -> None:
    r = page.get(f"/public/{code}.json")
    assert r.status_code == 404
    message = r.json()["errors"][0]["message"]
    assert says in message and "community (社区)" in message and "/public/" in message
    assert "12社区" not in message or code == ZONES[0]
    h = page.get(f"/public/{code}")
    assert h.status_code == 404 and h.headers["content-type"].startswith("text/html")
    assert html.escape(says) in h.text
    if code == ZONES[0]:  # a micro-grid's answer names its community's page
        assert f"/public/{COMMUNITY}" in message


def test_a_malicious_notice_text_is_escaped(page: Page) -> None:
    text = page.get(f"/public/{COMMUNITY}").text
    assert "<script>" not in text and "<img" not in text
    assert html.escape(EVIL) in text
    assert page.get(f"/public/{COMMUNITY}.json").json()["notices"][0]["text"] == EVIL
