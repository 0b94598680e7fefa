"""Assistance lists (协查名单) on every store: a list received whole (matched to the register or
routed by address, the rest left at the district with the reason), the community's reports
and forwardings, escalation of overdue persons by ``tick``, completion per grid node, erasure
with a matched resident, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp
from gridcore.assistance import (
    AssistanceRow,
    ItemStatus,
    MatchBasis,
    RouteBasis,
    assistance_list_id,
)
from gridcore.assistance_commands import DIRECTORY_ID, AssistanceDirectory
from gridcore.authority import NotAuthorised, System
from gridcore.errors import DuplicateCode, ForbiddenTransition, InvalidInput
from gridcore.grid import Level
from gridcore.household import household_id, new_member, resident_id
from gridcore.staff import Role
from tests.conftest import Clock

OP = System.OPERATOR
CITY, DISTRICT, OTHER_DISTRICT, STREET = "4201", "420102", "420103", "420102001"
C712, C713 = f"{STREET}712", f"{STREET}713"
Z1, Z2, Y1 = f"{C712}-01", f"{C712}-02", f"{C713}-01"
ID_ZHANG = "420102198503174516"
H = timedelta(hours=1)


@pytest.fixture
def city(app: GridcoreApp) -> GridcoreApp:
    return city_of(app)


def city_of(app: GridcoreApp) -> GridcoreApp:
    """Two districts; a street of communities 712 (two micro-grids, 张三 and 李四 registered)
    and 713; a grid worker of each community, officials of 712, the district and the city."""
    app.establish_city(CITY, "武汉市", by=OP)
    app.create_node(DISTRICT, "江岸区", CITY, by=OP)
    app.create_node(OTHER_DISTRICT, "江汉区", CITY, by=OP)
    app.create_node(STREET, "后湖街道", DISTRICT, by=OP)
    app.create_node(C712, "712社区", STREET, by=OP)
    app.create_node(C713, "713社区", STREET, by=OP)
    app.create_node(Z1, "第1片区", C712, by=OP)
    app.create_node(Z2, "第2片区", C712, by=OP)
    app.create_node(Y1, "东片", C713, by=OP)
    app.register_household("712-1-0", Z1, "1栋101", [
        new_member("712-1-0", 1, "张三", "13812341234", ID_ZHANG, 1985),
        new_member("712-1-0", 2, "李四", "13900002222", None, 1986)], by=OP)
    app.register_household("713-1-0", Y1, "9栋909", [new_member("713-1-0", 1, "王五")], by=OP)
    for no, role, where in (("GW712", Role.GRID_WORKER, C712), ("GW713", Role.GRID_WORKER, C713),
                            ("OFF712", Role.OFFICIAL, C712), ("OFFD", Role.OFFICIAL, DISTRICT),
                            ("OFFC", Role.OFFICIAL, CITY)):
        app.enrol_staff(no, no, role, where, 10, by=OP)
    return app


def rows() -> list[AssistanceRow]:
    return [
        AssistanceRow(name="张叁", id_number=ID_ZHANG, reason="同行程 same trip"),  # by ID
        AssistanceRow(name="李四", phone="139 0000 2222", address="别处"),  # phone + name
        AssistanceRow(name="赵六", phone="13700001111", address="江岸区后湖街道713社区5栋202"),
        AssistanceRow(name="钱七", address="712社区第2片区"),
        AssistanceRow(name="孙八", district="江汉区", reason="密接"),
        AssistanceRow(name="周九", address="外省某地"),
    ]


def staff(app: GridcoreApp, no: str) -> UUID:
    return app.staff_by_no(no).id


def test_a_list_is_matched_and_routed_in_one_save(city: GridcoreApp, clock: Clock) -> None:
    app = city
    before = app.recorder.max_notification_id()
    receipt = app.receive_assistance_list("province_platform", "鄂协查〔2022〕117号", rows(),
                                          CITY, by=staff(app, "OFFC"), source_name="湖北省平台",
                                          list_format="csv")
    assert (receipt.items, receipt.matched, receipt.routed, receipt.unrouted) == (6, 2, 2, 2)
    assert receipt.notification_id is not None and receipt.notification_id > (before or 0)
    a = app.assistance_list("鄂协查〔2022〕117号")
    assert a.id == receipt.list_id == assistance_list_id(" 鄂协查〔2022〕117号 ")
    got = [(i.place, i.owner, i.basis, i.match_basis) for i in a.items]
    assert got == [
        (Z1, C712, RouteBasis.REGISTER, MatchBasis.ID_NUMBER),
        (Z1, C712, RouteBasis.REGISTER, MatchBasis.PHONE_NAME),
        (C713, C713, RouteBasis.COMMUNITY, None),
        (Z2, C712, RouteBasis.MICRO_GRID, None),
        (OTHER_DISTRICT, OTHER_DISTRICT, RouteBasis.DISTRICT, None),
        (CITY, CITY, RouteBasis.SCOPE, None),
    ]
    assert a.items[0].resident_id == resident_id("712-1-0", 1)
    assert a.items[4].unrouted and a.items[5].unrouted and a.items[2].unrouted is None
    assert all(i.deadline == clock.now + 24 * H for i in a.items)
    assert a.items[0].subject.name == "张叁"  # as the list said it
    assert a.received_by == staff(app, "OFFC") and a.source_name == "湖北省平台"


def test_a_bad_row_refuses_the_whole_list_naming_the_row(city: GridcoreApp) -> None:
    app = city
    before = app.recorder.max_notification_id()
    bad = [*rows()[:2], AssistanceRow(name="x", phone="12345", address="712社区")]
    with pytest.raises(InvalidInput) as e:
        app.receive_assistance_list("other_city", "孝感-1", bad, CITY, by=OP)
    assert "Row 3" in e.value.problem and "12345" not in str(e.value) and e.value.remedy
    with pytest.raises(InvalidInput, match="Row 1: nothing identifies"):
        app.receive_assistance_list("other_city", "孝感-1", [AssistanceRow(address="x")],
                                    CITY, by=OP)
    with pytest.raises(InvalidInput, match="neither matched nor routed"):
        app.receive_assistance_list("other_city", "孝感-1", [AssistanceRow(name="某某")],
                                    CITY, by=OP)
    with pytest.raises(InvalidInput, match="no person"):
        app.receive_assistance_list("other_city", "孝感-1", [], CITY, by=OP)
    with pytest.raises(InvalidInput, match="not a list source"):
        app.receive_assistance_list("rumour", "孝感-1", rows(), CITY, by=OP)
    assert app.recorder.max_notification_id() == before
    app.receive_assistance_list("other_city", "孝感-1", rows(), CITY, by=OP)
    with pytest.raises(DuplicateCode):
        app.receive_assistance_list("other_city", "孝感-1", rows(), CITY, by=OP)


def test_reports_forwardings_and_the_directory(city: GridcoreApp, clock: Clock) -> None:
    app = city
    lid = app.receive_assistance_list("itinerary_check", "行程卡-1", rows(), CITY,
                                      by=OP).list_id
    gw = staff(app, "GW712")
    with pytest.raises(InvalidInput, match="measure taken"):
        app.report_assistance_item(lid, 1, "found", by=gw)
    clock.advance(hours=2)
    app.report_assistance_item(lid, 1, "found", by=gw, measure="居家隔离14天")
    with pytest.raises(ForbiddenTransition):
        app.report_assistance_item(lid, 1, "not_found", by=gw)
    with pytest.raises(InvalidInput, match="forwarded, not reported"):
        app.report_assistance_item(lid, 2, "moved_away", by=gw)
    app.report_assistance_item(lid, 2, "not_found", by=gw, note="敲门无人")
    a = app.assistance_list(lid)
    assert a.items[0].status is ItemStatus.FOUND and a.items[0].on_time
    assert a.items[0].reported_by == gw and a.items[0].reported_at == clock.now
    # not found here, found to live in 713 later: forwarded, pending there with a new deadline
    app.forward_assistance_item(lid, 2, to_community=Y1, note="已搬至东片", by=gw)
    item = app.assistance_list(lid).items[1]
    assert (item.status, item.place, item.owner, item.forwards) == (
        ItemStatus.PENDING, Y1, C713, 1)
    assert item.deadline == clock.now + 24 * H
    app.forward_assistance_item(lid, 4, to_city="孝感市", by=gw)
    assert app.assistance_list(lid).items[3].moved_to_city == "孝感市"
    with pytest.raises(InvalidInput, match="one of them"):
        app.forward_assistance_item(lid, 3, to_city="孝感市", to_community=C712,
                                    by=staff(app, "GW713"))
    # the district routes what it could not: to the community that must locate the person
    app.forward_assistance_item(lid, 5, to_community=C712, by=staff(app, "OFFC"))
    for no, who in ((2, "GW713"), (3, "GW713"), (5, "GW712")):
        app.report_assistance_item(lid, no, "wrong_data", by=staff(app, who))
    d = app._find(AssistanceDirectory, DIRECTORY_ID)
    assert d is not None and d.open == [lid]
    app.report_assistance_item(lid, 6, "not_found", by=staff(app, "OFFC"))
    d = app._find(AssistanceDirectory, DIRECTORY_ID)
    assert d is not None and d.open == [] and d.lists == [lid]
    assert app.assistance_lists(open_only=True) == []
    app.forward_assistance_item(lid, 6, to_community=C713, by=staff(app, "OFFC"))
    assert [x.id for x in app.assistance_lists(open_only=True)] == [lid]


def test_overdue_persons_escalate_up_the_levels(city: GridcoreApp, clock: Clock) -> None:
    app = city
    t0 = clock.now
    lid = app.receive_assistance_list("other_city", "L-2", rows()[:1], CITY, by=OP).list_id
    assert app.tick(t0 + 23 * H)["assistance"] == 0
    clock.now = t0 + 100 * H  # four deadlines missed meanwhile: each dated when it passed
    assert app.tick()["assistance"] == 1
    item = app.assistance_list(lid).items[0]
    assert (item.owner, item.owner_level, item.escalations, item.missed) == (
        CITY, Level.CITY, 3, 4)
    assert item.deadline is None and item.overdue(clock.now)
    assert app.tick()["assistance"] == 0  # recorded once
    # a community worker may still report it; it was not on time
    app.report_assistance_item(lid, 1, "found", measure="集中隔离", by=staff(app, "GW712"))
    assert app.assistance_list(lid).items[0].on_time is False


def test_completion_per_grid_node(city: GridcoreApp, clock: Clock) -> None:
    app = city
    lid = app.receive_assistance_list("other_city", "L-3", rows(), CITY, by=OP).list_id
    app.report_assistance_item(lid, 1, "found", measure="居家", by=staff(app, "GW712"))
    clock.advance(hours=25)
    done = app.assistance_completion(CITY)
    assert done[CITY].total == 6 and done[CITY].found == 1 and done[CITY].pending == 5
    assert done[CITY].overdue == 5
    assert done[C712].total == 3 and done[Z1].total == 2 and done[Z2].total == 1
    assert done[STREET].total == 4 and done[DISTRICT].total == 4
    assert done[OTHER_DISTRICT].total == 1
    assert set(app.assistance_completion(C712)) == {C712, Z1, Z2}
    todo = app.assistance_items(C712)
    assert [i.no for _, i in todo] == [2, 4]


def test_erasing_a_matched_resident_shreds_the_item(
        city: GridcoreApp, make_app: Callable[[], GridcoreApp]) -> None:
    app = city
    lid = app.receive_assistance_list("other_city", "L-4", rows(), CITY, by=OP).list_id
    stored = b"".join(bytes(e.state) for e in app.recorder.select_events(lid))
    assert "张叁".encode() not in stored and b"sealed" in stored  # sealed at rest
    app.erase_resident(household_id("712-1-0"), resident_id("712-1-0", 1), "期满", by=OP)
    for reader in (app, make_app()):  # the cached list, and one read back from the store
        a = reader.assistance_list(lid)
        assert a.items[0].subject.erased and a.items[0].subject.name is None
        assert not a.items[1].subject.erased and a.items[1].subject.name == "李四"
        assert a.items[0].place == Z1  # the routing stays


def test_who_may_receive_report_and_forward(city: GridcoreApp) -> None:
    app = city
    with pytest.raises(NotAuthorised):  # a community official receives no list
        app.receive_assistance_list("other_city", "L-5", rows(), C712, by=staff(app, "OFF712"))
    with pytest.raises(NotAuthorised):  # a district official, not for another district
        app.receive_assistance_list("other_city", "L-5", rows(), OTHER_DISTRICT,
                                    by=staff(app, "OFFD"))
    with pytest.raises(InvalidInput, match="city or a district"):
        app.receive_assistance_list("other_city", "L-5", rows(), STREET, by=OP)
    lid = app.receive_assistance_list("other_city", "L-5", rows(), DISTRICT,
                                      by=staff(app, "OFFD")).list_id
    a = app.assistance_list(lid)
    assert a.items[4].place == DISTRICT  # 江汉区 lies outside the scope: left at the district
    with pytest.raises(NotAuthorised):
        app.report_assistance_item(lid, 1, "found", measure="居家", by=staff(app, "GW713"))
    with pytest.raises(NotAuthorised):
        app.report_assistance_item(lid, 1, "found", measure="居家", by=System.AUTOMATION)
    app.report_assistance_item(lid, 3, "found", measure="居家", by=staff(app, "GW713"))


def test_a_retried_receipt_with_its_client_id_is_applied_once(city: GridcoreApp) -> None:
    app = city
    first = app.receive_assistance_list("other_city", "L-6", rows(), CITY, by=OP,
                                        client_id="importer/L-6")
    again = app.receive_assistance_list("other_city", "L-6", rows(), CITY, by=OP,
                                        client_id="importer/L-6")
    assert (again.list_id, again.items, again.matched) == (first.list_id, 6, 2)
