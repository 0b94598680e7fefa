"""Contact tracing (流调与密接管理) through ``GridcoreApp`` on every store: each command, what
follows for residents of the register (tags and measures through the household's rules, with
who decided), promotion and release, the chain, and refusals that write nothing."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp, new_member
from gridcore.authority import NotAuthorised, System
from gridcore.errors import (
    DuplicateCode,
    ForbiddenTransition,
    GridcoreError,
    InvalidInput,
    NotPermitted,
)
from gridcore.household import Household
from gridcore.status import Health, Measure, TagKind
from gridcore.tracing import Case, CaseStatus, Generation, case_id
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, Community, given_community

ID_NUMBER = "420102198503174516"


@pytest.fixture
def c(app: GridcoreApp) -> Community:
    return given_community(app)


def resident(app: GridcoreApp, hid: UUID, n: int = 0):
    h = app.household(hid)
    return h, list(h.residents.values())[n]


def nothing_written(app: GridcoreApp, call, error: type[Exception] = GridcoreError) -> Exception:
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as info:
        call()
    assert app.recorder.max_notification_id() == before
    e = info.value
    if isinstance(e, GridcoreError):
        assert e.problem and e.remedy
    return e


def open_resident_case(app: GridcoreApp, c: Community, no: str = "WH-0001",
                       n: int = 0, **kw) -> Case:
    h, r = resident(app, c.households[n])
    app.open_case(no, COMMUNITY, "发热就诊", by=c.doctor, hid=h.id, rid=r.resident_id, **kw)
    return app.case_by_no(no)


def test_a_resident_close_contact_gets_the_tag_and_the_policys_measure_from_the_last_exposure(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    assert case.status is CaseStatus.SUSPECTED and case.opened_by == c.doctor
    h, r = resident(app, c.households[1])
    exposed = clock.now - timedelta(hours=30)
    rec = app.record_exposure(case.id, exposed, "gathering", "麻将馆", "face_to_face",
                              by=c.doctor, hid=h.id, rid=r.resident_id)
    assert rec.generation is Generation.CLOSE and rec.notification_id is not None
    after = app.household(h.id).residents[r.resident_id]
    assert TagKind.CLOSE_CONTACT in after.tags
    assert after.measure is Measure.CENTRALIZED_QUARANTINE
    assert after.measure_since == exposed  # counted from the last exposure
    contact = app.case(case.id).contact(rec.person_id)
    assert contact.until == exposed + timedelta(days=14)
    assert contact.decided_by == c.doctor and not contact.to_locate
    changed = [e for e in app.events.get(h.id) if isinstance(e, Household.MeasureChanged)]
    assert changed[-1].by == c.doctor and "WH-0001" in changed[-1].reason


def test_the_measure_follows_the_latest_exposure_not_the_latest_recorded(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    late, early = clock.now - timedelta(days=1), clock.now - timedelta(days=3)
    rec = app.record_exposure(case.id, late, "workplace", "公司会议室", "same_space",
                              by=c.doctor, name="赵六")
    app.record_exposure(case.id, early, "transport", "K123次列车", "same_space",
                        by=c.doctor, person_id=rec.person_id)
    contact = app.case(case.id).contact(rec.person_id)
    assert len(contact.exposures) == 2 and contact.until == late + timedelta(days=14)
    assert contact.to_locate and app.contacts_to_locate(case.id) == [contact]


def test_a_secondary_contact_gets_the_policys_lighter_measure_and_is_promoted_once(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    h1, close = resident(app, c.households[1])
    h2, second = resident(app, c.households[2], 1)
    t = clock.now - timedelta(hours=10)
    b = app.record_exposure(case.id, t, "household", "家中", "shared_living", by=c.doctor,
                            hid=h1.id, rid=close.resident_id).person_id
    s = app.record_exposure(case.id, t + timedelta(hours=2), "workplace", "办公室",
                            "face_to_face", by=c.doctor, via=b, hid=h2.id,
                            rid=second.resident_id)
    assert s.generation is Generation.SECONDARY
    r2 = app.household(h2.id).residents[second.resident_id]
    assert TagKind.SECONDARY_CONTACT in r2.tags and r2.measure is Measure.HOME_QUARANTINE
    by_gen = app.contacts_by_generation(case.id)
    assert [x.person_id for x in by_gen[Generation.CLOSE]] == [b]
    assert [x.person_id for x in by_gen[Generation.SECONDARY]] == [s.person_id]

    app.open_case("WH-0002", COMMUNITY, "密接转确诊", by=c.doctor, source_case=case.id,
                  source_person=b)
    child = app.case_by_no("WH-0002")
    assert child.index_resident_id == close.resident_id
    assert app.case(case.id).contact(b).became_case == child.id
    app.confirm_case(child.id, by=c.doctor, reason="核酸阳性")
    promoted = app.case(case.id).contact(s.person_id)
    assert promoted.kind is TagKind.CLOSE_CONTACT and promoted.promoted_by_case == child.id
    assert promoted.until == t + timedelta(hours=2) + timedelta(days=14)
    r2 = app.household(h2.id).residents[second.resident_id]
    assert TagKind.CLOSE_CONTACT in r2.tags and TagKind.SECONDARY_CONTACT not in r2.tags
    assert r2.measure is Measure.CENTRALIZED_QUARANTINE
    assert app.household(h1.id).residents[close.resident_id].health is Health.CONFIRMED
    # idempotent: confirming again writes nothing
    before = app.recorder.max_notification_id()
    assert app.confirm_case(child.id, by=c.doctor) is None
    assert app.recorder.max_notification_id() == before
    # the chain, up and down, by generation
    assert [(x.case_no, x.generation) for x in app.chain(child.id)] == [
        ("WH-0001", -1), ("WH-0002", 0)]
    assert [(x.case_no, x.generation) for x in app.chain(case.id)] == [
        ("WH-0001", 0), ("WH-0002", 1)]


def test_an_outside_person_is_matched_by_id_number_at_once(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    hid = c.households[3]
    no = app.household(hid).household_no
    app.add_member(hid, new_member(no, 3, "王五", None, ID_NUMBER, 1985), by=System.OPERATOR)
    rid = next(r for r in app.household(hid).residents.values() if r.identity.name == "王五")
    case = open_resident_case(app, c)
    rec = app.record_exposure(case.id, clock.now - timedelta(days=2), "gathering", "饭店",
                              "face_to_face", by=c.doctor, name="王五", id_number=ID_NUMBER)
    out = app.match_contact(case.id, rec.person_id, hid, rid.resident_id, by=c.official)
    assert out.applied
    after = app.household(hid).residents[rid.resident_id]
    assert TagKind.CLOSE_CONTACT in after.tags
    assert after.measure is Measure.CENTRALIZED_QUARANTINE
    assert app.contacts_to_locate(case.id) == []


def test_an_uncertain_match_is_proposed_until_a_person_confirms_it(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    h, r = resident(app, c.households[4])  # 张三, 13812341234
    rec = app.record_exposure(case.id, clock.now - timedelta(days=1), "transport", "公交车",
                              "same_space", by=c.doctor, name="张叁", phone="13812341234")
    out = app.match_contact(case.id, rec.person_id, h.id, r.resident_id, by=c.doctor)
    assert not out.applied
    assert app.household(h.id).residents[r.resident_id].tags == {}
    contact = app.case(case.id).contact(rec.person_id)
    assert contact.proposal is not None and contact.to_locate
    app.reject_match(case.id, rec.person_id, "同名不同人", by=c.doctor)
    assert app.case(case.id).contact(rec.person_id).proposal is None
    app.match_contact(case.id, rec.person_id, h.id, r.resident_id, by=c.doctor)
    app.confirm_match(case.id, rec.person_id, by=c.official)
    after = app.household(h.id).residents[r.resident_id]
    assert TagKind.CLOSE_CONTACT in after.tags
    assert after.measure is Measure.CENTRALIZED_QUARANTINE
    matched = [e for e in app.events.get(case.id) if isinstance(e, Case.ContactMatched)]
    assert matched[-1].confirmed and matched[-1].by == c.official


def test_ruling_out_releases_the_contacts_by_the_policy_once(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    h, r = resident(app, c.households[1])
    app.record_exposure(case.id, clock.now - timedelta(hours=5), "household", "家中",
                        "shared_living", by=c.doctor, hid=h.id, rid=r.resident_id)
    app.record_exposure(case.id, clock.now - timedelta(hours=5), "household", "家中",
                        "shared_living", by=c.doctor, name="外地亲戚")
    nothing_written(app, lambda: app.rule_out_case(case.id, "复检阴性", by=c.official),
                    NotAuthorised)
    app.rule_out_case(case.id, "复检阴性", by=c.doctor)
    after = app.household(h.id).residents[r.resident_id]
    assert after.measure is Measure.NONE and after.tags == {}
    done = app.case(case.id)
    assert done.status is CaseStatus.RULED_OUT
    assert all(x.released for x in done.contacts.values())
    before = app.recorder.max_notification_id()
    assert app.rule_out_case(case.id, "复检阴性", by=c.doctor) is None  # idempotent
    assert app.recorder.max_notification_id() == before
    nothing_written(app, lambda: app.record_exposure(
        case.id, clock.now, "household", "家中", "shared_living", by=c.doctor, name="甲"),
        ForbiddenTransition)
    nothing_written(app, lambda: app.confirm_case(case.id, by=c.doctor), ForbiddenTransition)


def test_no_person_becomes_their_own_contacts_contact(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    index_h, index_r = resident(app, c.households[0])
    h, r = resident(app, c.households[1])
    t = clock.now - timedelta(days=1)
    b = app.record_exposure(case.id, t, "household", "家中", "shared_living", by=c.doctor,
                            hid=h.id, rid=r.resident_id).person_id
    nothing_written(app, lambda: app.record_exposure(
        case.id, t, "household", "家中", "shared_living", by=c.doctor, via=b,
        hid=index_h.id, rid=index_r.resident_id), InvalidInput)
    app.open_case("WH-0002", COMMUNITY, by=c.doctor, source_case=case.id, source_person=b)
    child = app.case_by_no("WH-0002")
    e = nothing_written(app, lambda: app.record_exposure(
        child.id, t, "household", "家中", "shared_living", by=c.doctor,
        hid=index_h.id, rid=index_r.resident_id), InvalidInput)
    assert "upstream" in str(e)
    # an outside person later matched to the index is refused too
    x = app.record_exposure(child.id, t, "gathering", "饭店", "face_to_face", by=c.doctor,
                            name="张三", phone="13812341234").person_id
    nothing_written(app, lambda: app.match_contact(child.id, x, index_h.id,
                                                   index_r.resident_id, by=c.doctor),
                    InvalidInput)


def test_refused_commands_write_nothing(app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    h, r = resident(app, c.households[0])
    t = clock.now - timedelta(hours=1)
    refusals = [
        (lambda: app.open_case("WH-0001", COMMUNITY, by=c.doctor, name="甲"), DuplicateCode),
        (lambda: app.open_case("WH-9", COMMUNITY, by=c.doctor), InvalidInput),
        (lambda: app.open_case("WH-9", COMMUNITY, by=c.volunteer, name="甲"), NotAuthorised),
        (lambda: app.open_case("WH-9", COMMUNITY, by=c.doctor, name="甲",
                               phone="123"), InvalidInput),
        (lambda: app.record_exposure(case.id, t, "party", "x", "face_to_face", by=c.doctor,
                                     name="甲"), InvalidInput),
        (lambda: app.record_exposure(case.id, clock.now + timedelta(days=1), "household",
                                     "家中", "shared_living", by=c.doctor, name="甲"),
         InvalidInput),
        (lambda: app.record_exposure(case.id, t, "household", "", "shared_living",
                                     by=c.doctor, name="甲"), InvalidInput),
        (lambda: app.record_exposure(case.id, t, "household", "家中", "shared_living",
                                     by=c.doctor), InvalidInput),
        (lambda: app.record_exposure(case.id, t, "household", "家中", "shared_living",
                                     by=c.doctor, hid=h.id, rid=r.resident_id),
         InvalidInput),  # the index themself
        (lambda: app.record_exposure(case.id, t, "household", "家中", "shared_living",
                                     by=c.worker, name="甲"), NotAuthorised),
        (lambda: app.record_exposure(case.id, t, "household", "电话13812341234",
                                     "shared_living", by=c.doctor, name="甲"), InvalidInput),
        (lambda: app.confirm_case(case.id, by=c.official), NotAuthorised),
        (lambda: app.rule_out_case(case.id, "", by=c.doctor), InvalidInput),
    ]
    for call, error in refusals:
        nothing_written(app, call, error)
    rec = app.record_exposure(case.id, t, "gathering", "饭店", "face_to_face", by=c.doctor,
                              name="钱七")
    h2, r2 = resident(app, c.households[2])
    for call, error in [
        (lambda: app.match_contact(case.id, rec.person_id, h2.id, r2.resident_id,
                                   by=c.doctor), InvalidInput),  # nothing identifies them
        (lambda: app.confirm_match(case.id, rec.person_id, by=c.doctor), ForbiddenTransition),
        (lambda: app.reject_match(case.id, rec.person_id, "x", by=c.doctor),
         ForbiddenTransition),
        (lambda: app.record_exposure(case.id, t, "household", "家中", "shared_living",
                                     by=c.doctor, via=UUID(int=7), name="甲"), InvalidInput),
    ]:
        nothing_written(app, call, error)


def test_a_police_officer_may_trace_but_the_household_decides_what_they_may_impose(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    """The authority table lets an official record an exposure; imposing centralized
    quarantine is then the household's rule with the policy in force (an official may)."""
    case = open_resident_case(app, c)
    h, r = resident(app, c.households[5])
    app.record_exposure(case.id, clock.now, "household", "家中", "shared_living",
                        by=c.official, hid=h.id, rid=r.resident_id)
    after = app.household(h.id).residents[r.resident_id]
    assert after.measure is Measure.CENTRALIZED_QUARANTINE
    assert app.case(case.id).status is CaseStatus.SUSPECTED
    assert case_id("WH-0001") == case.id
    assert ZONES  # the community's zones host the households traced here
    with pytest.raises(NotPermitted):
        app.confirm_case(case.id, by=c.worker)


