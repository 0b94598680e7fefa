"""The database alone reveals no personal data: subject keys are stored wrapped with a
key-encryption key (KEK) kept outside it, the SQLite files are owner-only, and a rotation
re-wraps every key under a new KEK after which the retired one opens nothing."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import stat
from base64 import b64decode, b64encode
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.kek import (
    KEK_ENV,
    KEK_FILE_ENV,
    RAW_KEY_LENGTH,
    WRAPPED_LENGTH,
    KekError,
    KeyRing,
    kek_id,
    load_ring,
    new_kek,
    parse_keks,
    write_kek_file,
)
from adapters.key_rotation import rotate_store_keys
from adapters.settings import scratch_schema, sqlite_env
from adapters.vault import KEY_TABLE
from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.household import household_id, resident_id
from projections import all_projections
from projections.runner import Runner
from tests.conftest import PG_DSN, need_postgres
from tests.scenario import ZONES, given_community
from tests.stores import key_rows

NO = "KW-1"
NAME, PHONE, ID_NUMBER = "欧阳娜娜", "13598765432", "11010519491231002X"
ADDRESS = "幸福路88号3栋2单元1101"
PERSONAL = [NAME, PHONE, ID_NUMBER, ADDRESS, "幸福路88号"]
HID, RID = household_id(NO), resident_id(NO, 1)


def given_a_resident(app: GridcoreApp) -> None:
    given_community(app, households_per_zone=1)
    app.register_household(NO, ZONES[0], ADDRESS, [new_member(NO, 1, NAME, PHONE, ID_NUMBER,
                                                              1949)], by=System.OPERATOR)


def name_of(app: GridcoreApp) -> str | None:
    return app.household(HID).residents[RID].identity.name


@pytest.fixture
def sqlite_store(tmp_path: Path) -> dict[str, str]:
    return {**sqlite_env(tmp_path / "db" / "gridcore.sqlite"),
            KEK_FILE_ENV: str(tmp_path / "secrets" / "gridcore.kek")}


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    kek = {KEK_FILE_ENV: str(tmp_path / "secrets" / "gridcore.kek")}
    if request.param == "sqlite":
        yield {**sqlite_env(tmp_path / "db" / "gridcore.sqlite"), **kek}
        return
    need_postgres()
    with scratch_schema(PG_DSN, "t") as (_, env):
        yield {**env, **kek}


def mode(path: Path | str) -> int:
    return stat.S_IMODE(Path(path).stat().st_mode)


def sqlite_dump(db: Path) -> bytes:
    """Every value of every table of a SQLite file, as bytes, read with plain sqlite3."""
    out = bytearray()
    with sqlite3.connect(db) as c:
        tables = [r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        assert KEY_TABLE in tables and "stored_events" in tables
        for table in tables:
            for row in c.execute(f'SELECT * FROM "{table}"'):
                for value in row:
                    out += value if isinstance(value, bytes) else str(value).encode()
    c.close()
    return bytes(out)


def postgres_dump(env: dict[str, str]) -> bytes:
    import psycopg

    schema = env["POSTGRES_SCHEMA"]
    out = bytearray()
    with psycopg.connect(PG_DSN) as c:
        tables = [r[0] for r in c.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema=%s", (schema,))]
        assert KEY_TABLE in tables
        for table in tables:
            for row in c.execute(f'SELECT * FROM "{schema}"."{table}"'):
                for value in row:
                    out += bytes(value) if isinstance(value, (bytes, memoryview)) \
                        else str(value).encode()
    return bytes(out)


def sealed_values(state: Any) -> Iterator[dict[str, str]]:
    if isinstance(state, dict):
        if "sealed" in state and "subject_id" in state:
            yield state
        for value in state.values():
            yield from sealed_values(value)
    elif isinstance(state, list):
        for value in state:
            yield from sealed_values(value)


def opened_with_the_file_alone(db: Path) -> list[dict[str, Any]]:
    """What an attacker holding only the file opens: every sealed value of the events tried
    with every 32-byte slice of its subject's key row."""
    with sqlite3.connect(db) as c:
        keys = {UUID(r[0]): bytes(r[1]) for r in c.execute(f"SELECT * FROM {KEY_TABLE}")}
        states = [orjson.loads(r[0]) for r in c.execute("SELECT state FROM stored_events")]
    c.close()
    opened, tried = [], 0
    for state in states:
        for sealed in sealed_values(state):
            sid = UUID(sealed["subject_id"])
            blob, row = b64decode(sealed["sealed"]), keys.get(sid, b"")
            for i in range(max(0, len(row) - 31)):
                tried += 1
                with contextlib.suppress(InvalidTag):
                    opened.append(orjson.loads(AESGCM(row[i:i + 32]).decrypt(
                        blob[:12], blob[12:], sid.bytes)))
    assert tried > 0
    return opened


