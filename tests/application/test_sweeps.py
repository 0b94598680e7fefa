"""Sweep campaigns: launch, visits and coverage, findings followed up once, close, tick, sync."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import UUID

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from adapters.settings import memory_env
from gridcore.application import GridcoreApp, new_member
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.errors import DuplicateCode, ForbiddenTransition, InvalidInput, NotFound
from gridcore.field_sync import FieldRecord, SyncStatus
from gridcore.findings import FINDINGS_PROCESS_ID, FindingsProcess
from gridcore.status import Health, Measure, TagKind
from gridcore.sweep import Arrival, Outcome, Visit, VisitRecord, visit_id
from tests.conftest import Clock
from tests.scenario import COMMUNITY, Community, given_community


def launched(app: GridcoreApp) -> tuple[Community, UUID]:
    c = given_community(app)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    return c, app.campaign_of(COMMUNITY, 1).id


def members(app: GridcoreApp, hid: UUID) -> list[UUID]:
    return list(app.household(hid).residents)


def test_launch_assigns_every_household_and_opens_the_campaign(app):
    c = given_community(app)
    plan = app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    campaign = app.campaign_of(COMMUNITY, 1)
    assert sorted(campaign.households, key=str) == sorted(c.households, key=str)
    assert {i.household_id for i in plan.items} | {u.household_id for u in plan.uncovered} \
        == set(c.households)
    assert campaign.ends - campaign.starts == timedelta(days=3)
    assert app.assignment(COMMUNITY, 1).days == 3
    assert app.campaign_coverage(campaign.id).share == 0.0


def test_a_launch_retried_under_its_client_id_writes_nothing_and_returns_the_same_plan(app):
    given_community(app)
    first = app.launch_campaign(COMMUNITY, 1, 3, client_id="dev-1:launch", by=System.OPERATOR)
    written = app.recorder.max_notification_id()
    again = app.launch_campaign(COMMUNITY, 1, 3, client_id="dev-1:launch", by=System.OPERATOR)
    assert app.recorder.max_notification_id() == written
    assert sorted(again.items, key=lambda i: str(i.household_id)) == sorted(
        first.items, key=lambda i: str(i.household_id))
    assert again.uncovered == first.uncovered


def test_a_household_is_covered_when_all_members_are_accounted_for(app):
    c, cid = launched(app)
    hid = c.households[0]
    first, second = members(app, hid)
    app.record_visit(cid, hid, Method.DOOR, Outcome.NO_ANSWER, by=c.worker)
    assert app.campaign_coverage(cid).uncovered[hid] == "no_answer"
    app.record_visit(cid, hid, Method.DOOR, by=c.worker, accounted=[first])
    assert app.campaign_coverage(cid).uncovered[hid] == "members_missing"
    app.record_visit(cid, hid, Method.PHONE, by=c.worker, accounted=[second])
    coverage = app.campaign_coverage(cid)
    assert hid in coverage.covered and hid not in coverage.uncovered
    assert coverage.by_method == {"phone": 1}
    assert len(app.visit(cid, hid).attempts) == 3


def test_a_fever_makes_the_member_symptomatic_once_however_often_the_process_runs(app):
    c, cid = launched(app)
    hid = c.households[0]
    hot, other = members(app, hid)
    app.record_visit(cid, hid, Method.DOOR, by=c.worker, temperatures={hot: 38.1, other: 36.5})
    h = app.household(hid)
    assert h.residents[hot].health is Health.SYMPTOMATIC
    assert h.residents[other].health is Health.NORMAL
    assert [r.kind.value for r in app.referrals_of(hot)] == ["fever_clinic"]
    version = h.version
    assert app.process_findings(by=System.OPERATOR) == 0
    # As if the process had lost its position: it re-reads the log, and nothing doubles.
    assert app.process_findings(restart_from=0, by=System.OPERATOR) >= 1
    assert app.household(hid).version == version
    assert app.household(hid).residents[hot].health is Health.SYMPTOMATIC


def test_close_contacts_and_arrivals_are_tagged_and_measured(app, clock):
    c, cid = launched(app)
    hid = c.households[1]
    arrived, contact = members(app, hid)
    app.record_visit(cid, hid, Method.DOOR, by=c.worker, close_contacts=[contact],
                     arrivals=[Arrival(resident_id=arrived, origin="云南",
                                       arrived_on=date(2020, 2, 10))])
    h = app.household(hid)
    assert TagKind.CLOSE_CONTACT in h.residents[contact].tags
    assert h.residents[arrived].tags[TagKind.RISK_AREA_ARRIVAL].origin == "云南"
    assert h.residents[arrived].measure is Measure.HOME_OBSERVATION
    assert [r.kind.value for r in app.referrals_of(contact)] == ["centralized_quarantine"]
    assert app.referrals_of(arrived) == []


def test_a_chat_self_report_without_staff_is_followed_up_as_a_visit_is(app):
    """A fever a resident reported themself makes them symptomatic with a referral, as on a
    visit (the system follows it up); a close contact still needs a door visit."""
    c, cid = launched(app)
    hid = c.households[2]
    hot, contact = members(app, hid)[:2]
    app.record_visit(cid, hid, Method.CHAT, temperatures={hot: 38.5}, close_contacts=[contact],
                     by=System.OPERATOR)
    assert app.household(hid).residents[hot].health is Health.SYMPTOMATIC
    assert [r.kind.value for r in app.referrals_of(hot)] == ["fever_clinic"]
    assert TagKind.CLOSE_CONTACT not in app.household(hid).residents[contact].tags
    proc = app._find(FindingsProcess, FINDINGS_PROCESS_ID)
    assert any("door visit" in reason for _, action, reason in proc.skipped
               if action == "tag_close_contact")


def test_closing_records_the_summary_and_refuses_later_visits(app):
    c, cid = launched(app)
    app.record_visit(cid, c.households[0], Method.DOOR, by=c.worker)
    app.record_visit(cid, c.households[1], Method.DOOR, Outcome.REFUSED, by=c.worker)
    app.close_campaign(cid, by=System.OPERATOR)
    summary = app.campaign(cid).summary
    assert summary is not None
    assert (summary.households, summary.covered) == (6, 1)
    assert summary.not_covered == {"refused": 1, "not_visited": 4}
    before = app.recorder.max_notification_id()
    with pytest.raises(ForbiddenTransition) as e:
        app.record_visit(cid, c.households[2], Method.DOOR, by=c.worker)
    assert e.value.remedy
    assert app.recorder.max_notification_id() == before


def test_tick_records_an_ended_window_once(app, clock):
    _c, cid = launched(app)
    assert app.tick()["sweeps"] == 0
    clock.advance(days=3, minutes=1)
    assert app.tick()["sweeps"] == 1
    before = app.recorder.max_notification_id()
    assert app.tick()["sweeps"] == 0
    assert app.recorder.max_notification_id() == before
    assert app.campaign(cid).window_ended


def test_only_uncovered_work_moves_when_a_worker_becomes_unavailable(app):
    _c, cid = launched(app)
    a = app.assignment(COMMUNITY, 1)
    worker = max(set(a.owner.values()), key=lambda s: len(a.open_work_of(s)))
    own = a.open_work_of(worker)
    assert len(own) >= 2
    app.record_visit(cid, own[0], Method.DOOR, by=worker)
    app.set_staff_availability(worker, False, "生病 ill", by=System.OPERATOR)
    after = app.assignment(COMMUNITY, 1)
    assert after.owner.get(own[0]) == worker  # covered work stays where it was done
    assert all(after.owner.get(h) != worker for h in own[1:])


def test_offline_sync_applies_once_and_reports_stale_records(app, clock):
    c, cid = launched(app)
    hid = c.households[0]
    when = clock.now
    rec = VisitRecord(staff_id=c.worker, method=Method.DOOR, at=when, outcome=Outcome.SEEN,
                      accounted=members(app, hid))
    clock.advance(hours=2)
    first = app.sync_field_records([FieldRecord("dev1-1", cid, hid, 0, rec)])
    assert first[0].status is SyncStatus.APPLIED
    assert app.visit(cid, hid).attempts[0].at == when
    again = app.sync_field_records([FieldRecord("dev1-1", cid, hid, 0, rec)])
    assert again[0].status is SyncStatus.DUPLICATE
    stale = app.sync_field_records([FieldRecord("dev2-1", cid, hid, 0, rec)])
    assert stale[0].status is SyncStatus.STALE
    assert stale[0].current["version"] == app.visit(cid, hid).version
    assert len(app.visit(cid, hid).attempts) == 1
    bad = rec.model_copy(update={"accounted": [c.worker]})
    rejected = app.sync_field_records([FieldRecord("dev3-1", cid, c.households[1], 0, bad)])
    assert rejected[0].status is SyncStatus.REJECTED and "not members" in rejected[0].message


def test_a_duplicate_round_is_refused_and_writes_nothing(app):
    given_community(app)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    before = app.recorder.max_notification_id()
    with pytest.raises(DuplicateCode):
        app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    assert app.recorder.max_notification_id() == before


@pytest.mark.parametrize("bad", [
    "unknown_campaign", "not_in_campaign", "stranger", "hot", "no_answer_accounts", "future",
])
def test_bad_visits_raise_typed_errors_and_write_nothing(app, clock, bad):
    c, cid = launched(app)
    hid = c.households[0]
    m = members(app, hid)
    args: dict = {}
    target_cid, target_hid = cid, hid
    expected: type[Exception] = InvalidInput
    if bad == "unknown_campaign":
        target_cid, expected = UUID(int=7), NotFound
    elif bad == "not_in_campaign":
        app.register_household("late-1", f"{COMMUNITY}-01", "9栋101",
                               [new_member("late-1", 1, "王五")], by=System.OPERATOR)
        target_hid, expected = app.household_by_no("late-1").id, NotFound
    elif bad == "stranger":
        args = {"accounted": [c.worker]}
    elif bad == "hot":
        args = {"temperatures": {m[0]: 45.0}}
    elif bad == "no_answer_accounts":
        args = {"accounted": m}
    elif bad == "future":
        args = {"visited_at": clock.now + timedelta(hours=1)}
    outcome = Outcome.NO_ANSWER if bad == "no_answer_accounts" else Outcome.SEEN
    before = app.recorder.max_notification_id()
    with pytest.raises(expected) as e:
        app.record_visit(target_cid, target_hid, Method.DOOR, outcome, by=c.worker, **args)
    assert e.value.remedy
    assert app.recorder.max_notification_id() == before


class CoverageMachine(RuleBasedStateMachine):
    """Random visits; coverage always equals an independent model, replay equals live."""

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock()
        self.app = GridcoreApp(memory_env(), clock=self.clock)
        self.c = given_community(self.app, households_per_zone=2)
        self.app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
        self.cid = self.app.campaign_of(COMMUNITY, 1).id
        self.accounted: dict[UUID, set[UUID]] = {h: set() for h in self.c.households}
        self.closed = False

    @precondition(lambda self: not self.closed)
    @rule(i=st.integers(0, 3), who=st.sets(st.integers(0, 1)),
          outcome=st.sampled_from(list(Outcome)))
    def visit(self, i: int, who: set[int], outcome: Outcome) -> None:
        hid = self.c.households[i]
        m = list(self.app.household(hid).residents)
        accounted = [m[j] for j in sorted(who)] if outcome is Outcome.SEEN else []
        self.clock.advance(minutes=5)
        self.app.record_visit(self.cid, hid, Method.DOOR, outcome, by=self.c.worker,
                              accounted=accounted)
        self.accounted[hid] |= set(accounted)

    @rule()
    def close(self) -> None:
        if self.closed:
            with pytest.raises(ForbiddenTransition):
                self.app.close_campaign(self.cid, by=System.OPERATOR)
            return
        self.app.close_campaign(self.cid, by=System.OPERATOR)
        self.closed = True

    @invariant()
    def coverage_matches_the_model(self) -> None:
        coverage = self.app.campaign_coverage(self.cid)
        expected = {h for h, acc in self.accounted.items()
                    if acc == set(self.app.household(h).residents)}
        assert set(coverage.covered) == expected

    @invariant()
    def replay_equals_live(self) -> None:
        for hid in self.c.households:
            live = self.app.visit(self.cid, hid)
            if live is None:
                continue
            folded = None
            for event in self.app.events.get(visit_id(self.cid, hid)):
                folded = event.mutate(folded)
            assert isinstance(folded, Visit)
            assert folded.attempts == live.attempts and folded.version == live.version


TestCoverageMachine = CoverageMachine.TestCase
TestCoverageMachine.settings = settings(max_examples=20, stateful_step_count=15, deadline=None)


def test_a_visit_dated_before_the_campaign_started_counts_for_no_round(app, clock):
    """A chat report sent the morning before the round opened, or a batch row dated then,
    is refused with the start named, and nothing is written; one from after it counts."""
    from gridcore.sweep_commands import VisitRow

    c, cid = launched(app)
    start = app.campaign(cid).starts
    hid = c.households[0]
    clock.advance(hours=2)
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidInput, match=r"before campaign .* started"):
        app.record_visit(cid, hid, Method.CHAT, by=System.OPERATOR,
                         visited_at=start - timedelta(minutes=5))
    with pytest.raises(InvalidInput, match=r"Visit 1 of the batch: .*before campaign"):
        app.record_visits(cid, [VisitRow(hid, Method.CHAT, Outcome.SEEN, None,
                                         visited_at=start - timedelta(seconds=1))],
                          by=System.OPERATOR)
    assert app.recorder.max_notification_id() == before
    app.record_visit(cid, hid, Method.CHAT, by=System.OPERATOR,
                     visited_at=start + timedelta(minutes=5))
    assert hid in app.campaign_coverage(cid).covered