def test_a_retried_exposure_with_its_client_id_is_applied_once(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    t = clock.now - timedelta(hours=3)
    first = app.record_exposure(case.id, t, "gathering", "饭店", "face_to_face", by=c.doctor,
                                name="孙八", client_id="dev-1/exp-1")
    again = app.record_exposure(case.id, t, "gathering", "饭店", "face_to_face", by=c.doctor,
                                name="孙八", client_id="dev-1/exp-1")
    assert again.person_id == first.person_id
    assert len(app.case(case.id).contacts) == 1


def test_a_cycle_across_sibling_cases_is_refused(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    t = clock.now - timedelta(days=1)
    (hb, rb), (hc, rc) = resident(app, c.households[1]), resident(app, c.households[2])
    b = app.record_exposure(case.id, t, "household", "家中", "shared_living", by=c.doctor,
                            hid=hb.id, rid=rb.resident_id).person_id
    x = app.record_exposure(case.id, t, "household", "家中", "shared_living", by=c.doctor,
                            hid=hc.id, rid=rc.resident_id).person_id
    app.open_case("WH-B", COMMUNITY, by=c.doctor, source_case=case.id, source_person=b)
    app.open_case("WH-C", COMMUNITY, by=c.doctor, source_case=case.id, source_person=x)
    app.record_exposure(app.case_by_no("WH-B").id, t, "workplace", "办公室", "face_to_face",
                        by=c.doctor, hid=hc.id, rid=rc.resident_id)
    nothing_written(app, lambda: app.record_exposure(
        app.case_by_no("WH-C").id, t, "workplace", "办公室", "face_to_face", by=c.doctor,
        hid=hb.id, rid=rb.resident_id), InvalidInput)
    assert [k.case_no for k in app.cases_of(rc.resident_id)] == ["WH-0001", "WH-C", "WH-B"]


def test_a_traced_person_is_not_matched_to_someone_downstream_of_them(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    t = clock.now - timedelta(days=1)
    h, r = resident(app, c.households[4])  # 张三, 13812341234
    p = app.record_exposure(case.id, t, "gathering", "饭店", "face_to_face", by=c.doctor,
                            name="张三", phone="13812341234").person_id
    app.open_case("WH-P", COMMUNITY, by=c.doctor, source_case=case.id, source_person=p)
    app.record_exposure(app.case_by_no("WH-P").id, t, "household", "家中", "shared_living",
                        by=c.doctor, hid=h.id, rid=r.resident_id)
    nothing_written(app, lambda: app.match_contact(case.id, p, h.id, r.resident_id,
                                                   by=c.doctor), InvalidInput)


def test_ruling_out_leaves_a_contact_another_active_case_still_follows(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    first = open_resident_case(app, c)
    other = open_resident_case(app, c, "WH-0002", n=3)
    h, r = resident(app, c.households[1])
    for case in (first, other):
        app.record_exposure(case.id, clock.now - timedelta(hours=2), "gathering", "饭店",
                            "face_to_face", by=c.doctor, hid=h.id, rid=r.resident_id)
    app.rule_out_case(first.id, "复检阴性", by=c.doctor)
    after = app.household(h.id).residents[r.resident_id]
    assert after.measure is Measure.CENTRALIZED_QUARANTINE
    assert TagKind.CLOSE_CONTACT in after.tags
    app.rule_out_case(other.id, "复检阴性", by=c.doctor)
    after = app.household(h.id).residents[r.resident_id]
    assert after.measure is Measure.NONE and after.tags == {}


def test_a_secondary_contact_is_released_when_their_own_shorter_period_ends(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    """The household's release rule counts the end the tracing decision set (7 days from
    the last exposure for a secondary contact), not the 14 days of a measure imposed by
    hand: before it a release is refused and writes nothing, after it one is allowed."""
    case = open_resident_case(app, c)
    h1, close = resident(app, c.households[1])
    h2, second = resident(app, c.households[2], 1)
    t = clock.now - timedelta(hours=10)
    b = app.record_exposure(case.id, t, "household", "家中", "shared_living", by=c.doctor,
                            hid=h1.id, rid=close.resident_id).person_id
    s = app.record_exposure(case.id, t + timedelta(hours=2), "workplace", "办公室",
                            "face_to_face", by=c.doctor, via=b, hid=h2.id,
                            rid=second.resident_id)
    until = app.case(case.id).contact(s.person_id).until
    assert until == t + timedelta(hours=2, days=7)
    h = app.household(h2.id)
    assert h.residents[second.resident_id].measure_until == until
    assert h.measure_ends(second.resident_id, app.policy_at(clock.now)) == until

    clock.now = until - timedelta(hours=1)
    app.record_test(h2.id, second.resident_id, True, by=c.doctor)
    e = nothing_written(app, lambda: app.change_measure(
        h2.id, second.resident_id, Measure.NONE, by=c.doctor, reason="期满"),
        ForbiddenTransition)
    assert until.isoformat() in str(e)

    clock.now = until + timedelta(hours=1)
    app.change_measure(h2.id, second.resident_id, Measure.NONE, by=c.doctor, reason="期满")
    after = app.household(h2.id).residents[second.resident_id]
    assert after.measure is Measure.NONE and after.measure_until is None


def test_a_later_exposure_under_the_same_measure_extends_it_once(
        app: GridcoreApp, c: Community, clock: Clock) -> None:
    case = open_resident_case(app, c)
    h1, r = resident(app, c.households[1])
    first = clock.now - timedelta(days=2)
    p = app.record_exposure(case.id, first, "household", "家中", "shared_living",
                            by=c.doctor, hid=h1.id, rid=r.resident_id).person_id
    assert app.household(h1.id).residents[r.resident_id].measure_until == \
        first + timedelta(days=14)
    later = clock.now - timedelta(hours=3)
    app.record_exposure(case.id, later, "household", "家中", "shared_living", by=c.doctor,
                        person_id=p)
    after = app.household(h1.id).residents[r.resident_id]
    assert after.measure is Measure.CENTRALIZED_QUARANTINE
    assert after.measure_since == first  # the measure and its start stay
    assert after.measure_until == later + timedelta(days=14)
    extended = [e for e in app.events.get(h1.id) if isinstance(e, Household.MeasureExtended)]
    assert len(extended) == 1 and extended[0].by == c.doctor
    # an earlier exposure recorded afterwards changes nothing
    before = app.recorder.max_notification_id()
    app.record_exposure(case.id, first + timedelta(hours=1), "household", "家中",
                        "shared_living", by=c.doctor, person_id=p)
    assert [e for e in app.events.get(h1.id)
            if isinstance(e, Household.MeasureExtended)] == extended
    assert app.recorder.max_notification_id() == before + 1  # the case's exposure only
    clock.now = first + timedelta(days=15)
    app.record_test(h1.id, r.resident_id, True, by=c.doctor)
    nothing_written(app, lambda: app.change_measure(
        h1.id, r.resident_id, Measure.NONE, by=c.doctor, reason="期满"), ForbiddenTransition)