def assert_no_personal_data(data: bytes) -> None:
    for text in PERSONAL:
        assert text.encode() not in data, text
    assert PHONE[3:].encode() not in data and ID_NUMBER[:14].encode() not in data


def test_a_copy_of_the_sqlite_file_alone_holds_no_readable_personal_field(sqlite_store,
                                                                          tmp_path):
    app = GridcoreApp(sqlite_store)
    given_a_resident(app)
    runner = Runner(app, all_projections())  # the read models live in the same file
    runner.catch_up()
    app.close()
    db = Path(sqlite_store["SQLITE_DBNAME"])
    copy = tmp_path / "elsewhere" / "copy.sqlite"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)  # the file alone: no -wal, no KEK

    assert_no_personal_data(copy.read_bytes())
    assert_no_personal_data(sqlite_dump(copy))
    with sqlite3.connect(copy) as c:
        stored = [bytes(r[0]) for r in c.execute(f"SELECT key FROM {KEY_TABLE}")]
    c.close()
    assert stored and all(len(k) == WRAPPED_LENGTH for k in stored)
    assert opened_with_the_file_alone(copy) == []

    # opened by the application with another KEK: a clear error, not garbage or a crash
    stranger = GridcoreApp({**sqlite_env(copy), KEK_FILE_ENV: str(tmp_path / "other.kek")})
    with pytest.raises(KekError, match=f"{KEK_ENV} or {KEK_FILE_ENV}"):
        name_of(stranger)
    # nor does it write keys the store's own KEK could not open
    written = stranger.recorder.max_notification_id()
    with pytest.raises(KekError, match="not among the keys"):
        stranger.register_household("KW-9", ZONES[0], "幸福路9号", [new_member("KW-9", 1, "某")],
                                    by=System.OPERATOR)
    assert stranger.recorder.max_notification_id() == written
    stranger.close()

    # with the store's KEK the copy opens
    friend = GridcoreApp({**sqlite_env(copy), KEK_FILE_ENV: sqlite_store[KEK_FILE_ENV]})
    assert name_of(friend) == NAME
    friend.close()


def test_the_postgres_tables_hold_no_readable_personal_field(tmp_path):
    need_postgres()
    with scratch_schema(PG_DSN, "t") as (_, env):
        store = {**env, KEK_FILE_ENV: str(tmp_path / "gridcore.kek")}
        app = GridcoreApp(store)
        given_a_resident(app)
        assert all(len(k) == WRAPPED_LENGTH for k in key_rows(app).values())
        assert_no_personal_data(postgres_dump(env))
        app.close()
        stranger = GridcoreApp({**env, KEK_FILE_ENV: str(tmp_path / "other.kek")})
        with pytest.raises(KekError, match="not among the keys"):
            name_of(stranger)
        stranger.close()


def test_the_sqlite_files_and_the_kek_file_are_owner_only(sqlite_store):
    app = GridcoreApp(sqlite_store)
    given_a_resident(app)
    db = Path(sqlite_store["SQLITE_DBNAME"])
    files = [p for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]
    assert Path(f"{db}-wal") in files
    assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    assert mode(sqlite_store[KEK_FILE_ENV]) == 0o600
    app.close()


def test_an_existing_world_readable_database_is_made_owner_only(tmp_path):
    db = tmp_path / "old.sqlite"
    sqlite3.connect(db).close()
    db.chmod(0o644)
    GridcoreApp({**sqlite_env(db), KEK_FILE_ENV: str(tmp_path / "k")}).close()
    assert mode(db) == 0o600


