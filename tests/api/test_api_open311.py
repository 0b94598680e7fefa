"""Open311 GeoReport v2 (``graphql_api.open311``) over a real HTTP server, driven by a real
Open311 client library (``georeport``: its GETs) and, for the POST it lacks, by httpx with
the fields of the GeoReport v2 spec's published POST sample (api_key, jurisdiction_id,
service_code, lat, long, address_string, email, device_id, account_id, first_name, last_name,
phone, description, media_url), our values in them.

A POST with a point inside a micro-grid files a request in that micro-grid's community with
channel ``open311`` and the client system in its client id; GET shows it open, with no
personal data; a grid worker answers it through GraphQL; GET shows it closed, with the reply
only to the holder of its token. Wrong jurisdiction 404, bad key 403, missing service_code
400, each spec-shaped; the same submission twice is one request."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from georeport import GeoReport

from gridcore.authority import System
from gridcore.geo import Area, Crs, Point
from gridcore.requests import Channel, RequestStatus
from tests.api.test_api_access import World, serve_world
from tests.scenario import CITY, COMMUNITY, ZONES

KEY, CLIENT = "board-key-0123456789", "市民留言板 message board"
ORIGIN = Point(lng=114.30, lat=30.60)
INSIDE_ZONE_2 = ORIGIN.shifted(700, 300)
PHONE = "13800138111"
V2 = "/open311/v2"


def rect(x0: float, y0: float, x1: float, y1: float) -> Area:
    corners = [ORIGIN.shifted(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
    ring = tuple((p.lng, p.lat) for p in corners)
    return Area(polygons=(((*ring, ring[0]),),))


def sample(**changes: str) -> dict[str, str]:
    """The spec's sample POST's fields, with our values."""
    fields = {
        "api_key": KEY, "jurisdiction_id": CITY, "service_code": "supplies",
        "lat": str(INSIDE_ZONE_2.lat), "long": str(INSIDE_ZONE_2.lng),
        "address_string": "后湖大道1号3栋2单元501", "email": "zhang@example.cn",
        "device_id": "tt222111", "account_id": "123456", "first_name": "三",
        "last_name": "张", "phone": PHONE, "description": "家中老人缺降压药，无法外出购买",
        "media_url": "http://www.example.cn/someimage.jpg",
    }
    fields.update(changes)
    return {k: v for k, v in fields.items() if v != ""}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDCORE_OPEN311_KEYS", f'{{"{KEY}": "{CLIENT}"}}')
        mp.delenv("GRIDCORE_OPEN311_JURISDICTION", raising=False)
        with serve_world(tmp_path_factory.mktemp("open311") / "gridcore.sqlite") as w:
            w.app.draw_boundaries([(ZONES[0], rect(0, 0, 500, 1000)),
                                   (ZONES[1], rect(500, 0, 1000, 1000))], Crs.WGS84, "test",
                                  by=System.OPERATOR)
            w.caught_up()
            yield w


def client(world: World, **kw: Any) -> GeoReport:
    return GeoReport(world.base + V2, jurisdiction=CITY, **kw)


def post(world: World, fields: dict[str, str], headers: dict[str, str] | None = None
         ) -> httpx.Response:
    return httpx.post(f"{world.base}{V2}/requests.json", data=fields, headers=headers,
                      timeout=30)


def spec_error(r: httpx.Response, status: int, *words: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status
    assert all(w in body[0]["description"] for w in words), body


def test_services_and_their_definition(world: World) -> None:
    services = client(world).get_service_list()
    by_code = {s["service_code"]: s for s in services}
    assert by_code["supplies"]["service_name"] == "物资"
    assert by_code["medical"]["service_name"] == "就医"
    assert set(by_code) == {"supplies", "medical", "quarantine", "complaint", "information",
                            "other"}
    assert all(s["metadata"] is True and s["type"] == "realtime" for s in services)
    as_xml = client(world, output_format="xml").get_service_list()
    assert [s["service_code"] for s in as_xml] == [s["service_code"] for s in services]
    definition = client(world).get_service_definition("medical")
    assert definition["service_code"] == "medical"
    [grade] = definition["attributes"]
    assert grade["code"] == "grade" and grade["required"] is False
    assert [v["key"] for v in grade["values"]] == ["urgent", "normal"]
    unknown = httpx.get(f"{world.base}{V2}/services/potholes.json", timeout=30)
    spec_error(unknown, 404, "potholes", "supplies")


def test_filed_answered_and_followed(world: World) -> None:
    r = post(world, sample())
    assert r.status_code == 200, r.text
    [filed] = r.json()
    assert set(filed) == {"service_request_id", "token", "service_notice", "account_id"}
    assert filed["account_id"] == "123456"
    number, token = filed["service_request_id"], filed["token"]
    assert number.startswith(f"{COMMUNITY}-")

    request = world.app.request_by_number(number)
    assert request.community == COMMUNITY and request.channel is Channel.OPEN311
    assert request.client_id is not None and CLIENT in request.client_id
    assert request.details.phone is not None and request.details.text is not None
    assert "someimage.jpg" in request.details.text
    assert request.details.address is not None and "3栋" in request.details.address

    shown = client(world).get_service_request(number)
    assert shown["status"] == "open" and shown["service_code"] == "supplies"
    assert shown["service_name"] == "物资" and shown["address"] == "712社区"
    assert shown["description"] is None and "answered" not in shown["status_notes"]
    assert shown["expected_datetime"] is not None
    public = httpx.get(f"{world.base}{V2}/requests/{number}.json", timeout=30).text
    for personal in (PHONE, "138", "降压药", "3栋", "张", "zhang@", "someimage", token):
        assert personal not in public

    world.caught_up()
    listed = client(world).get_service_requests(service_code="supplies", status="open")
    assert number in [x["service_request_id"] for x in listed]
    assert client(world).get_service_requests(service_code="supplies", status="closed") == []

    done = world.ask("""mutation($id: ID!) { resolveRequest(input: { id: $id,
        reply: "已联系社区医生送药上门" }) { __typename } }""", "GW1",
                     {"id": str(request.id)})
    assert done["resolveRequest"]["__typename"] == "RequestUpdated"
    assert world.app.request(request.id).status is RequestStatus.RESOLVED

    closed = client(world).get_service_request(number)
    assert closed["status"] == "closed" and "送药" not in closed["status_notes"]
    assert closed["expected_datetime"] is None
    mine = httpx.get(f"{world.base}{V2}/requests/{number}.json", params={"token": token},
                     timeout=30).json()[0]
    assert mine["status_notes"] == "已联系社区医生送药上门"
    assert mine["description"].startswith("家中老人缺降压药")
    world.caught_up()
    listed = client(world).get_service_requests(service_request_id=number)
    assert [x["status"] for x in listed] == ["closed"]
    as_xml = ET.fromstring(httpx.get(f"{world.base}{V2}/requests/{number}.xml",
                                     timeout=30).content)
    assert as_xml.tag == "service_requests"
    assert as_xml.findtext("request/status") == "closed"
    by_token = httpx.get(f"{world.base}{V2}/tokens/{token}.json", timeout=30).json()
    assert by_token == [{"token": token, "service_request_id": number}]
    other = httpx.get(f"{world.base}{V2}/requests/{number}.json",
                      params={"token": "7KQ2M-9XT2H-DR4PA-6WQ1C"}, timeout=30)
    spec_error(other, 403, "token")


def test_the_same_submission_twice_is_one_request(world: World) -> None:
    fields = sample(description="楼道灯坏了，晚上看不见路", service_code="complaint")
    first, again = post(world, fields).json()[0], post(world, fields).json()[0]
    assert again == first
    request = world.app.request_by_number(first["service_request_id"])
    before = request.number
    third = post(world, {**fields, "description": "楼道灯坏了，晚上看不见路！"}).json()[0]
    assert third["service_request_id"] != before

    keyed = {"Idempotency-Key": "board-msg-42"}
    one = post(world, sample(description="垃圾三天没清运了"), keyed).json()[0]
    assert post(world, sample(description="垃圾三天没清运了"), keyed).json()[0] == one
    spec_error(post(world, sample(description="另一件事"), keyed), 400, "already used")


def test_a_grid_code_as_address_id(world: World) -> None:
    r = post(world, sample(lat="", long="", address_id=ZONES[0], description="咨询核酸时间",
                           service_code="information"))
    assert r.status_code == 200, r.text
    assert world.app.request_by_number(r.json()[0]["service_request_id"]).community == COMMUNITY


@pytest.mark.parametrize(("fields", "status", "words"), [
    ({"jurisdiction_id": "9999"}, 404, ("9999", CITY)),
    ({"api_key": "stolen"}, 403, ("api_key",)),
    ({"api_key": ""}, 403, ("api_key",)),
    ({"service_code": ""}, 400, ("service_code", "supplies")),
    ({"service_code": "potholes"}, 400, ("potholes",)),
    ({"phone": ""}, 400, ("phone",)),
    ({"description": ""}, 400, ("description",)),
    ({"lat": "", "long": "", "address_string": "某路1号"}, 400, ("lat", "address_id")),
    ({"lat": "0", "long": "0"}, 400, ("no micro-grid",)),
    ({"attribute[grade]": "asap"}, 400, ("normal or urgent",)),
])
def test_refusals_are_spec_shaped(world: World, fields: dict[str, str], status: int,
                                  words: tuple[str, ...]) -> None:
    before = world.app.recorder.max_notification_id()
    spec_error(post(world, sample(**fields)), status, *words)
    assert world.app.recorder.max_notification_id() == before


def test_gets_refuse_another_jurisdiction_and_other_formats(world: World) -> None:
    spec_error(httpx.get(f"{world.base}{V2}/services.json",
                         params={"jurisdiction_id": "city.gov"}, timeout=30), 404, "city.gov")
    spec_error(httpx.get(f"{world.base}{V2}/requests.json",
                         params={"jurisdiction_id": "city.gov"}, timeout=30), 404, "city.gov")
    spec_error(httpx.get(f"{world.base}{V2}/services.csv", timeout=30), 404, ".json")
    spec_error(httpx.get(f"{world.base}{V2}/requests/{COMMUNITY}-999999.json", timeout=30),
               404, "number")
    spec_error(httpx.get(f"{world.base}{V2}/requests.json",
                         params={"start_date": "2026-01-01"}, timeout=30), 400, "offset")
    as_xml = httpx.post(f"{world.base}{V2}/requests.xml", data=sample(api_key="x"),
                        timeout=30)
    assert as_xml.status_code == 403
    assert ET.fromstring(as_xml.content).findtext("error/code") == "403"


def test_keys_come_from_the_environment_or_a_file(tmp_path: Any) -> None:
    from graphql_api.open311 import open311_settings

    assert open311_settings({}).keys == {}
    table = tmp_path / "keys.json"
    table.write_text(f'{{"{KEY}": "{CLIENT}"}}', encoding="utf-8")
    got = open311_settings({"GRIDCORE_OPEN311_KEYS_FILE": str(table),
                            "GRIDCORE_OPEN311_JURISDICTION": CITY})
    assert got.keys == {KEY: CLIENT} and got.jurisdiction == CITY
    for bad in ("not json", '["a"]', '{"k": ""}', '{"k": 1}'):
        with pytest.raises(ValueError, match="GRIDCORE_OPEN311_KEYS"):
            open311_settings({"GRIDCORE_OPEN311_KEYS": bad})


def test_graphql_filing_may_not_claim_the_open311_channel(world: World) -> None:
    out = world.ask('mutation { fileRequest(input: {channel: OPEN311, category: SUPPLIES, '
                    'grade: NORMAL, text: "缺米", phone: "13800138111", address: "3栋101", '
                    f'gridCode: "{ZONES[0]}"}}) {{ __typename ... on Problem {{ problem remedy }} '
                    '} }', None)["fileRequest"]
    assert out["__typename"] == "InvalidInputProblem", out
    assert "/open311/v2/requests.json" in out["remedy"]
