"""The direct encoder of registrations (``adapters.codec._registered_state``) stores the very
bytes pydantic's ``model_dump`` would, and they decode to the same event, sealed or not, with
erased subjects and every optional field drawn."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.codec import _DIRECT, _EXCLUDE, OrjsonTranscoder, PydanticMapper
from adapters.vault import KeyVault
from gridcore.household import Household, Member, Vulnerability, new_member
from gridcore.identity import Address, ResidentIdentity

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

storable = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                   min_size=1, max_size=12).filter(str.strip)
addresses = storable.map(lambda t: t + "号")


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    body = draw(st.from_regex(r"\A[1-9]\d{16}\Z"))
    total = sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True))
    return body + "10X98765432"[total % 11]


@st.composite
def members(draw: st.DrawFn, household_no: str, number: int) -> Member:
    member = new_member(
        household_no, number, draw(storable),
        draw(st.none() | st.from_regex(r"\A1[3-9]\d{9}\Z") | st.just("0532-88889999")),
        draw(st.none() | id_numbers()), draw(st.none() | st.integers(1890, 2100)),
        draw(st.lists(st.sampled_from(list(Vulnerability)), max_size=3)))
    if draw(st.booleans()) and draw(st.booleans()):  # erased: stored as it is, not sealed
        member = member.model_copy(update={"identity": ResidentIdentity(
            subject_id=member.resident_id, erased=True)})
    return member


@st.composite
def registrations(draw: st.DrawFn) -> Household.Registered:
    no = draw(st.from_regex(r"\A[A-Z0-9-]{1,10}\Z"))
    size = draw(st.integers(1, 5))
    at = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(
        microseconds=draw(st.integers(0, 10**15)))
    household = Household.register(no, "420102001-001", draw(addresses),
                                   [draw(members(no, n)) for n in range(1, size + 1)], at,
                                   draw(st.none() | st.uuids()))
    event = household.collect_events()[0]
    if draw(st.booleans()) and draw(st.booleans()):
        event = event.model_copy(update={"address": Address(subject_id=event.originator_id,
                                                            erased=True)})
    assert isinstance(event, Household.Registered)
    return event


def fake_seal(sid: UUID, data: dict[str, Any]) -> dict[str, Any]:
    """Deterministic, so two encodings of one event can be compared byte for byte."""
    return {"subject_id": data["subject_id"],
            "sealed": orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS).hex() + sid.hex}


def test_the_direct_encoder_is_on_for_the_current_registration_shape():
    assert Household.Registered in _DIRECT


@settings(max_examples=300, deadline=None)
@given(registrations(), st.sampled_from([fake_seal, None]))
def test_a_registration_encodes_to_the_bytes_pydantic_would_store(event, seal):
    transcoder = OrjsonTranscoder()
    context = None if seal is None else {"seal": seal}
    expected = transcoder.encode(event.model_dump(exclude=_EXCLUDE, context=context))
    assert transcoder.encode(_DIRECT[Household.Registered](event, seal)) == expected


@settings(max_examples=100, deadline=None)
@given(registrations())
def test_a_directly_encoded_registration_decodes_to_the_same_event(event):
    keys: dict[UUID, bytes] = {}
    vault = KeyVault(lambda ids: {i: keys[i] for i in ids if i in keys})
    mapper = PydanticMapper(transcoder=OrjsonTranscoder())
    mapper.vault = vault
    stored = mapper.to_stored_event(event)
    new, _ = vault.take_pending_stored()
    keys.update(new)
    vault.committed()
    assert mapper.to_domain_event(stored) == event
