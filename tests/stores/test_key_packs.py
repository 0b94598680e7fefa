"""Packed keys: a bulk registration stores each household's keys (its address's and its
residents') as one row, and erasing one resident still destroys that resident's key alone."""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from adapters.kek import is_pack
from adapters.vault import KEY_TABLE, PACK_FROM
from gridcore.application import GridcoreApp, HouseholdRow, new_member
from gridcore.authority import System
from gridcore.household import household_id, resident_id
from tests.scenario import ZONES, given_community
from tests.stores import key_rows, subject_keys

HOUSEHOLDS = PACK_FROM  # 3 keys each: well past the threshold


def name(no: str, m: int) -> str:
    return f"住户{no}之{m}"


def given_a_bulk_registration(app: GridcoreApp) -> int:
    """The key rows before the bulk registration."""
    given_community(app, households_per_zone=1)
    before = len(key_rows(app))
    rows = [HouseholdRow(f"P-{i}", ZONES[i % 2], f"{i}栋{i}号",
                         [new_member(f"P-{i}", m, name(f"P-{i}", m), f"1380000{i:04d}")
                          for m in (1, 2)]) for i in range(HOUSEHOLDS)]
    app.register_households(rows, by=System.OPERATOR)
    return before


def keys_of_row(app: GridcoreApp, row: Any) -> set[Any]:
    vault: Any = app.factory.vault  # type: ignore[attr-defined]
    return set(vault.ring.unwrap_row(row, key_rows(app)[row]))


def test_a_bulk_registration_stores_a_row_per_household(make_app):
    app = make_app()
    before = given_a_bulk_registration(app)
    rows = key_rows(app)
    hid = household_id("P-7")
    assert is_pack(rows[hid]) and len(rows) - before == HOUSEHOLDS
    assert resident_id("P-7", 1) not in rows  # in the household's pack, not a row of its own
    assert keys_of_row(app, hid) == {hid, resident_id("P-7", 1), resident_id("P-7", 2)}
    assert sum(is_pack(k) for k in rows.values()) == HOUSEHOLDS
    assert subject_keys(app) == before + 3 * HOUSEHOLDS  # given_community's: a row each
    h = make_app().household(hid)
    assert h.residents[resident_id("P-7", 2)].identity.name == name("P-7", 2)
    assert h.address.text == "7栋7号"


def test_erasing_a_packed_resident_destroys_only_their_key(make_app):
    app = make_app()
    given_a_bulk_registration(app)
    hid, rid, other = household_id("P-9"), resident_id("P-9", 1), resident_id("P-9", 2)
    app.erase_resident(hid, rid, "防控目的已完成 purpose fulfilled", by=System.OPERATOR)
    assert keys_of_row(app, hid) == {hid, other}

    second = make_app()
    h = second.household(hid)
    assert h.residents[rid].erased and h.residents[rid].identity.name is None
    assert h.residents[other].identity.name == name("P-9", 2)
    assert h.address.text == "9栋9号" and not h.address.erased
    assert second.household(household_id("P-10")).residents[
        resident_id("P-10", 1)].identity.name == name("P-10", 1)

    # the last member takes the address, and with it the pack's last key: the row goes
    second.erase_resident(hid, other, "迁出后期满 retention over", by=System.OPERATOR)
    assert hid not in key_rows(second)
    h = make_app().household(hid)
    assert h.address.erased and all(r.erased for r in h.residents.values())
    # a later change of a packed household still finds its keys in the pack
    app.move_household(household_id("P-11"), ZONES[1], address="新址11号", by=System.OPERATOR)
    moved = make_app().household(household_id("P-11"))
    assert moved.address.text == "新址11号"
    assert moved.residents[resident_id("P-11", 1)].identity.name == name("P-11", 1)
    assert keys_of_row(app, household_id("P-11")) == {
        household_id("P-11"), resident_id("P-11", 1), resident_id("P-11", 2)}


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_sqlite_files_lose_the_pack_as_it_was_before_the_erasure(store, make_app):
    db = Path(store["SQLITE_DBNAME"])
    app = make_app()
    given_a_bulk_registration(app)
    hid = household_id("P-3")
    packed = key_rows(app)[hid]
    assert any(packed in p.read_bytes() for p in db.parent.glob(db.name + "*"))
    app.erase_resident(hid, resident_id("P-3", 2), "purpose fulfilled", by=System.OPERATOR)
    app.close()
    gc.collect()
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert c.execute(f"SELECT count(*) FROM {KEY_TABLE}").fetchone()[0] > HOUSEHOLDS
    c.close()
    assert not [p.name for p in db.parent.glob(db.name + "*") if packed in p.read_bytes()]