def _unwrap_all_in_place(app: GridcoreApp) -> None:
    """Turn a store back into one written before wrapping: raw keys in the key table."""
    ring = app.factory.vault.ring
    recorder: Any = app.recorder
    raw = {sid: ring.unwrap(sid, key) for sid, key in key_rows(app).items()}
    with recorder.datastore.transaction(commit=True) as c:
        for sid, key in raw.items():
            if recorder.__class__.__module__ == "adapters.sqlite_store":
                c.execute(f"UPDATE {KEY_TABLE} SET key=? WHERE subject_id=?", (key, sid.hex))
            else:
                c.execute(f'UPDATE "{recorder.datastore.schema}".{KEY_TABLE} SET key=%s '
                          "WHERE subject_id=%s", (key, sid))


def test_a_store_written_before_wrapping_is_wrapped_when_opened(any_store):
    app = GridcoreApp(any_store)
    given_a_resident(app)
    _unwrap_all_in_place(app)
    assert all(len(k) == RAW_KEY_LENGTH for k in key_rows(app).values())
    app.close()
    raw: list[bytes] = []
    if "SQLITE_DBNAME" in any_store:  # before wrapping, the file alone opened everything
        db = Path(any_store["SQLITE_DBNAME"])
        opened = opened_with_the_file_alone(db)
        assert NAME in {o.get("name") for o in opened}
        with sqlite3.connect(db) as c:
            raw = [bytes(r[0]) for r in c.execute(f"SELECT key FROM {KEY_TABLE}")]
        c.close()

    reopened = GridcoreApp(any_store)
    keys = key_rows(reopened)
    assert keys and all(len(k) == WRAPPED_LENGTH for k in keys.values())
    assert name_of(reopened) == NAME
    reopened.close()
    if raw:  # and no copy of a raw key is left in the file (overwritten, WAL checkpointed)
        db = Path(any_store["SQLITE_DBNAME"])
        files = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
        assert not [k for k in raw if k in files]
        assert opened_with_the_file_alone(db) == []


def test_rotation_rewraps_every_key_and_retires_the_old_kek(any_store):
    app = GridcoreApp(any_store)
    given_a_resident(app)
    kek_path = Path(any_store[KEK_FILE_ENV])
    old = load_ring(any_store)
    before = key_rows(app)

    result = rotate_store_keys(app)
    new = load_ring(any_store)
    assert len(new.keks) == 1 and new.keks[0] not in old.keks
    assert result.current == new.ids()[0] and result.retired == old.ids()
    assert result.rewrapped == len(before) > 0
    after = key_rows(app)
    assert all(k[1:9] == kek_id(new.keks[0]) and k != before[sid] for sid, k in after.items())
    if "SQLITE_DBNAME" in any_store:  # the blobs the old KEK opened are gone from the files
        db = Path(any_store["SQLITE_DBNAME"])
        files = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
        assert not [k for k in before.values() if k in files]
    assert mode(kek_path) == 0o600
    # the rotating application goes on reading and writing under the new KEK
    assert name_of(app) == NAME
    app.register_household("KW-2", ZONES[0], "幸福路90号", [new_member("KW-2", 1, "新住户")],
                           by=System.OPERATOR)
    app.close()

    with_new = GridcoreApp(any_store)
    assert name_of(with_new) == NAME
    assert with_new.household(household_id("KW-2")).residents[
        resident_id("KW-2", 1)].identity.name == "新住户"
    with_new.close()

    with_old_only = GridcoreApp({**any_store, KEK_ENV: b64encode(old.keks[0]).decode()})
    with pytest.raises(KekError, match="not among the keys"):
        name_of(with_old_only)
    with_old_only.close()


def test_rotation_under_gridcore_kek_wraps_with_its_first_key(sqlite_store):
    first, second = new_kek(), new_kek()
    store = {**sqlite_store, KEK_ENV: first.hex()}
    app = GridcoreApp(store)
    given_a_resident(app)
    app.close()
    rotated = {**sqlite_store, KEK_ENV: f"{b64encode(second).decode()},{first.hex()}"}
    app = GridcoreApp(rotated)
    result = rotate_store_keys(app)
    assert result.current == kek_id(second).hex()
    # the variable is not the command's to edit, and a writer started with its old value still
    # wraps with the old key: nothing is called retired, the old key is reported kept
    assert result.retired == [] and result.kept == [kek_id(first).hex()]
    assert all(k[1:9] == kek_id(second) for k in key_rows(app).values())
    app.close()
    only_new = GridcoreApp({**sqlite_store, KEK_ENV: b64encode(second).decode()})
    assert name_of(only_new) == NAME
    only_new.close()
    assert not Path(sqlite_store[KEK_FILE_ENV]).exists()  # no file made when the key is given


