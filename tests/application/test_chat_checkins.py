"""Chat self-reports (群内自报) resolved by address and recorded as chat visits."""

from __future__ import annotations

import pytest

from adapters.chat_checkins import UnattributedFinding, record_check_in
from adapters.checkin import CheckInError
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.errors import NotFound
from gridcore.status import Health
from tests.scenario import COMMUNITY, given_community

ZONE = f"{COMMUNITY}-01"


def village(app: GridcoreApp):
    c = given_community(app, households_per_zone=1)
    app.register_household("ST-187", ZONE, "上疃村187号",
                           [new_member("ST-187", i, f"村民{i}") for i in (1, 2, 3)],
                           by=System.OPERATOR)
    app.register_household("ST-9", ZONE, "上疃村9号", [new_member("ST-9", 1, "独居老人")],
                           by=System.OPERATOR)
    app.launch_campaign(COMMUNITY, 1, 3, by=System.OPERATOR)
    return c, app.campaign_of(COMMUNITY, 1).id


def test_a_seed_report_covers_its_household(app):
    c, cid = village(app)
    done = record_check_in(app, cid, ZONE, "上疃村187号，3人，电话××××，平安", sender=c.worker)
    assert done.household_id == app.household_by_no("ST-187").id and done.covered
    coverage = app.campaign_coverage(cid)
    assert done.household_id in coverage.covered and coverage.by_method == {"chat": 1}


def test_half_width_punctuation_and_a_lower_count_leave_the_household_open(app):
    c, cid = village(app)
    done = record_check_in(app, cid, ZONE, "上疃村187号, 2人, 正常", sender=c.worker)
    assert not done.covered
    assert app.campaign_coverage(cid).uncovered[done.household_id] == "members_missing"


def test_a_fever_in_a_one_person_household_is_followed_up(app):
    c, cid = village(app)
    done = record_check_in(app, cid, ZONE, "上疃村9号，1人，发热37.8", sender=c.worker)
    person = next(iter(app.household(done.household_id).residents.values()))
    assert person.health is Health.SYMPTOMATIC
    assert [r.kind.value for r in app.referrals_of(person.resident_id)] == ["fever_clinic"]


def test_a_redelivered_message_counts_once(app):
    c, cid = village(app)
    for _ in range(2):
        record_check_in(app, cid, ZONE, "上疃村187号，3人，平安", sender=c.worker,
                        message_id="wx-1")
    assert len(app.visit(cid, app.household_by_no("ST-187").id).attempts) == 1


@pytest.mark.parametrize(("text", "error"), [
    ("上疃村999号，3人，平安", NotFound),
    ("3人，平安", CheckInError),
    ("上疃村187号，平安", CheckInError),
    ("上疃村187号，3人，发热37.9", UnattributedFinding),  # whose fever, of three?
    ("上疃村9号，1人，王五发热", UnattributedFinding),  # a name that is not the member's
])
def test_unreadable_or_unknown_reports_write_nothing(app, text, error):
    c, cid = village(app)
    before = app.recorder.max_notification_id()
    with pytest.raises(error) as e:
        record_check_in(app, cid, ZONE, text, sender=c.worker)
    assert e.value.remedy
    assert app.recorder.max_notification_id() == before
