"""Residents' requests (群众诉求): filing through a channel, the lifecycle (assign, resolve with a
reply, rate, reopen), escalation up the four levels by ``tick``, public statistics without
personal data, and bad inputs on every store (a typed error with a remedy, nothing written)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from hypothesis import given
from hypothesis import strategies as st

from adapters.settings import memory_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import (
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from gridcore.grid import Level
from gridcore.household import resident_id
from gridcore.policy import DEFAULT_POLICY, Policy
from gridcore.request_commands import DIRECTORY_ID, Filing, RequestDesk, desk_id
from gridcore.requests import (
    REFERENCE_BYTES,
    Category,
    Channel,
    Grade,
    RequestStatus,
    ResidentRequest,
    check_rating,
    check_text,
    deadline_for,
    is_due,
    new_reference,
    normalize_reference,
    on_time,
    request_id,
    summarize,
)
from gridcore.staff import Role
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, Community, given_community

H = timedelta(hours=1)
RID = resident_id("712-1-0", 1)
PHONE, ADDRESS, TEXT = "13598765432", "幸福路88号3栋1101", "家里缺胰岛素 need insulin"
OTHER_COMMUNITY = f"{STREET}713"
REFERENCE = re.compile(r"[0-9A-HJKMNP-TV-Z]{5}(-[0-9A-HJKMNP-TV-Z]{5}){3}")


@pytest.fixture
def mem(clock: Clock) -> Iterator[GridcoreApp]:
    app = GridcoreApp(memory_env(), clock=clock)
    yield app
    app.close()


def given_levels(app: GridcoreApp, households_per_zone: int = 1) -> Community:
    """The 712 community, with one official at each level above it."""
    c = given_community(app, households_per_zone)
    for no, code in (("ST1", STREET), ("DI1", DISTRICT), ("CI1", CITY)):
        app.enrol_staff(no, f"干部{no}", Role.OFFICIAL, code, 0, by=System.OPERATOR)
    return c


def staff(app: GridcoreApp, no: str) -> UUID:
    return app.staff_by_no(no).id


def file_from(app: GridcoreApp, c: Community, grade: Grade = Grade.URGENT,
              category: Category = Category.SUPPLIES, **kw: Any) -> Filing:
    return app.file_request(Channel.ONLINE, category, grade, TEXT, household=c.households[0],
                            resident=RID, **{"by": System.PUBLIC, **kw})


def file_anonymous(app: GridcoreApp, grid: str = COMMUNITY, grade: Grade = Grade.URGENT,
                   **kw: Any) -> Filing:
    return app.file_request(Channel.HOTLINE, Category.MEDICAL, grade, TEXT, phone=PHONE,
                            address=ADDRESS, grid=grid, **{"by": System.PUBLIC, **kw})


def kinds(app: GridcoreApp, aid: UUID) -> list[str]:
    return [type(e).__name__ for e in app.events.get(aid)]


def last_id(app: GridcoreApp) -> int:
    return app.recorder.max_notification_id() or 0


# ---- the rules --------------------------------------------------------------------------------

@given(st.binary(min_size=REFERENCE_BYTES, max_size=REFERENCE_BYTES),
       st.binary(min_size=REFERENCE_BYTES, max_size=REFERENCE_BYTES))
def test_a_reference_is_twenty_unambiguous_characters_of_its_random_bits_read_back_however_written(
        random, other):
    ref = new_reference(random)
    assert REFERENCE.fullmatch(ref) and new_reference(random) == ref
    sloppy = ref.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert normalize_reference(sloppy) == ref
    assert request_id(sloppy) == request_id(ref)
    # every one of the first 100 bits shows in the reference (none is lost or fixed)
    first_100 = int.from_bytes(random, "big") >> 4
    assert (new_reference(other) == ref) == (int.from_bytes(other, "big") >> 4 == first_100)


def test_a_reference_needs_its_thirteen_random_bytes():
    with pytest.raises(ValueError, match="13 random bytes"):
        new_reference(b"\x00" * 12)


@pytest.mark.parametrize("raw", ["", "ABCDE-FGHJK-MNPQR-STVW", "ABCDE-FGHJK-MNPQR-STVWXY",
                                 "ABCDE-FGHJK-MNPQR-STVWU", "ABCDE-FGHJK-MNPQR-STV#X",
                                 "GA7M-ZXRG-1HCN"])  # the last: an old, derivable reference
def test_a_malformed_reference_is_invalid_input_and_not_repeated(raw):
    with pytest.raises(InvalidInput) as info:
        normalize_reference(raw)
    assert info.value.remedy and (not raw or raw not in str(info.value))


@pytest.mark.parametrize(("text", "what"), [
    ("缺药\x07请回电", "control character (U+0007)"),
    ("缺药\x1b[2J", "control character (U+001B)"),
    ("缺药\x85下一行", "control character (U+0085)"),
    ("行一\u2028行二", "control character (U+2028)"),
    ("退款\u202e0001\u202c元", "bidirectional formatting mark (U+202E)"),
    ("\u2066地址\u2069 1栋", "bidirectional formatting mark (U+2066)"),
    ("地址\u200f1栋", "bidirectional formatting mark (U+200F)"),
    ("\u061c1栋101", "bidirectional formatting mark (U+061C)"),
])
def test_text_with_control_characters_or_bidirectional_marks_is_refused(text, what):
    with pytest.raises(InvalidInput) as info:
        check_text(text, "request")
    assert what in info.value.problem and "U+202A-U+202E" in info.value.remedy


def test_newlines_and_tabs_are_text_and_a_crlf_is_kept_as_a_newline():
    assert check_text("第一行\r\n第二行\t(急)\n", "request") == "第一行\n第二行\t(急)"
    assert check_text("emoji 👨‍👩‍👧 和 零宽连接符", "request")  # U+200D joins, reorders nothing


def test_deadlines_follow_the_policy_by_grade_and_fall_back_to_the_default():
    t = datetime(2020, 2, 17, 8)
    assert deadline_for(Grade.URGENT, t, DEFAULT_POLICY) == t + 2 * H
    assert deadline_for(Grade.NORMAL, t, DEFAULT_POLICY) == t + 24 * H
    quick = Policy(request_deadline_hours={"urgent": 1})
    assert deadline_for(Grade.URGENT, t, quick) == t + H
    assert deadline_for(Grade.NORMAL, t, quick) == t + 24 * H


def test_due_and_on_time_boundaries():
    t = datetime(2020, 2, 17, 8)
    assert is_due(RequestStatus.OPEN, t, t) and is_due(RequestStatus.IN_PROGRESS, t, t + H)
    assert not is_due(RequestStatus.OPEN, t, t - timedelta(seconds=1))
    assert not is_due(RequestStatus.OPEN, None, t)
    assert not is_due(RequestStatus.RESOLVED, t, t + H)
    assert not is_due(RequestStatus.CLOSED, t, t + H)
    assert on_time(0, t, t) and not on_time(0, t, t + timedelta(seconds=1))
    assert not on_time(1, t, t - H) and not on_time(0, None, t)


@pytest.mark.parametrize("rating", [0, 6, -1, True, 2.5, "5"])
def test_a_rating_outside_one_to_five_is_invalid(rating):
    with pytest.raises(InvalidInput):
        check_rating(rating)


# ---- filing -----------------------------------------------------------------------------------

def test_a_household_request_is_owned_by_its_community_and_followed_by_reference(mem, clock):
    c = given_levels(mem)
    f = file_from(mem, c, Grade.URGENT, Category.MEDICAL)
    assert isinstance(f.notification_id, int) and f.notification_id == last_id(mem)
    assert REFERENCE.fullmatch(f.reference)
    r = mem.request(f.request_id)
    assert (r.community, r.owner_code, r.level, r.status) == (
        COMMUNITY, COMMUNITY, Level.COMMUNITY, RequestStatus.OPEN)
    assert (r.household_id, r.resident_id, r.assignee) == (c.households[0], RID, None)
    assert r.number == f"{COMMUNITY}-000001" and r.id == request_id(f.reference)
    assert not hasattr(r, "reference")  # the request keeps only the hash (its id)
    assert r.deadline == clock.now + 2 * H
    assert (r.details.text, r.details.phone, r.details.address) == (TEXT, None, None)
    sloppy = f.reference.lower().replace("-", "").replace("0", "o").replace("1", "l")
    assert mem.request_by_reference(sloppy).id == f.request_id
    # the community desk lists it; so does every level above
    for code in (COMMUNITY, STREET, DISTRICT, CITY):
        assert [x.id for x in mem.open_requests(code)] == [f.request_id]
    g = file_from(mem, c, Grade.NORMAL)
    assert mem.request(g.request_id).number == f"{COMMUNITY}-000002"
    assert g.reference != f.reference and g.request_id != f.request_id
    assert mem.request(g.request_id).deadline == clock.now + 24 * H
    assert mem.repository.get(desk_id(COMMUNITY)).requests == [f.request_id, g.request_id]
    # people see Chinese labels
    assert (r.channel.label, r.category.label, r.grade.label, r.status.label) == (
        "网上平台 online platform", "就医 medical", "紧急 urgent", "待办理 open")
    assert r.label.startswith("群众诉求") and r.number in r.label
    assert f.reference not in r.label + repr(r)


def test_an_anonymous_request_keeps_its_contact_sealed_and_masked(make_app, clock):
    app = make_app()
    given_community(app, households_per_zone=1)
    f = file_anonymous(app, grid=ZONES[1])  # a micro-grid: its community owns the request
    r = app.request(f.request_id)
    assert r.community == COMMUNITY and r.household_id is None
    assert r.details.phone.reveal() == PHONE and str(r.details.phone) == "135****5432"
    assert PHONE not in repr(r.details) and r.details.address == ADDRESS
    for stored in app.recorder.select_events(f.request_id):
        raw = stored.state.decode("utf-8")
        assert PHONE not in raw and ADDRESS not in raw and TEXT not in raw
        assert '"sealed"' in raw
    second = make_app()
    again = second.request(f.request_id)
    assert again.details == r.details and again.deadline == clock.now + 2 * H


def test_a_filing_retried_with_its_client_id_returns_the_first_filing(make_app):
    app = make_app()
    given_community(app, households_per_zone=1)
    first = file_anonymous(app, client_id="hotline-7/0001")
    written = last_id(app)
    again = make_app().request_by_reference(first.reference)
    assert again.client_id == "hotline-7/0001"
    # the receipt kept under the client id takes nothing from the request's sealed details
    assert (again.details.text, again.details.phone.reveal()) == (TEXT, PHONE)
    retried = file_anonymous(make_app(), client_id="hotline-7/0001")
    assert (retried.request_id, retried.reference) == (first.request_id, first.reference)
    assert last_id(app) == written
    assert app.repository.get(desk_id(COMMUNITY)).requests == [first.request_id]
    other = file_anonymous(app, client_id="hotline-7/0002")
    assert other.request_id != first.request_id and other.reference != first.reference
    with pytest.raises(InvalidInput, match="already used"):
        app.rate_request(first.reference, 5, client_id="hotline-7/0001", by=System.PUBLIC)


def test_another_filer_presenting_a_used_client_id_is_refused_and_learns_nothing(make_app):
    """The issue's attack: filing with another person's client id returned their reference.
    Only the same filer repeating the same filing gets it back; anyone else is refused with
    words that carry nothing of the first filing."""
    app = make_app()
    c = given_community(app, households_per_zone=1)
    first = file_anonymous(app, client_id="resident-phone:1")
    written = last_id(app)
    attempts = {
        "another phone": dict(phone="13911112222"),
        "another text": dict(text="别的事情 something else"),
        "another address": dict(address="幸福路1号"),
        "another grid": dict(grid=ZONES[1]),
        "a household": dict(household=c.households[0], phone=None, address=None, grid=None),
    }
    for name, change in attempts.items():
        args = {"channel": Channel.HOTLINE, "category": Category.MEDICAL,
                "grade": Grade.URGENT, "text": TEXT, "phone": PHONE, "address": ADDRESS,
                "grid": COMMUNITY, **change}
        with pytest.raises(InvalidInput, match="already used for another filing") as info:
            make_app().file_request(**args, client_id="resident-phone:1", by=System.PUBLIC)
        said = str(info.value) + info.value.remedy
        assert first.reference not in said and str(first.request_id) not in said, name
        assert PHONE not in said and ADDRESS not in said and TEXT not in said, name
        assert last_id(app) == written, name
    # a staff member filing for the household under some client id, and a colleague
    # presenting the same id for the same household: refused too
    mine = file_from(app, c, by=c.worker, client_id="hotline/42")
    assert file_from(make_app(), c, by=c.worker, client_id="hotline/42") == Filing(
        mine.request_id, mine.reference, last_id(app))
    with pytest.raises(InvalidInput, match="already used"):
        file_from(make_app(), c, by=c.volunteer, client_id="hotline/42")


def test_references_are_drawn_from_the_applications_random_source(mem):
    """Nothing about a request (its number, community, time or client id) goes into its
    reference: the same filings under another random source get other references."""
    given_community(mem, households_per_zone=1)
    refs = [file_anonymous(mem, client_id=f"same-{n}").reference for n in range(40)]
    assert len(set(refs)) == 40
    # no character position is fixed across them (sequential or derived ids would be)
    for position in range(len(refs[0])):
        if refs[0][position] != "-":
            assert len({r[position] for r in refs}) > 1, position
    drawn = iter([bytes([n]) * REFERENCE_BYTES for n in range(1, 4)])
    mem.reference_bytes = lambda size: next(drawn)
    f = file_anonymous(mem)
    assert f.reference == new_reference(bytes([1]) * REFERENCE_BYTES)
    assert f.request_id == request_id(f.reference)
    assert mem.request(f.request_id).number == f"{COMMUNITY}-000041"


def test_the_store_holds_no_reference_in_plain_and_rating_needs_the_reference(make_app):
    app = make_app()
    c = given_levels(app)
    f = file_anonymous(app, client_id="device-9/1")
    g = file_from(app, c)
    compact = {f.reference, f.reference.replace("-", ""), g.reference,
               g.reference.replace("-", "")}
    for stored in app.recorder.select_notifications(start=1, limit=100_000):
        raw = stored.state.decode("utf-8")
        assert not any(ref in raw for ref in compact), stored.topic
    for x in (f, g):
        app.resolve_request(x.request_id, c.worker, "已处理 handled")
    before = last_id(app)
    for attempt in (lambda: app.rate_request(g.request_id, 5, by=System.PUBLIC),
                    lambda: app.rate_request(str(g.request_id), 5, by=System.PUBLIC),
                    lambda: app.reopen_request(g.request_id, "不满意 unhappy", by=System.PUBLIC),
                    lambda: app.rate_request(new_reference(b"\x07" * REFERENCE_BYTES), 5,
                                             by=System.PUBLIC)):
        with pytest.raises((InvalidInput, NotFound)) as info:
            attempt()
        assert info.value.remedy and last_id(app) == before
    app.rate_request(g.reference.lower(), 4, by=System.PUBLIC)
    assert app.request(g.request_id).rating == 4


def test_a_second_application_replays_requests_desks_and_directory_identically(make_app, clock):
    app = make_app()
    c = given_levels(app)
    f = file_from(app, c)
    g = file_anonymous(app, grade=Grade.NORMAL)
    app.assign_request(f.request_id, c.worker, by=System.OPERATOR)
    clock.advance(hours=2)
    assert app.tick_requests(clock.now) == 1
    app.resolve_request(f.request_id, staff(app, "ST1"), "街道已协调 the street arranged it")
    app.rate_request(f.reference, 1, by=System.PUBLIC)
    app.reopen_request(f.reference, "还是没有 still nothing", by=System.PUBLIC)
    app.classify_request(g.reference, category=Category.QUARANTINE, by=System.OPERATOR)
    second = make_app()
    for aid in (f.request_id, g.request_id, desk_id(COMMUNITY), DIRECTORY_ID):
        live, again = app.repository.get(aid), second.repository.get(aid)
        assert {k: v for k, v in vars(again).items() if k != "_pending"} == {
            k: v for k, v in vars(live).items() if k != "_pending"}, aid
    r = second.request_by_reference(f.reference)
    assert (r.owner_code, r.status, r.ratings) == (STREET, RequestStatus.OPEN, [1])
    assert r.reopenings[-1].text == "还是没有 still nothing"
    assert second.request(g.request_id).details.phone.reveal() == PHONE
    assert {x.id for x in second.open_requests(CITY)} == {f.request_id, g.request_id}


# ---- the lifecycle ----------------------------------------------------------------------------

def test_assign_resolve_rate_reopen_and_close_again(mem, clock):
    c = given_levels(mem)
    f = file_from(mem, c)
    t0 = clock.now
    clock.advance(minutes=30)
    mem.assign_request(f.request_id, c.worker, by=System.OPERATOR)
    r = mem.request(f.request_id)
    assert (r.status, r.assignee) == (RequestStatus.IN_PROGRESS, c.worker)
    mem.assign_request(f.reference, c.volunteer,
                       by=System.OPERATOR)  # handed over within the community
    assert mem.request(f.request_id).assignee == c.volunteer

    clock.advance(minutes=30)
    mem.resolve_request(f.request_id, c.volunteer, "已送药上门 delivered to the door")
    r = mem.request(f.request_id)
    assert (r.status, r.resolved_by, r.on_time) == (RequestStatus.RESOLVED, c.volunteer, True)
    assert r.reply is not None and r.reply.text == "已送药上门 delivered to the door"
    assert mem.open_requests(COMMUNITY) == [] and r.rating is None

    mem.rate_request(f.reference, 2, by=System.PUBLIC)
    r = mem.request(f.request_id)
    assert (r.status, r.rating, r.ratings) == (RequestStatus.CLOSED, 2, [2])

    clock.advance(hours=1)
    mem.reopen_request(f.reference, "药不对 the wrong medicine", by=System.PUBLIC)
    r = mem.request(f.request_id)
    assert (r.status, r.assignee, r.level) == (RequestStatus.IN_PROGRESS, c.volunteer,
                                               Level.COMMUNITY)
    assert r.deadline == clock.now + 2 * H and r.rating is None and r.reply is None
    assert r.reopenings[-1].text == "药不对 the wrong medicine"
    assert [x.id for x in mem.open_requests(COMMUNITY)] == [f.request_id]

    clock.advance(hours=3)  # answered late this round (no tick ran in between)
    mem.resolve_request(f.request_id, c.worker, "已更换 replaced")
    assert mem.request(f.request_id).on_time is False
    mem.rate_request(f.reference, 5, by=System.PUBLIC)
    r = mem.request(f.request_id)
    assert (r.status, r.rating, r.ratings) == (RequestStatus.CLOSED, 5, [2, 5])
    assert r.created_on == t0
    assert kinds(mem, f.request_id) == ["Filed", "Assigned", "Assigned", "Resolved", "Rated",
                                        "Reopened", "Resolved", "Rated"]
    assert [type(e).__name__ for e in mem.events.get(desk_id(COMMUNITY))] == [
        "Opened", "Filed", "Answered", "Reopened", "Answered"]


def test_regrading_moves_the_deadline_counted_from_when_the_level_took_over(mem, clock):
    c = given_levels(mem)
    t0 = clock.now
    f = file_from(mem, c, Grade.NORMAL, Category.OTHER)
    clock.advance(hours=1)
    mem.classify_request(f.request_id, category=Category.COMPLAINT, by=System.OPERATOR)
    r = mem.request(f.request_id)
    assert (r.category, r.grade, r.deadline) == (Category.COMPLAINT, Grade.NORMAL, t0 + 24 * H)
    mem.classify_request(f.reference, grade="urgent", by=System.OPERATOR)
    assert mem.request(f.request_id).deadline == t0 + 2 * H
    clock.advance(hours=1)
    assert mem.tick_requests(clock.now) == 1
    assert mem.request(f.request_id).owner_code == STREET


# ---- escalation -------------------------------------------------------------------------------

def test_an_overdue_request_climbs_to_the_city_once_per_deadline(mem, clock):
    c = given_levels(mem)
    f = file_from(mem, c)
    mem.assign_request(f.request_id, c.worker, by=System.OPERATOR)
    t0 = clock.now
    clock.advance(hours=2, seconds=-1)
    assert mem.tick_requests(clock.now) == 0
    clock.advance(seconds=1)  # the deadline itself: due
    assert mem.tick_requests(clock.now) == 1
    assert mem.tick_requests(clock.now) == 0 and mem.tick()["requests"] == 0
    r = mem.request(f.request_id)
    assert (r.owner_code, r.level, r.status, r.assignee) == (
        STREET, Level.STREET, RequestStatus.OPEN, None)
    assert r.deadline == clock.now + 2 * H
    escalated = list(mem.events.get(f.request_id))[-1]
    assert isinstance(escalated, ResidentRequest.Escalated)
    assert (escalated.from_code, escalated.to_code, escalated.missed_deadline) == (
        COMMUNITY, STREET, t0 + 2 * H)
    # an earlier time changes nothing
    assert mem.tick_requests(t0 + 3 * H) == 0
    for code, level in ((DISTRICT, Level.DISTRICT), (CITY, Level.CITY)):
        clock.advance(hours=2)
        assert mem.tick_requests(clock.now) == 1 and mem.tick_requests(clock.now) == 0
        assert (mem.request(f.request_id).owner_code, mem.request(f.request_id).level) == (
            code, level)
    clock.advance(hours=2)
    assert mem.tick_requests(clock.now) == 1  # missed at the top: recorded once
    assert mem.request(f.request_id).deadline is None
    for _ in range(3):
        clock.advance(hours=30)
        assert mem.tick_requests(clock.now) == 0
    r = mem.request(f.request_id)
    assert [code for _, code in r.owners] == [COMMUNITY, STREET, DISTRICT, CITY]
    assert (r.escalations, r.missed) == (3, 4)
    assert kinds(mem, f.request_id) == ["Filed", "Assigned", "Escalated", "Escalated",
                                        "Escalated", "DeadlineMissed"]
    # the city acts; the answer is late
    mem.assign_request(f.request_id, staff(mem, "CI1"), by=System.OPERATOR)
    mem.resolve_request(f.request_id, staff(mem, "CI1"), "市里协调已解决 the city sorted it")
    assert mem.request(f.request_id).on_time is False


def test_only_the_staff_of_the_owning_level_or_below_act(mem, clock):
    c = given_levels(mem)
    f = file_from(mem, c)
    with pytest.raises(NotPermitted) as info:
        mem.assign_request(f.request_id, staff(mem, "ST1"), by=System.OPERATOR)
    assert info.value.remedy
    clock.advance(hours=2)
    mem.tick_requests(clock.now)
    mem.assign_request(f.request_id, staff(mem, "ST1"), by=System.OPERATOR)
    with pytest.raises(NotPermitted):
        mem.assign_request(f.request_id, staff(mem, "DI1"), by=System.OPERATOR)
    mem.assign_request(f.request_id, c.worker,
                       by=System.OPERATOR)  # a community worker still helps the street
    assert mem.request(f.request_id).assignee == c.worker


def test_tick_escalates_each_due_request_one_level_across_communities(mem, clock):
    c = given_levels(mem)
    mem.create_node(OTHER_COMMUNITY, "713社区", STREET, by=System.OPERATOR)
    mem.create_node(f"{OTHER_COMMUNITY}-01", "第1片区", OTHER_COMMUNITY, by=System.OPERATOR)
    urgent = [file_from(mem, c).request_id, file_from(mem, c).request_id,
              file_anonymous(mem, grid=f"{OTHER_COMMUNITY}-01").request_id]
    normal = file_from(mem, c, Grade.NORMAL).request_id
    answered = file_from(mem, c)
    mem.resolve_request(answered.request_id, c.worker, "已答复 answered")
    clock.advance(hours=2)
    assert mem.tick_requests(clock.now) == 3
    assert {mem.request(u).owner_code for u in urgent} == {STREET}
    assert mem.request(normal).owner_code == COMMUNITY
    assert mem.request(answered.request_id).owner_code == COMMUNITY
    assert [x.id for x in mem.open_requests(OTHER_COMMUNITY)] == [urgent[2]]
    clock.advance(hours=22)  # late: each due request moves one level per deadline it missed
    assert mem.tick_requests(clock.now) == 4
    assert {mem.request(u).owner_code for u in urgent} == {CITY}  # +4h, +6h, missed at +8h
    assert {mem.request(u).deadline for u in urgent} == {None}
    assert mem.request(normal).owner_code == STREET
    assert mem.repository.get(DIRECTORY_ID).communities == [COMMUNITY, OTHER_COMMUNITY]


def test_deadlines_use_the_policy_in_force(mem, clock):
    c = given_levels(mem)
    t0 = clock.now
    quick = DEFAULT_POLICY.with_changes(request_deadline_hours={"urgent": 1, "normal": 8})
    mem.adopt_policy(quick, t0 + H, "紧急诉求1小时办结", by=System.OPERATOR)
    before = file_from(mem, c).request_id
    clock.advance(hours=1)
    after = file_from(mem, c).request_id
    assert mem.request(before).deadline == t0 + 2 * H
    assert mem.request(after).deadline == t0 + 2 * H
    clock.advance(hours=1)
    assert mem.tick_requests(clock.now) == 2
    assert mem.request(before).deadline == clock.now + H  # the new level's deadline: policy now


# ---- supervision ------------------------------------------------------------------------------

def test_statistics_count_by_category_grade_status_and_level_without_personal_data(mem, clock):
    c = given_levels(mem)
    mem.create_node(OTHER_COMMUNITY, "713社区", STREET, by=System.OPERATOR)
    a = file_from(mem, c, Grade.URGENT, Category.SUPPLIES)
    b = file_from(mem, c, Grade.NORMAL, Category.MEDICAL)
    d = file_anonymous(mem, grid=OTHER_COMMUNITY, grade=Grade.NORMAL)
    e = file_from(mem, c, Grade.NORMAL, Category.COMPLAINT)
    mem.resolve_request(b.request_id, c.worker, "已联系医生 doctor called")
    mem.rate_request(b.reference, 5, by=System.PUBLIC)
    mem.resolve_request(e.request_id, c.worker, "已处理 handled")
    mem.rate_request(e.reference, 2, by=System.PUBLIC)
    mem.reopen_request(e.reference, "没解决 not solved", by=System.PUBLIC)
    clock.advance(hours=2)
    mem.tick_requests(clock.now)  # a escalates
    mem.resolve_request(a.request_id, c.worker, "已送达 delivered")  # late

    stats = mem.request_statistics(STREET)
    assert stats == summarize(mem.request(x.request_id) for x in (a, b, d, e))
    assert stats.total == 4
    assert stats.by_category == {Category.SUPPLIES: 1, Category.MEDICAL: 2,
                                 Category.QUARANTINE: 0, Category.COMPLAINT: 1,
                                 Category.INFORMATION: 0, Category.OTHER: 0}
    assert stats.by_grade == {Grade.URGENT: 1, Grade.NORMAL: 3}
    assert stats.by_status == {RequestStatus.OPEN: 2, RequestStatus.IN_PROGRESS: 0,
                               RequestStatus.RESOLVED: 1, RequestStatus.CLOSED: 1}
    assert stats.by_level == {"city": 0, "district": 0, "street": 1, "community": 3}
    assert (stats.escalated, stats.resolved, stats.resolved_on_time) == (1, 2, 1)
    assert stats.on_time_share == 0.5
    assert (stats.ratings, stats.average_rating) == (2, 3.5)
    assert mem.request_statistics(OTHER_COMMUNITY).total == 1
    assert mem.request_statistics(CITY) == stats
    assert mem.request_statistics(COMMUNITY).total == 3

    published = stats.model_dump_json() + repr(stats) + str(stats.model_dump())
    secrets = [PHONE, PHONE[-4:], ADDRESS, TEXT, "张三", "李四", "王芳", "已联系医生",
               "没解决", COMMUNITY, a.reference, str(a.request_id), str(c.households[0])]
    for secret in secrets:
        assert secret not in published, secret
    assert set(type(stats).model_fields) == {
        "total", "by_category", "by_grade", "by_status", "by_level", "escalated", "resolved",
        "resolved_on_time", "on_time_share", "ratings", "average_rating"}


def test_statistics_of_a_scope_without_requests_are_zero(mem):
    given_levels(mem)
    stats = mem.request_statistics(CITY)
    assert stats.total == 0 and stats.average_rating is None and stats.on_time_share is None
    assert set(stats.by_status.values()) == {0}
    assert mem.open_requests(COMMUNITY) == []


# ---- bad inputs, on every store ---------------------------------------------------------------

Attempt = Callable[[], Any]


def bad_inputs(app: GridcoreApp, c: Community, refs: dict[str, Filing]
               ) -> list[tuple[str, type[GridcoreError], Attempt]]:
    h0, opened, answered, closed = c.households[0], refs["open"], refs["answered"], refs["closed"]
    street = staff(app, "ST1")

    def file(**kw: Any) -> Attempt:
        args = {"channel": "online", "category": "supplies", "grade": "urgent", "text": TEXT,
                **kw}
        return lambda: app.file_request(**args, by=System.PUBLIC)

    return [
        ("unknown household", NotFound, file(household=uuid4())),
        ("resident not of the household", NotFound,
         file(household=h0, resident=resident_id("712-2-0", 1))),
        ("resident without household", InvalidInput, file(resident=RID)),
        ("household and anonymous contact", InvalidInput,
         file(household=h0, phone=PHONE)),
        ("anonymous without address", InvalidInput, file(phone=PHONE, grid=COMMUNITY)),
        ("malformed phone", InvalidInput, file(phone="12345", address=ADDRESS, grid=COMMUNITY)),
        ("unknown grid", NotFound, file(phone=PHONE, address=ADDRESS, grid="9999")),
        ("grid above a community", InvalidInput,
         file(phone=PHONE, address=ADDRESS, grid=STREET)),
        ("unknown channel", InvalidInput, file(household=h0, channel="fax")),
        ("unknown category", InvalidInput, file(household=h0, category="food")),
        ("unknown grade", InvalidInput, file(household=h0, grade="critical")),
        ("empty request", InvalidInput, file(household=h0, text="   ")),
        ("rate by an unknown request id", InvalidInput, lambda: app.rate_request(uuid4(), 5,
                                                                                 by=System.PUBLIC)),
        ("rate by the request's id", InvalidInput,
         lambda: app.rate_request(answered.request_id, 5, by=System.PUBLIC)),
        ("reopen by the request's id", InvalidInput,
         lambda: app.reopen_request(closed.request_id, "不满意 unhappy", by=System.PUBLIC)),
        ("unknown reference", NotFound,
         lambda: app.rate_request("00000-00000-00000-00000", 5, by=System.PUBLIC)),
        ("an old, derivable reference", InvalidInput,
         lambda: app.rate_request("0000-0000-0000", 5, by=System.PUBLIC)),
        ("malformed reference", InvalidInput, lambda: app.rate_request("ABC", 5, by=System.PUBLIC)),
        ("control character in the request", InvalidInput,
         file(household=h0, text="缺药\x1b[31m急")),
        ("bidirectional override in the address", InvalidInput,
         file(phone=PHONE, address="幸福路\u202e88号", grid=COMMUNITY)),
        ("bidirectional isolate in a reply", InvalidInput,
         lambda: app.resolve_request(opened.request_id, c.worker, "已处理\u2067 handled")),
        ("control character in a reason to reopen", InvalidInput,
         lambda: app.reopen_request(closed.reference, "不满意\x08\x08\x08满意", by=System.PUBLIC)),
        ("reclassify to the same", InvalidInput,
         lambda: app.classify_request(opened.request_id, "supplies", "urgent", by=System.OPERATOR)),
        ("reclassify a closed request", ForbiddenTransition,
         lambda: app.classify_request(closed.request_id, grade="normal", by=System.OPERATOR)),
        ("assign unknown staff", NotFound, lambda: app.assign_request(opened.request_id,
                                                                      uuid4(), by=System.OPERATOR)),
        ("assign staff of a level above the owner", NotPermitted,
         lambda: app.assign_request(opened.request_id, street, by=System.OPERATOR)),
        ("assign an unavailable staff member", InvalidInput,
         lambda: app.assign_request(opened.request_id, c.doctor, by=System.OPERATOR)),
        ("assign an answered request", ForbiddenTransition,
         lambda: app.assign_request(answered.request_id, c.worker, by=System.OPERATOR)),
        ("resolve without a reply", InvalidInput,
         lambda: app.resolve_request(opened.request_id, c.worker, "  ")),
        ("resolve by staff above the owner", NotPermitted,
         lambda: app.resolve_request(opened.request_id, street, "已处理 handled")),
        ("resolve twice", ForbiddenTransition,
         lambda: app.resolve_request(answered.request_id, c.worker, "再次 again")),
        ("rating of 0", InvalidInput, lambda: app.rate_request(answered.reference, 0,
                                                               by=System.PUBLIC)),
        ("rating of 6", InvalidInput, lambda: app.rate_request(answered.reference, 6,
                                                               by=System.PUBLIC)),
        ("rate an open request", ForbiddenTransition,
         lambda: app.rate_request(opened.reference, 5, by=System.PUBLIC)),
        ("rate a closed request again", ForbiddenTransition,
         lambda: app.rate_request(closed.reference, 5, by=System.PUBLIC)),
        ("reopen an unrated request", ForbiddenTransition,
         lambda: app.reopen_request(answered.reference, "不满意 unhappy", by=System.PUBLIC)),
        ("reopen an open request", ForbiddenTransition,
         lambda: app.reopen_request(opened.reference, "不满意 unhappy", by=System.PUBLIC)),
        ("reopen without a reason", InvalidInput, lambda: app.reopen_request(closed.reference,
                                                                             "", by=System.PUBLIC)),
        ("statistics of a micro-grid", InvalidInput, lambda: app.request_statistics(ZONES[0])),
    ]


def test_bad_inputs_are_typed_errors_that_write_nothing(make_app):
    app = make_app()
    c = given_levels(app)
    app.set_staff_availability(c.doctor, False, "隔离 in quarantine", by=System.OPERATOR)
    refs = {name: file_from(app, c) for name in ("open", "answered", "closed")}
    for name in ("answered", "closed"):
        app.resolve_request(refs[name].request_id, c.worker, "已处理 handled")
    app.rate_request(refs["closed"].reference, 3, by=System.PUBLIC)
    before = last_id(app)
    cases = bad_inputs(app, c, refs)
    for name, error, attempt in cases:
        with pytest.raises(GridcoreError) as info:
            attempt()
        e = info.value
        assert type(e) is error, f"{name}: expected {error.__name__}, got {e!r}"
        assert e.remedy.strip(), name
        assert PHONE not in str(e) and ADDRESS not in str(e), name
        assert last_id(app) == before, f"{name} wrote"
    second = make_app()
    assert last_id(second) == before
    assert second.request(refs["closed"].request_id).status is RequestStatus.CLOSED
    desk = second.repository.get(desk_id(COMMUNITY))
    assert isinstance(desk, RequestDesk) and desk.open == [refs["open"].request_id]
    assert len(cases) >= 37


# ---- before references were secret, and after an erasure --------------------------------------

def test_a_request_stored_with_an_old_derivable_reference_is_handled_but_not_followed_by_it(
        mem):
    """A v1 filing stored its reference (derived from its number) in plain: it is read without
    it (the upcast drops it), staff still handle the request, and the old reference, which
    anyone could work out, opens nothing."""
    fixture = Path(__file__).parents[1] / "fixtures" / "events" / (
        "gridcore.requests:ResidentRequest.Filed-v1.json")
    record = json.loads(fixture.read_text(encoding="utf-8"))
    old_reference = record["fields"]["reference"]
    mem.recorder.insert_events([StoredEvent(
        originator_id=UUID(record["originator_id"]), originator_version=1,
        topic=record["topic"], state=base64.b64decode(record["state"]))])
    r = mem.request(UUID(record["originator_id"]))
    assert (r.number, r.status, r.details.text) == (record["fields"]["number"],
                                                   RequestStatus.OPEN, "需要买药")
    assert not hasattr(r, "reference") and old_reference not in repr(r) + r.label
    with pytest.raises(InvalidInput, match="no longer accepted"):
        mem.request_by_reference(old_reference)
    with pytest.raises(InvalidInput):
        mem.rate_request(old_reference, 1, by=System.PUBLIC)


def test_after_the_filer_is_erased_a_retried_filing_gets_no_reference(make_app):
    app = make_app()
    c = given_community(app, households_per_zone=1)
    f = file_from(app, c, client_id="device-3/7")
    assert file_from(app, c, client_id="device-3/7").reference == f.reference
    app.erase_resident(c.households[0], RID, "期满 expired", by=System.OPERATOR)
    before = last_id(app)
    with pytest.raises(InvalidInput, match="already used") as info:
        file_from(make_app(), c, client_id="device-3/7")
    assert f.reference not in str(info.value) and last_id(app) == before
    # the request itself is still followed by whoever holds its reference
    assert app.request_by_reference(f.reference).details.erased