def test_production_needs_an_explicit_kek(tmp_path):
    missing = tmp_path / "absent.kek"
    with pytest.raises(KekError, match="production needs"):
        load_ring({"GRIDCORE_API_MODE": "production", KEK_FILE_ENV: str(missing)})
    assert not missing.exists()
    ring = load_ring({KEK_FILE_ENV: str(missing)})  # development: made once, then reused
    assert mode(missing) == 0o600 and load_ring({KEK_FILE_ENV: str(missing)}) == ring


def test_malformed_keks_are_refused_with_the_variable_named():
    with pytest.raises(KekError, match="Key 1 of GRIDCORE_KEK"):
        parse_keks("not-a-key", KEK_ENV)
    with pytest.raises(KekError, match="no key-encryption key"):
        parse_keks("# only a comment\n", KEK_ENV)
    key = new_kek()
    assert parse_keks(f"{key.hex()}\n# old:\n{b64encode(key).decode()}", "f") == (key, key)


def test_a_wrapped_key_opens_only_for_its_own_subject():
    ring = KeyRing((new_kek(),), "test")
    a, b = resident_id("X", 1), resident_id("X", 2)
    key = new_kek()
    assert ring.unwrap(a, ring.wrap(a, key)) == key
    with pytest.raises(KekError, match="damaged"):
        ring.unwrap(b, ring.wrap(a, key))  # a row copied onto another subject opens nothing


def name_in(app: GridcoreApp, no: str) -> str | None:
    return app.household(household_id(no)).residents[resident_id(no, 1)].identity.name


def register(app: GridcoreApp, no: str) -> None:
    app.register_household(no, ZONES[0], f"幸福路{no}号", [new_member(no, 1, f"住户{no}")],
                           by=System.OPERATOR)


def test_a_server_running_through_a_rotation_writes_and_reads_under_the_new_kek(any_store):
    """`gridcore serve` keeps running while `gridcore keys rotate` runs: what it files during
    and after the rotation stays readable once the old KEK is dropped from the file."""
    app = GridcoreApp(any_store)
    given_a_resident(app)
    server = GridcoreApp(any_store)  # opened before the rotation, its KEKs read
    reader = GridcoreApp(any_store)  # one that only reads
    assert name_of(server) == NAME and name_of(reader) == NAME
    old = load_ring(any_store)

    def writer(step: str) -> None:
        if step == "written":  # the new KEK is first in the file, the old one still there
            register(server, "KW-3")
            newest = load_ring(any_store).newest_id
            assert newest not in {kek_id(k) for k in old.keks}
            assert key_rows(app)[resident_id("KW-3", 1)][1:9] == newest  # not the old KEK

    result = rotate_store_keys(app, observe=writer)
    new = load_ring(any_store)
    assert len(new.keks) == 1 and new.keks[0] not in old.keks
    register(server, "KW-4")  # after the whole rotation
    assert result.retired == old.ids()
    assert {k[1:9] for k in key_rows(app).values()} == {new.newest_id}
    assert name_of(reader) == NAME  # re-wrapped under a KEK it had not read: it looks again
    for opened in (server, reader):
        assert [name_in(opened, n) for n in ("KW-3", "KW-4")] == ["住户KW-3", "住户KW-4"]
    for a in (app, server, reader):
        a.close()
    fresh = GridcoreApp(any_store)  # the file holds only the new KEK
    assert name_of(fresh) == NAME and name_in(fresh, "KW-3") == "住户KW-3"
    assert name_in(fresh, "KW-4") == "住户KW-4"
    fresh.close()


