"""Crypto-shredding: erasing a resident destroys their key, so every stored copy of their
identity becomes unreadable, while counts and statuses stay."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path
from uuid import UUID

import pytest

from adapters.kek import WRAPPED_LENGTH
from adapters.vault import KEY_TABLE
from gridcore.application import GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from gridcore.errors import Erased
from gridcore.household import Household, Vulnerability, household_id, resident_id
from gridcore.status import Health, Measure, Tag, TagKind
from tests.conftest import PG_DSN
from tests.scenario import ZONES, given_community
from tests.stores import key_rows

NO = "ER-1"
NAME, PHONE, ID_NUMBER = "欧阳娜娜", "13598765432", "11010519491231002X"
OTHER_NAME, OTHER_PHONE = "慕容复", "13611112222"
ADDRESS = "幸福路88号3栋2单元1101"
PLAINTEXTS = [NAME, PHONE, ID_NUMBER, OTHER_NAME, OTHER_PHONE, ADDRESS]
HID = household_id(NO)
RID, OTHER = resident_id(NO, 1), resident_id(NO, 2)


def given_a_household_to_erase(app: GridcoreApp) -> None:
    c = given_community(app, households_per_zone=1)
    app.register_household(NO, ZONES[0], ADDRESS, [
        new_member(NO, 1, NAME, PHONE, ID_NUMBER, 1949),
        new_member(NO, 2, OTHER_NAME, OTHER_PHONE, None, 1978),
    ], by=System.OPERATOR)
    app.change_health(HID, RID, Health.SUSPECTED, c.doctor, "发热")
    app.change_measure(HID, RID, Measure.HOME_QUARANTINE, c.worker, "密接")
    app.tag_resident(HID, RID, Tag(kind=TagKind.CLOSE_CONTACT), c.worker)
    app.mark_vulnerability(HID, RID, Vulnerability.CHRONIC_ILLNESS, by=System.OPERATOR)


def test_an_erased_resident_replays_as_erased_with_counts_and_statuses_kept(make_app):
    app = make_app()
    given_a_household_to_erase(app)
    assert {RID, OTHER, HID} <= set(key_rows(app))
    app.erase_resident(HID, RID, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    assert RID not in key_rows(app) and {OTHER, HID} <= set(key_rows(app))

    second = make_app()
    h = second.household(HID)
    r = h.residents[RID]
    assert r.erased and r.identity.erased
    assert (r.identity.name, r.identity.phone, r.identity.id_number) == (None, None, None)
    assert r.identity.subject_id == RID
    assert len(h.residents) == 2 and second.node(ZONES[0]).households[HID] == 2
    assert (r.health, r.measure) == (Health.SUSPECTED, Measure.HOME_QUARANTINE)
    assert set(r.tags) == {TagKind.CLOSE_CONTACT}
    assert r.vulnerabilities == {Vulnerability.CHRONIC_ILLNESS} and r.birth_year == 1949
    assert r.measure_since is not None
    with pytest.raises(Erased):
        h.require_identifiable(RID)
    # the registration itself, decoded afresh, no longer opens for that resident
    registered = second.mapper.to_domain_event(second.recorder.select_events(HID)[0])
    assert isinstance(registered, Household.Registered)
    erased, kept = registered.members
    assert erased.identity.erased and erased.identity.name is None
    assert kept.identity.name == OTHER_NAME

    # the other member and the address are still readable
    o = h.residents[OTHER]
    assert not o.erased and o.identity.name == OTHER_NAME
    assert o.identity.phone.reveal() == OTHER_PHONE
    assert not h.address.erased and h.address.text == ADDRESS
    with pytest.raises(Erased):
        second.erase_resident(HID, RID, "again", by=System.OPERATOR)

    # the last identifiable member takes the address with them
    second.erase_resident(HID, OTHER, "迁出后期满 retention over", by=System.OPERATOR)
    assert not {RID, OTHER, HID} & set(key_rows(second))
    third = make_app()
    h = third.household(HID)
    assert all(r.erased and r.identity.name is None for r in h.residents.values())
    assert h.address.erased and h.address.text is None and h.address.subject_id == HID
    assert len(h.residents) == 2 and third.node(ZONES[0]).households[HID] == 2
    assert h.residents[RID].health is Health.SUSPECTED
    assert h.household_no == NO and h.micro_grid == ZONES[0]
    # other households are untouched
    neighbour = third.household(household_id("712-1-0"))
    assert neighbour.residents[resident_id("712-1-0", 1)].identity.name == "张三"
    assert not neighbour.address.erased


def files_of(db: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(db.parent.glob(db.name + "*"))}


def where(needle: bytes, db: Path) -> list[str]:
    return [name for name, data in files_of(db).items() if needle in data]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_sqlite_files_hold_no_plaintext_and_lose_the_erased_key(store, make_app):
    db = Path(store["SQLITE_DBNAME"])
    app = make_app()
    given_a_household_to_erase(app)
    # enough later keys that the key table's pages split and move the resident's key about
    app.register_households([
        HouseholdRow(f"N-{i}", ZONES[1], f"{i}栋101", [new_member(f"N-{i}", 1, f"邻居{i}")])
        for i in range(600)], by=System.OPERATOR)
    app.erase_resident(household_id("N-7"), resident_id("N-7", 1), "purpose fulfilled",
                       by=System.OPERATOR)
    with sqlite3.connect(db) as c:
        row = c.execute(f"SELECT key FROM {KEY_TABLE} WHERE subject_id=?", (RID.hex,)).fetchone()
    c.close()
    key = bytes(row[0])
    # the (wrapped) key is on disk until it is erased
    assert len(key) == WRAPPED_LENGTH and where(key, db)
    for text in PLAINTEXTS:
        assert not where(text.encode(), db), text

    app.erase_resident(HID, RID, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    # once the erasure is committed, no file of the database holds the key any more:
    # neither the database file nor the write-ahead log
    assert not where(key, db)

    app.close()
    gc.collect()  # closed sqlite3 connections linger until their cursors are collected
    assert not where(key, db)
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()
    assert not where(key, db)
    for text in PLAINTEXTS:
        assert not where(text.encode(), db), text
    h = make_app().household(HID)
    assert h.residents[RID].erased and h.residents[OTHER].identity.name == OTHER_NAME


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_postgres_loses_the_key_row_and_stores_only_sealed_state(store, make_app):
    import psycopg

    app = make_app()
    given_a_household_to_erase(app)
    schema = store["POSTGRES_SCHEMA"]
    events = app.recorder.events_table_name  # type: ignore[attr-defined]

    def key_of(sid: UUID) -> bytes | None:
        with psycopg.connect(PG_DSN) as c:
            row = c.execute(f'SELECT key FROM "{schema}".{KEY_TABLE} WHERE subject_id=%s',
                            (sid,)).fetchone()
        return None if row is None else bytes(row[0])

    def states() -> list[bytes]:
        with psycopg.connect(PG_DSN) as c:
            return [bytes(r[0]) for r in c.execute(f'SELECT state FROM "{schema}".{events}')]

    key = key_of(RID)
    assert key is not None and len(key) == WRAPPED_LENGTH
    for text in PLAINTEXTS:
        assert not [s for s in states() if text.encode() in s], text

    app.erase_resident(HID, RID, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    assert key_of(RID) is None
    assert key_of(OTHER) is not None and key_of(HID) is not None
    stored = states()
    assert not [s for s in stored if key in s]
    for text in PLAINTEXTS:
        assert not [s for s in stored if text.encode() in s], text
    h = make_app().household(HID)
    assert h.residents[RID].erased and h.residents[RID].identity.name is None
    assert h.residents[OTHER].identity.name == OTHER_NAME


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_an_application_that_had_read_a_resident_cannot_read_them_after_erasure(make_app):
    app = make_app()
    given_a_household_to_erase(app)
    reader = make_app()
    registered = reader.recorder.select_events(HID)[0]
    assert reader.mapper.to_domain_event(registered).members[0].identity.name == NAME
    app.erase_resident(HID, RID, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    assert reader.household(HID).residents[RID].erased  # the erasure event itself applies
    assert reader.mapper.to_domain_event(registered).members[0].identity.name is None


def test_erasing_a_resident_erases_the_requests_they_filed(make_app):
    """Request texts are sealed under the request's own key: the resident's erasure destroys
    those keys in the same transaction, so what they asked reads back as erased too."""
    from gridcore.requests import RequestStatus
    from tests.scenario import COMMUNITY, given_community

    app = make_app()
    c = given_community(app, households_per_zone=1)
    hid = c.households[0]
    first, second = list(app.household(hid).residents)
    mine = app.file_request("hotline", "medical", "urgent", "张三需要胰岛素，电话见登记",
                            household=hid, resident=first, by=System.PUBLIC)
    theirs = app.file_request("online", "supplies", "normal", "李四想团购蔬菜",
                              household=hid, resident=second, by=System.PUBLIC)
    app.erase_resident(hid, first, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    later = make_app()
    erased, kept = later.request(mine.request_id), later.request(theirs.request_id)
    assert erased.details.erased and erased.details.text is None
    assert erased.status is RequestStatus.OPEN  # the statistics still count it
    assert kept.details.text == "李四想团购蔬菜"
    assert later.request_statistics(COMMUNITY).total == 2


def made_before_the_reshape(db: Path) -> None:
    """Give a store's key table the shape stores were made with before
    ``adapters.sqlite_store.KEY_TABLE_STATEMENTS``: clustered by subject (``WITHOUT ROWID``)."""
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA secure_delete=ON")
        c.execute(f"ALTER TABLE {KEY_TABLE} RENAME TO keys_now")
        c.execute(f"CREATE TABLE {KEY_TABLE} (subject_id TEXT PRIMARY KEY, key BLOB NOT NULL) "
                  "WITHOUT ROWID")
        c.execute(f"INSERT INTO {KEY_TABLE} SELECT subject_id, key FROM keys_now")
        c.execute("DROP TABLE keys_now")
    c.close()
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    c.close()


def stored_keys(db: Path) -> tuple[str, dict[str, bytes]]:
    """The key table's definition and its rows."""
    with sqlite3.connect(db) as c:
        sql = c.execute("SELECT sql FROM sqlite_schema WHERE name = ?", [KEY_TABLE]).fetchone()[0]
        rows = {r[0]: bytes(r[1]) for r in c.execute(f"SELECT subject_id, key FROM {KEY_TABLE}")}
    c.close()
    return sql, rows


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_an_older_key_table_is_moved_to_the_new_shape_and_keeps_no_copy_of_a_key_erased_later(
        store, make_app):
    db = Path(store["SQLITE_DBNAME"])
    app = make_app()
    given_a_household_to_erase(app)
    app.register_households([  # a bulk save: these households' keys are stored as packs
        HouseholdRow(f"N-{i}", ZONES[1], f"{i}栋101", [new_member(f"N-{i}", 1, f"邻居{i}")])
        for i in range(300)], by=System.OPERATOR)
    app.close()
    gc.collect()
    made_before_the_reshape(db)
    old_sql, old = stored_keys(db)
    assert "WITHOUT ROWID" in old_sql

    second = make_app()  # opening the store moves the keys
    sql, moved = stored_keys(db)
    assert "WITHOUT ROWID" not in sql.upper() and moved == old
    with sqlite3.connect(db) as c:
        unique = {r[1]: r[2] for r in c.execute(f"PRAGMA index_list({KEY_TABLE})")}
        assert unique == {f"{KEY_TABLE}_subject": 1}
        with pytest.raises(sqlite3.IntegrityError):
            c.execute(f"INSERT INTO {KEY_TABLE} (subject_id, key) VALUES (?, ?)",
                      [RID.hex, b"another"])
    c.close()
    assert second.household(HID).residents[RID].identity.name == NAME
    neighbour, member = household_id("N-7"), resident_id("N-7", 1)
    assert second.household(neighbour).residents[member].identity.name == "邻居7"

    # erased after the move: no file holds the key, nor the pack it was in, not even the
    # dropped table's pages
    second.erase_resident(HID, RID, "purpose fulfilled", by=System.OPERATOR)
    second.erase_resident(neighbour, member, "purpose fulfilled", by=System.OPERATOR)
    second.close()
    gc.collect()
    for gone in (old[RID.hex], old[neighbour.hex]):
        assert not where(gone, db)
    third = make_app()
    assert third.household(HID).residents[OTHER].identity.name == OTHER_NAME
    assert third.household(neighbour).residents[member].erased
    assert stored_keys(db)[0] == sql  # moved once
