"""The worker's fast pass decoder (``adapters.pass_codec``, msgspec) against the model
(``alert_inputs.parse("vehicle", ...)``, pydantic): the same inputs accepted and refused, the
same values, the same reasons; and its murmur2 (the partition check) against aiokafka's. No
broker needed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from adapters.alert_inputs import InputRejected, parse
from adapters.pass_codec import WHITE_SPACE, decode_pass
from adapters.stream_topics import murmur2, partition_for

GOOD = {"pass_id": "P-1", "checkpoint_id": "KK-1", "plate": "鄂A12345",
        "at": "2020-02-17T08:00:00+08:00"}

# Characters near the edges of what either side accepts: every character either Python or
# Rust calls white space, control characters, separators, CJK, digits of other scripts.
SPACES = sorted(set(WHITE_SPACE) | {c for c in map(chr, range(0x3001)) if c.isspace()})
ALPHABET = st.sampled_from([*SPACES, "\x00", "\x01", "\x1f", "\x7f", "\u200b", "\ufeff",
                            "-", ".", ":", "+", "Z", "z", "T", "t", "_", "·", "鄂", "京", "A",
                            "b", "0", "1", "2", "5", "9", "٣", "０", "\ud800"])
text = st.text(ALPHABET, max_size=24) | st.text(max_size=8)
digits = st.integers(0, 99).map(lambda n: f"{n:02d}")
times = st.builds(
    lambda y, mo, d, sep, h, mi, s, frac, tz: f"{y:04d}-{mo}-{d}{sep}{h}:{mi}:{s}{frac}{tz}",
    st.integers(0, 9999), digits, digits, st.sampled_from(["T", "t", " ", "_", "X"]), digits,
    digits, digits,
    st.sampled_from(["", ".1", ".123456", ".1234567", ".", ",5"]),
    st.sampled_from(["Z", "z", "+08:00", "-14:00", "+23:59", "+24:00", "+08:60", "-00:00",
                     "+0800", "+08", "", "+08:00:00"]))
values = st.one_of(text, times, st.integers(-(2**63), 2**64 - 1), st.none(),
                   st.floats(allow_nan=False), st.booleans(),
                   st.lists(st.integers(0, 9), max_size=2))
# Mostly well-formed passes with one or two fields changed; sometimes keys added or dropped.
passes = st.builds(
    lambda changes, drop, extra: {**{k: v for k, v in GOOD.items() if k not in drop},
                                  **changes, **extra},
    st.dictionaries(st.sampled_from(sorted(GOOD)), values, max_size=2),
    st.sets(st.sampled_from(sorted(GOOD)), max_size=1),
    st.dictionaries(st.sampled_from(["extra", "PLATE", "at "]), values, max_size=1))


def outcome(decode: Any, data: bytes) -> tuple[str, Any]:
    try:
        pass_id, checkpoint_id, plate, at = decode(data)
    except InputRejected as e:
        return "refused", e.reason
    assert isinstance(at, datetime) and at.tzinfo is not None
    # the same instant with the same offset (pydantic's tzinfo class is its own)
    return "accepted", (pass_id, checkpoint_id, plate, at, at.utcoffset(), at.isoformat())


def model(data: bytes) -> tuple[str, str, str, datetime]:
    p: Any = parse("vehicle", data)
    return (p.pass_id, p.checkpoint_id, p.plate, p.at)


def check(data: bytes) -> None:
    assert outcome(decode_pass, data) == outcome(model, data)


@settings(max_examples=1500, deadline=None)
@given(passes)
@example({**GOOD, "plate": " 鄂A12345\u3000"})
@example({**GOOD, "plate": "鄂A12345\x1c"})
@example({**GOOD, "at": "2020-02-30T08:00:00+08:00"})
@example({**GOOD, "at": "2020-02-17T08:00:00.1234567+08:00"})
def test_fast_decoder_accepts_and_refuses_as_the_model(obj: dict[str, Any]) -> None:
    check(json.dumps(obj).encode())  # \u escapes
    try:
        raw = json.dumps(obj, ensure_ascii=False).encode()  # UTF-8 as is
    except UnicodeEncodeError:  # a lone surrogate: only escaped
        return
    check(raw)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=120) | st.builds(
    lambda head, tail: orjson.dumps(GOOD)[:head] + tail,
    st.integers(0, 100), st.binary(max_size=8)))
@example(b"\xef\xbb\xbf" + orjson.dumps(GOOD))
@example(orjson.dumps(GOOD)[:-1] + b', "pass_id": "P-2"}')
@example(orjson.dumps(GOOD) + b"\n")
@example(b'{"pass_id":"\\ud800","checkpoint_id":"K","plate":"AB",'
         b'"at":"2020-02-17T08:00:00+08:00"}')
def test_fast_decoder_on_any_bytes_as_the_model(data: bytes) -> None:
    check(data)


@pytest.mark.parametrize("data", [
    b"\xff\xfe{not json",
    orjson.dumps({"pass_id": "P-x", "plate": "湘A11111"}),
    orjson.dumps({**GOOD, "at": "2020-02-17T08:00:00"}),
    orjson.dumps({**GOOD, "pass_id": "   "}),
    orjson.dumps({**GOOD, "extra": 1}),
])
def test_refusals_keep_the_models_reason(data: bytes) -> None:
    with pytest.raises(InputRejected) as fast:
        decode_pass(data)
    with pytest.raises(InputRejected) as slow:
        parse("vehicle", data)
    assert fast.value.reason == slow.value.reason


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=64) | text.map(lambda t: t.encode("utf-8", "surrogatepass")))
@example("鄂A12345".encode())
def test_murmur2_is_kafkas(key: bytes) -> None:
    """The worker's placement check (``stream_topics.murmur2``) hashes as aiokafka's producer
    (Kafka's default partitioner) does."""
    from aiokafka.partitioner import murmur2 as kafkas  # type: ignore[import-untyped]

    assert murmur2(key) == kafkas(key)
    assert partition_for(key, 4) == (kafkas(key) & 0x7FFFFFFF) % 4


def test_a_time_read_before_is_taken_from_the_bounded_cache_with_the_same_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters import pass_codec

    monkeypatch.setattr(pass_codec, "TIMES_KEPT", 3)
    monkeypatch.setattr(pass_codec, "_times", {})
    for i in range(10):
        data = orjson.dumps({**GOOD, "pass_id": f"P-{i}", "at": f"2020-02-17T08:00:0{i}+08:00"})
        first, again = decode_pass(data), decode_pass(data)
        assert first == again and first[3] is again[3]  # the second from the cache
        assert outcome(decode_pass, data) == outcome(model, data)
        assert len(pass_codec._times) <= 3
    # a cached time does not let a bad pass through: the model refuses it, with its reason
    bad = orjson.dumps({**GOOD, "plate": "", "at": "2020-02-17T08:00:09+08:00"})
    assert outcome(decode_pass, bad) == outcome(model, bad) and outcome(model, bad)[0] == "refused"