def test_a_key_wrapped_with_the_old_kek_during_the_rotation_is_caught(sqlite_store,
                                                                      monkeypatch):
    """A save that wrapped with the old KEK just before the file changed (simulated: a writer
    that does not look at the file) is re-wrapped by a further round before the old KEK goes;
    one that never stops doing so makes the rotation stop with both KEKs kept."""
    app = GridcoreApp(sqlite_store)
    given_a_resident(app)
    stale = GridcoreApp(sqlite_store)
    assert name_of(stale) == NAME
    old = load_ring(sqlite_store)
    monkeypatch.setattr(stale.factory.vault, "fresh_ring", lambda: old)
    rounds: list[str] = []

    def once(step: str) -> None:
        if step == "rewrapped":
            rounds.append(step)
            if len(rounds) == 1:
                register(stale, "KW-5")

    rotate_store_keys(app, observe=once)
    assert len(rounds) == 2
    new = load_ring(sqlite_store)
    assert len(new.keks) == 1 and {k[1:9] for k in key_rows(app).values()} == {new.newest_id}

    n = iter(range(6, 100))
    old = new
    with pytest.raises(KekError, match="After 3 rounds of re-wrapping, 2 subject keys are "
                                       "still wrapped with an old key-encryption key"):
        rotate_store_keys(app, rounds=3,
                          observe=lambda step: step == "rewrapped" and register(
                              stale, f"KW-{next(n)}"))
    kept = load_ring(sqlite_store)
    assert len(kept.keks) == 2 and kept.keks[1] == old.keks[0]  # nothing dropped
    app.close()
    stale.close()
    fresh = GridcoreApp(sqlite_store)
    assert [name_in(fresh, f"KW-{i}") for i in (5, 6, 7, 8)] == [
        f"住户KW-{i}" for i in (5, 6, 7, 8)]
    fresh.close()


def test_a_rotation_that_would_lose_keys_writes_nothing(sqlite_store, tmp_path, monkeypatch):
    """Keys wrapped with a KEK missing from the file: the rotation names it and how many keys
    it wraps, exits 2 and leaves the file as it was; one record's refusal names that record."""
    app = GridcoreApp(sqlite_store)
    given_a_resident(app)
    assert name_of(app) == NAME
    path = Path(sqlite_store[KEK_FILE_ENV])
    ring = load_ring(sqlite_store)
    lost = new_kek()
    write_kek_file(path, (lost, *ring.keks))  # a writer wraps with it, then it is lost
    register(app, "KW-9")
    wrapped = sum(1 for k in key_rows(app).values() if k[1:9] == kek_id(lost))
    assert wrapped >= 1
    write_kek_file(path, ring.keks)
    register(app, "KW-10")  # a save looks at the file: the lost KEK is gone from it
    before = path.read_bytes()

    with pytest.raises(KekError) as refused:
        rotate_store_keys(app)
    assert f"{kek_id(lost).hex()} ({wrapped} keys)" in str(refused.value)
    assert "Nothing was changed" in str(refused.value)
    assert path.read_bytes() == before
    with pytest.raises(KekError) as unreadable:
        name_in(app, "KW-9")
    said = str(unreadable.value)
    lost_subjects = {sid for sid, k in key_rows(app).items() if k[1:9] == kek_id(lost)}
    assert any(said.startswith(f"The key of subject {sid} is wrapped with key-encryption key "
                               f"{kek_id(lost).hex()}, which is not among the keys of {path}")
               for sid in lost_subjects), said
    assert f"{wrapped} subject key" in said and "put the retired KEK back" in said
    assert name_of(app) == NAME  # the others still open
    app.close()

    for name, value in (("GRIDCORE_STORE", "sqlite"),
                        ("GRIDCORE_SQLITE_PATH", sqlite_store["SQLITE_DBNAME"]),
                        (KEK_FILE_ENV, str(path))):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(KEK_ENV, raising=False)
    for _ in range(2):  # no new key piles up at the top of the file
        ran = CliRunner().invoke(cli, ["keys", "rotate"])
        assert ran.exit_code == 2, ran.output
        assert kek_id(lost).hex() in ran.output and path.read_bytes() == before


def test_rotating_twice_in_a_row(any_store):
    app = GridcoreApp(any_store)
    given_a_resident(app)
    first = rotate_store_keys(app)
    second = rotate_store_keys(app)
    assert second.retired == [first.current] and second.current != first.current
    assert load_ring(any_store).ids() == [second.current]
    assert {k[1:9].hex() for k in key_rows(app).values()} == {second.current}
    assert second.rewrapped == first.rewrapped == len(key_rows(app))
    app.close()
    again = GridcoreApp(any_store)
    assert name_of(again) == NAME
    again.close()
