"""``new_member`` fills its models directly (``trusted``) after checking every field itself:
the members it builds equal those pydantic validates from the same values, stored and read
back alike, and what it refuses it refuses with what would be right."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.errors import InvalidInput
from gridcore.household import Member, Vulnerability, new_member, resident_id
from gridcore.identity import IdNumber, Phone, ResidentIdentity
from tests.stores.test_codec_direct import id_numbers, storable

phones = st.none() | st.just("") | st.from_regex(r"\A1[3-9]\d{9}\Z") | st.just(
    " 0532-88889999 ") | st.just("+8613812345678")


@settings(max_examples=300, deadline=None)
@given(no=st.from_regex(r"\A[A-Z0-9-]{1,10}\Z"), number=st.integers(1, 20), name=storable,
       phone=phones, id_number=st.none() | id_numbers(),
       birth_year=st.none() | st.integers(1890, 2100),
       marks=st.lists(st.sampled_from(list(Vulnerability)) | st.sampled_from(
           [v.value for v in Vulnerability]), max_size=3))
def test_a_member_equals_the_one_pydantic_validates(no, number, name, phone, id_number,
                                                   birth_year, marks):
    built = new_member(no, number, name, phone, id_number, birth_year, marks)
    rid = resident_id(no, number)
    validated = Member(
        resident_id=rid, birth_year=birth_year, vulnerabilities=marks,
        identity=ResidentIdentity(subject_id=rid, name=name,
                                  phone=Phone.parse(phone) if phone and phone.strip() else None,
                                  id_number=IdNumber.parse(id_number) if id_number else None))
    assert built == validated
    assert built.model_dump() == validated.model_dump()
    assert orjson.dumps(built.model_dump()) == orjson.dumps(validated.model_dump())
    assert Member.model_validate(built.model_dump()) == validated
    assert [type(v) for v in built.vulnerabilities] == [Vulnerability] * len(marks)
    assert type(built.identity.phone) in (Phone, type(None))
    assert type(built.identity.id_number) in (IdNumber, type(None))


@pytest.mark.parametrize(("arguments", "words"), [
    (("张三", None, None, 1890 - 1), ("implausible", "1952")),
    (("张三", None, None, "1950"), ("implausible", "1952")),
    (("张三", None, None, 1950.0), ("implausible", "1952")),
    (("张三", None, None, None, ["flying"]), ("flying", "lives_alone")),
    ((" ", None, None), ("no name", "姓名")),
    ((None, None, None), ("not text", "姓名")),
    (("张三", "12345", None), ("phone", "malformed")),
    (("张三", None, "110105194912310021"), ("ID number", "check")),
])
def test_a_bad_member_is_refused_with_what_would_be_right(arguments, words):
    with pytest.raises(InvalidInput) as info:
        new_member("H-1", 1, *arguments)
    said = f"{info.value.problem} {info.value.remedy}"
    for word in words:
        assert word in said, said
