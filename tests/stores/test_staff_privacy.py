"""Staff are people too: a staff member's name and phone are stored sealed with their own key,
erasing them (directly, or with the resident they also are) destroys that key in the same
transaction, and a staff member enrolled before sealing (a plain v1 ``Enrolled``) still reads
back, and reads as erased once erased."""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import Erased, InvalidInput, NotPermitted
from gridcore.household import household_id, resident_id
from gridcore.staff import ERASED_LABEL, Role, StaffMember, staff_id
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community
from tests.stores import key_rows

NAME, PHONE = "王芳", "13900001111"  # GW1 of tests.scenario


def raw_states(path: Path, topic_end: str, originator: UUID) -> list[bytes]:
    """The stored states of one aggregate's events of a topic, read from the SQLite file."""
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT topic, state, originator_id FROM stored_events").fetchall()
    return [bytes(state) for topic, state, oid in rows
            if topic.endswith(topic_end) and UUID(str(oid)) == originator]


@pytest.fixture
def sqlite_app(tmp_path: Path, clock: Clock) -> tuple[GridcoreApp, Path]:
    path = tmp_path / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(path), clock=clock)
    yield app, path
    app.close()


def test_the_stored_enrolment_holds_no_plain_name_or_phone(
        sqlite_app: tuple[GridcoreApp, Path]) -> None:
    app, path = sqlite_app
    given_community(app)
    gw = app.staff_by_no("GW1")
    [state] = raw_states(path, "StaffMember.Enrolled", gw.id)
    assert NAME.encode() not in state and PHONE.encode() not in state
    assert orjson.loads(state)["identity"].keys() == {"subject_id", "sealed"}
    assert (gw.name, gw.phone.reveal()) == (NAME, PHONE)  # the application opens it
    assert gw.id in key_rows(app)


def test_erasing_a_staff_member_destroys_their_key_and_keeps_their_work(
        app: GridcoreApp) -> None:
    c = given_community(app)
    gw = app.staff_by_no("GW1").id
    app.assign_scope(COMMUNITY, 1, 2, by=System.OPERATOR)
    before = app.assignment(COMMUNITY, 1).open_work_of(gw)
    app.erase_staff_member(gw, "离职满期 retention over", by=c.official)
    member = app.staff(gw)
    assert (member.erased, member.identity.name, member.phone) == (True, None, None)
    assert member.name == f"{ERASED_LABEL} (GW1)"
    assert NAME not in repr(member)
    assert (member.staff_no, member.role, member.home) == ("GW1", Role.GRID_WORKER,
                                                                   COMMUNITY)
    assert gw not in key_rows(app)
    assert app.assignment(COMMUNITY, 1).open_work_of(gw) == before
    with pytest.raises(Erased):
        app.erase_staff_member(gw, "again", by=c.official)


def test_a_fresh_application_reads_the_erased_member_as_erased(
        sqlite_app: tuple[GridcoreApp, Path], clock: Clock) -> None:
    app, path = sqlite_app
    given_community(app)
    gw = app.staff_by_no("GW1").id
    app.erase_staff_member(gw, "期满", by=System.OPERATOR)
    fresh = GridcoreApp(sqlite_env(path), clock=clock)
    try:
        assert fresh.staff(gw).erased and fresh.staff(gw).phone is None
    finally:
        fresh.close()


def test_erasure_needs_a_reason_and_an_official_and_writes_nothing_otherwise(
        app: GridcoreApp) -> None:
    c = given_community(app)
    gw = app.staff_by_no("GW1").id
    before = app.recorder.max_notification_id()
    with pytest.raises(InvalidInput):
        app.erase_staff_member(gw, " ", by=c.official)
    with pytest.raises(NotPermitted):
        app.erase_staff_member(gw, "期满", by=c.volunteer)
    assert app.recorder.max_notification_id() == before
    assert app.staff(gw).name == NAME


def test_erasing_the_resident_erases_the_staff_member_they_are(app: GridcoreApp) -> None:
    c = given_community(app)
    hid, rid = household_id("712-1-0"), resident_id("712-1-0", 1)
    app.enrol_staff("VOL9", "李志愿", Role.VOLUNTEER, COMMUNITY, 10, "13900009999",
                    resident=(hid, rid), by=System.OPERATOR)
    sid = staff_id("VOL9")
    assert app.staff(sid).name == "李志愿"
    app.erase_resident(hid, rid, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    member = app.staff(sid)
    assert member.erased and member.phone is None
    assert {rid, sid}.isdisjoint(key_rows(app))
    assert app.staff(c.official).name == "陈书记"  # nobody else's


def test_a_plain_v1_enrolment_still_reads_and_reads_as_erased_once_erased(
        app: GridcoreApp) -> None:
    """Events are never rewritten: a store written before sealing keeps plain v1 enrolments,
    which upcast to the sealed shape (their subject has no key, so they read as stored)."""
    c = given_community(app)
    sid = staff_id("OLD1")
    state = {"timestamp": "2020-02-17T08:00:00+00:00", "staff_no": "OLD1", "name": "老张",
             "phone": "13900007777", "role": "grid_worker", "jurisdiction": ZONES[0],
             "daily_capacity": 30}
    old = StoredEvent(originator_id=sid, originator_version=1,
                      topic="gridcore.staff:StaffMember.Enrolled",
                      state=orjson.dumps(state))
    event = app.mapper.to_domain_event(old)
    assert isinstance(event, StaffMember.Enrolled)
    assert (event.identity.subject_id, event.identity.name, event.identity.phone) == (
        sid, "老张", "13900007777")
    app.recorder.insert_events([old])
    assert app.staff(sid).name == "老张"
    app.erase_staff_member(sid, "期满", by=c.official)
    assert app.staff(sid).erased and app.staff(sid).name == f"{ERASED_LABEL} (OLD1)"


def test_the_sealed_enrolment_blob_is_not_the_plain_identity(app: GridcoreApp) -> None:
    """What the mapper stores for a new member (any store) carries only the sealed blob."""
    given_community(app)
    member = app.staff_by_no("GW1")
    [enrolled] = [n for n in app.recorder.select_notifications(start=1, limit=10_000)
                  if n.topic.endswith("StaffMember.Enrolled") and n.originator_id == member.id]
    identity = orjson.loads(enrolled.state)["identity"]
    assert set(identity) == {"subject_id", "sealed"}
    assert NAME.encode() not in base64.b64decode(identity["sealed"])
