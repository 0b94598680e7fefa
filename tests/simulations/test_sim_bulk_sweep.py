"""``record_visits``: a batch of visits of one campaign in one transaction, each checked as
``record_visit`` checks one (the bulk path of the city-scale sweep), on all three stores."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from gridcore.app_base import MAX_BATCH
from gridcore.application import GridcoreApp, new_member
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.errors import ForbiddenTransition, InvalidInput, NotFound
from gridcore.status import TagKind
from gridcore.sweep import Outcome
from gridcore.sweep_commands import VisitRow
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community


def launched(app: GridcoreApp):  # type: ignore[no-untyped-def]
    c = given_community(app)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    return c, app.campaign_of(COMMUNITY, 1).id


def test_a_batch_covers_every_household_in_one_transaction(app: GridcoreApp) -> None:
    c, cid = launched(app)
    before = app.recorder.max_notification_id() or 0
    rows = [VisitRow(hid, Method.DOOR, by=c.worker) for hid in c.households]
    report = app.record_visits(cid, rows, by=System.OPERATOR)
    assert report.recorded == len(c.households)
    coverage = app.campaign_coverage(cid)
    assert set(coverage.covered) == set(c.households) and not coverage.uncovered
    assert coverage.by_method == {"door": len(c.households)}
    # an Opened and a Recorded event per household, and nothing else but the findings
    # process's position, which has nothing to follow up
    written = app.recorder.select_notifications(start=before + 1, limit=10_000)
    assert report.notification_id == before + 2 * len(c.households)
    assert sum(n.topic.endswith("Visit.Recorded") for n in written) == len(c.households)


def test_a_batch_adds_attempts_to_visits_recorded_before(app: GridcoreApp) -> None:
    c, cid = launched(app)
    first = c.households[0]
    app.record_visit(cid, first, Method.DOOR, Outcome.NO_ANSWER, by=c.worker)
    app.record_visits(cid, [VisitRow(h, Method.PHONE, by=c.worker) for h in c.households],
                      by=System.OPERATOR)
    assert [a.outcome for a in app.visit(cid, first).attempts] == [Outcome.NO_ANSWER,
                                                                    Outcome.SEEN]
    assert len(app.campaign_coverage(cid).covered) == len(c.households)


def test_findings_of_a_batch_are_followed_up(app: GridcoreApp) -> None:
    c, cid = launched(app)
    hid = c.households[1]
    rid = next(iter(app.household(hid).residents))
    app.record_visits(cid, [VisitRow(hid, Method.DOOR, by=c.worker,
                                     details={"close_contacts": [rid]})], by=System.OPERATOR)
    assert TagKind.CLOSE_CONTACT in app.household(hid).residents[rid].tags


@pytest.mark.parametrize(("row", "error", "words"), [
    (lambda c, hid: VisitRow(hid, Method.DOOR, by=uuid4()), NotFound, "staff member"),
    (lambda c, hid: VisitRow(uuid4(), Method.DOOR, by=c.worker), NotFound, "household"),
    (lambda c, hid: VisitRow(hid, Method.DOOR, by=c.worker,
                             details={"accounted": [uuid4()]}), InvalidInput, "not members"),
    (lambda c, hid: VisitRow(hid, Method.DOOR, by=c.worker,
                             details={"temperatures": {uuid4(): 36.6}}), InvalidInput,
     "not members"),
    (lambda c, hid: VisitRow(hid, Method.DOOR, Outcome.NO_ANSWER, by=c.worker,
                             details={"accounted": []}), None, ""),
    (lambda c, hid: VisitRow(hid, Method.DOOR, by=c.worker, details={"bogus": 1}),
     InvalidInput, "malformed"),
])
def test_one_bad_row_rejects_the_batch_naming_it_and_writes_nothing(
        app: GridcoreApp, row, error, words) -> None:  # type: ignore[no-untyped-def]
    c, cid = launched(app)
    good = [VisitRow(h, Method.DOOR, by=c.worker) for h in c.households[:2]]
    rows = [*good, row(c, c.households[2])]
    before = app.recorder.max_notification_id()
    if error is None:  # the control: a well-formed no-answer row is accepted
        assert app.record_visits(cid, rows, by=System.OPERATOR).recorded == 3
        return
    with pytest.raises(error) as e:
        app.record_visits(cid, rows, by=System.OPERATOR)
    assert "Visit 3 of the batch" in str(e.value) and words in str(e.value)
    assert e.value.remedy
    assert app.recorder.max_notification_id() == before
    assert app.visit(cid, c.households[0]) is None


def test_a_visit_dated_in_the_future_is_rejected(app: GridcoreApp, clock: Clock) -> None:
    c, cid = launched(app)
    later = clock.now + timedelta(hours=1)
    with pytest.raises(InvalidInput, match="future"):
        app.record_visits(cid, [VisitRow(c.households[0], Method.DOOR, by=c.worker,
                                         visited_at=later)], by=System.OPERATOR)


def test_a_household_of_another_scope_is_rejected(app: GridcoreApp) -> None:
    c, cid = launched(app)
    # registered after the launch: in the scope, not in the campaign
    app.register_household("X-1", ZONES[0], "新搬来", [new_member("X-1", 1, "新住户")],
                           by=System.OPERATOR)
    stranger = app.household_by_no("X-1").id
    with pytest.raises(NotFound, match="not in the campaign"):
        app.record_visits(cid, [VisitRow(stranger, Method.DOOR, by=c.worker)], by=System.OPERATOR)


def test_a_closed_campaign_and_an_oversized_batch_are_refused(app: GridcoreApp) -> None:
    c, cid = launched(app)
    too_many = [VisitRow(c.households[0], Method.DOOR)] * (MAX_BATCH + 1)
    with pytest.raises(InvalidInput, match="too large"):
        app.record_visits(cid, too_many, by=System.OPERATOR)
    app.close_campaign(cid, by=System.OPERATOR)
    with pytest.raises(ForbiddenTransition):
        app.record_visits(cid, [VisitRow(c.households[0], Method.DOOR, by=c.worker)],
                          by=System.OPERATOR)


def test_a_batch_sent_again_under_its_client_id_is_applied_once(app: GridcoreApp) -> None:
    c, cid = launched(app)
    rows = [VisitRow(h, Method.DOOR, by=c.worker) for h in c.households]
    app.record_visits(cid, rows, client_id="device-1:batch-1", by=System.OPERATOR)
    last = app.recorder.max_notification_id()
    app.record_visits(cid, rows, client_id="device-1:batch-1", by=System.OPERATOR)
    assert app.recorder.max_notification_id() == last
    assert all(len(app.visit(cid, h).attempts) == 1 for h in c.households)
