"""The projections' lean decoder gives, for every stored event class, the same values as the
full decoder, except what it documents: ids as canonical text and personal values as None."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.utils import resolve_topic
from pydantic import BaseModel

from gridcore.authority import System
from gridcore.base import Personal
from projections.decode import LeanDecoder, canonical_id
from projections.log import log_reader
from tests.fixtures.make_event_fixtures import EVENTS_DIR
from tests.stores.test_event_versions import plain_mapper, stored


def fixtures() -> list[Path]:
    return sorted(EVENTS_DIR.glob("*.json"))


def lean_view(value: Any) -> Any:
    """What the lean decoder should give for a fully decoded value."""
    if isinstance(value, Personal):
        return None
    if isinstance(value, BaseModel):
        return (type(value), {k: lean_view(getattr(value, k)) for k in type(value).model_fields})
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [lean_view(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(map(repr, map(lean_view, value)))
    if isinstance(value, dict):
        return {lean_view(k): lean_view(v) for k, v in value.items()}
    return value


def as_is(value: Any) -> Any:
    """The lean value in the same comparable form (nothing converted)."""
    if isinstance(value, BaseModel):
        return (type(value), {k: as_is(getattr(value, k)) for k in type(value).model_fields})
    if isinstance(value, list | tuple):
        return [as_is(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(map(repr, map(as_is, value)))
    if isinstance(value, dict):
        return {as_is(k): as_is(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("path", fixtures(), ids=lambda p: p.stem)
@pytest.mark.parametrize("id_form", ["hex", "text"])
def test_lean_decoding_matches_full_decoding(path: Path, id_form: str) -> None:
    record = json.loads(path.read_text(encoding="utf-8"))
    full = plain_mapper().to_domain_event(stored(record))
    oid = UUID(record["originator_id"])
    row = (1, oid.hex if id_form == "hex" else str(oid), record["originator_version"],
           record["topic"], base64.b64decode(record["state"]))
    lean = LeanDecoder().decode(row)
    assert type(lean) is resolve_topic(record["topic"])
    assert lean.originator_id == str(oid)
    assert as_is(lean) == lean_view(full)


def test_lean_values_keep_their_types() -> None:
    """Times are datetimes, enums are members: projections call their methods."""
    seen: set[type] = set()
    for path in fixtures():
        record = json.loads(path.read_text(encoding="utf-8"))
        lean = LeanDecoder().decode((1, record["originator_id"], record["originator_version"],
                                     record["topic"], base64.b64decode(record["state"])))
        assert isinstance(lean.timestamp, datetime) and lean.timestamp.tzinfo is not None
        for name in type(lean).model_fields:
            value = getattr(lean, name)
            if isinstance(value, Enum):
                seen.add(Enum)
            if isinstance(value, Personal):
                pytest.fail(f"{path.stem}.{name} kept a personal value")
    assert Enum in seen


def test_canonical_ids_from_either_database() -> None:
    u = UUID("74a8d077-e4d9-5a57-b605-7ed64cd340c6")
    assert canonical_id(u.hex) == canonical_id(str(u)) == canonical_id(u) == str(u)


def test_the_log_reader_gives_the_rows_select_notifications_gives(store, make_app):
    """The plain-row reader of each database reads what the library's reader does."""
    from tests.scenario import given_community

    app = make_app()
    given_community(app)
    last = app.recorder.max_notification_id()
    topics = sorted({n.topic for n in app.recorder.select_notifications(start=1, limit=10**6)})
    some = topics[::2]
    reader = log_reader(app.recorder)
    if store["PERSISTENCE_MODULE"] != "adapters.memory_store":
        assert type(reader).__name__ != "LogReader"  # the database's own reader
    for after, upto, limit, chosen in [(0, last, 10**6, topics), (3, last - 2, 7, some),
                                       (0, last, 1, topics[:1]), (last, last, 5, topics)]:
        rows = reader.read(after, upto, limit, chosen)
        notes = app.recorder.select_notifications(start=after + 1, limit=limit, stop=upto,
                                                  topics=chosen)
        assert [(r[0], canonical_id(r[1]), r[2], r[3], bytes(r[4])) for r in rows] == [
            (n.id, str(n.originator_id), n.originator_version, n.topic, bytes(n.state))
            for n in notes]



def test_members_vulnerabilities_and_birth_years_decode_as_validated(store, make_app):
    """The grid rollup reads registered and added members' vulnerabilities and birth years
    (the stored fixtures hold empty lists only): as the full decoder gives them."""
    from gridcore.application import new_member
    from gridcore.household import Vulnerability
    from tests.scenario import ZONES, given_community

    app = make_app()
    given_community(app)
    marks = [Vulnerability.PREGNANCY, Vulnerability.CHRONIC_ILLNESS]
    app.register_household("d-1", ZONES[0], "1号", [
        new_member("d-1", 1, "某某", None, None, 1941, marks), new_member("d-1", 2, "某某")],
            by=System.OPERATOR)
    hid = app.household_by_no("d-1").id
    app.add_member(hid, new_member("d-1", 3, "某某", None, None, 2001,
                                   [Vulnerability.DISABILITY]), by=System.OPERATOR)
    topics = [f"gridcore.household:Household.{n}" for n in ("Registered", "MemberAdded")]
    last = app.recorder.max_notification_id()
    rows = log_reader(app.recorder).read(0, last, 10**6, topics)
    lean = [e for _, _, e in LeanDecoder(app.mapper).decode_all(rows)
            if e.originator_id == str(hid)]
    full = [app.mapper.to_domain_event(n) for n in app.recorder.select_notifications(
        start=1, limit=10**6, stop=last, topics=topics) if n.originator_id == hid]
    assert len(lean) == len(full) == 2
    assert [as_is(e) for e in lean] == [lean_view(e) for e in full]
    registered, added = lean
    assert [(m.birth_year, m.vulnerabilities) for m in registered.members] == [
        (1941, marks), (None, [])]
    assert all(type(v) is Vulnerability for v in registered.members[0].vulnerabilities)
    assert (added.member.birth_year, added.member.vulnerabilities) == (
        2001, [Vulnerability.DISABILITY])
