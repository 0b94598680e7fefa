"""Free text carries no phone or ID number: it is kept after a resident's erasure, so every
free-text field that is not sealed refuses one, with a clear error and nothing written."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from gridcore.alerts import Outcome as AlertOutcome
from gridcore.alerts import check_resolution
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.delivery import check_reason
from gridcore.errors import InvalidInput
from gridcore.referral import ReferralKind
from gridcore.status import Health, Measure, Tag, TagKind
from gridcore.sweep import Outcome, Visitor
from gridcore.sweep_commands import VisitRow
from gridcore.text import free_text, personal_number
from tests.scenario import COMMUNITY, ZONES, given_community

PHONE_NOTE = "打电话13900000002给他女儿"
ID_NOTE = "身份证420102198001011234已核对"


@pytest.mark.parametrize("text", [
    "13900000002", "+86 139-0000-0002", "139 0000 0002", "电话１３９００００００02",
    "座机027-82345678", "(027)82345678", "0532 88888888",
])
def test_phone_numbers_are_found_however_they_are_typed(text):
    assert personal_number(text) == "phone"


@pytest.mark.parametrize("text", [
    "420102198001011234", "42010219800101123x", "身份证 11010519491231002X 已核对",
    "老身份证420102800101123", "4201021980010112345678",
])
def test_id_numbers_are_found_in_the_new_and_the_old_form(text):
    assert personal_number(text) == "ID"


@pytest.mark.parametrize("text", [
    "发热 38.2 度，已通知社区医生", "2020-02-17 10:30 上门", "712-01-1-101 无人应答",
    "420102014712-01 片区", "送了3箱菜 3 boxes", "云南来的亲戚，2人", "",
])
def test_ordinary_notes_with_dates_codes_and_counts_pass(text):
    assert personal_number(text) is None
    assert free_text(text, "note") == text.strip()


def test_the_error_names_the_field_and_where_the_number_belongs_without_repeating_it():
    with pytest.raises(InvalidInput) as phone:
        free_text(PHONE_NOTE, "visit note")
    assert "The visit note contains a phone number" in str(phone.value)
    assert "phone field" in phone.value.remedy and "13900000002" not in str(phone.value)
    with pytest.raises(InvalidInput) as id_number:
        free_text(ID_NOTE, "reason")
    assert "ID number" in str(id_number.value) and "420102" not in str(id_number.value)


def test_length_and_presence_are_checked_too():
    with pytest.raises(InvalidInput, match="missing"):
        free_text("  ", "reason", required=True)
    with pytest.raises(InvalidInput, match="characters long"):
        free_text("x" * 501, "note")


@pytest.mark.parametrize("text", [PHONE_NOTE, ID_NOTE])
def test_pure_rules_of_deliveries_and_alerts_refuse_personal_numbers(text):
    with pytest.raises(InvalidInput, match="contains"):
        check_reason(text)
    with pytest.raises(InvalidInput, match="contains"):
        check_resolution(AlertOutcome.BREACH_CONFIRMED, text)


def _commands(app: GridcoreApp, text: str) -> dict[str, Callable[[], object]]:
    c = given_community(app)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    cid = app.campaign_of(COMMUNITY, 1).id
    hid = c.households[0]
    rid, other = list(app.household(hid).residents)
    app.tag_resident(hid, other, Tag(kind=TagKind.CLOSE_CONTACT), c.worker)
    return {
        "visit note": lambda: app.record_visit(cid, hid, Method.DOOR, by=c.worker, note=text),
        "visitor's note": lambda: app.record_visit(
            cid, hid, Method.DOOR, by=c.worker, visitors=[Visitor(origin="云南", note=text)]),
        "batch visit note": lambda: app.record_visits(cid, [VisitRow(
            household_id=hid, method=Method.PHONE, outcome=Outcome.SEEN, by=c.worker,
            details={"note": text})], by=System.OPERATOR),
        "erasure reason": lambda: app.erase_resident(hid, rid, text, by=System.OPERATOR),
        "removal reason": lambda: app.remove_member(hid, rid, text, by=System.OPERATOR),
        "availability reason": lambda: app.set_staff_availability(c.worker, False, text,
                                                                  by=System.OPERATOR),
        "reassignment reason": lambda: app.reassign_work_of(c.worker, COMMUNITY, 1, text,
                                                            by=System.OPERATOR),
        "tag note": lambda: app.tag_resident(
            hid, rid, Tag(kind=TagKind.SECONDARY_CONTACT, note=text), c.worker),
        "untag reason": lambda: app.untag_resident(hid, other, TagKind.CLOSE_CONTACT,
                                                   c.doctor, text),
        "health reason": lambda: app.change_health(hid, rid, Health.SYMPTOMATIC, c.worker, text),
        "measure reason": lambda: app.change_measure(hid, rid, Measure.HOME_QUARANTINE,
                                                     c.worker, text),
        "referral reason": lambda: app.open_referral(hid, rid, ReferralKind.FEVER_CLINIC, text,
                                                     by=c.worker),
        "retirement reason": lambda: app.retire_node(ZONES[1], text, by=System.OPERATOR),
    }


@pytest.mark.parametrize("text", [PHONE_NOTE, ID_NOTE])
def test_every_free_text_command_refuses_a_personal_number_and_writes_nothing(app, text):
    commands = _commands(app, text)
    for field, run in commands.items():
        written = app.recorder.max_notification_id()
        with pytest.raises(InvalidInput, match=r"contains (a phone|an ID) number") as e:
            run()
        assert app.recorder.max_notification_id() == written, field
        assert "13900000002" not in str(e.value) and "420102198" not in str(e.value), field


def test_the_same_commands_pass_with_a_plain_note(app):
    commands = _commands(app, "上门核实 checked at the door")
    for field in ("visit note", "tag note", "health reason", "availability reason"):
        written = app.recorder.max_notification_id()
        commands[field]()
        assert app.recorder.max_notification_id() > written, field
