"""The chat check-in parser: the seeds' report shapes and their real variants, errors that name the
part and never repeat personal data, properties over generated reports, and a bounded atheris
run of tests/fuzz_checkin.py."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adapters.checkin as checkin_module
from adapters.checkin import (
    HINTS,
    SHAPE,
    CheckIn,
    CheckInError,
    Status,
    Visitor,
    cn_number,
    decide_status,
    normalize_address,
    parse_check_in,
    parse_many,
)
from gridcore.identity import Phone
from gridcore.status import Health
from tests.fuzz_checkin import SEEDS, check_one, write_corpus

SEED = "上疃村187号，5人，电话××××，平安"
MOBILE = "13812345678"


def parts(c: CheckIn) -> tuple:
    return (c.address, c.members, c.phone, c.phone_masked, c.status, c.temperature,
            c.symptoms, c.visitors)


# ---- the seed and its variants -----------------------------------------------------------------

def test_the_seed_report_reads_as_address_members_masked_phone_and_safe() -> None:
    c = parse_check_in(SEED)
    assert parts(c) == ("上疃村187号", 5, None, True, Status.NORMAL, None, (), ())
    assert c.raw == SEED
    assert c.status.label == "平安 normal" and c.status.health is Health.NORMAL
    assert [s.label for s in Status] == ["平安 normal", "发热 fever", "有症状 symptomatic"]


@pytest.mark.parametrize(("text", "expected"), [
    ("“上疃村187号，5人，电话××××，平安。”", ("上疃村187号", 5, None, True, Status.NORMAL, None)),
    ("上疃村187号,5人,电话138****1234,平安", ("上疃村187号", 5, None, True, Status.NORMAL, None)),
    ("上疃村187号；3口人；电话：138 1234 5678；体温36.5",
     ("上疃村187号", 3, MOBILE, False, Status.NORMAL, 36.5)),
    ("上疃村187号 一户5人 手机13812345678 正常",
     ("上疃村187号", 5, MOBILE, False, Status.NORMAL, None)),
    ("上疃村187号、1户4口人、发热37.8", ("上疃村187号", 4, None, False, Status.FEVER, 37.8)),
    ("上疃村187号：一家五口：电话：无：体温36度5",
     ("上疃村187号", 5, None, False, Status.NORMAL, 36.5)),
    ("５栋１单元１０１，两口人，体温３６．８℃",
     ("５栋１单元１０１", 2, None, False, Status.NORMAL, 36.8)),
    ("上疃村187号5人电话13812345678平安", ("上疃村187号", 5, MOBILE, False, Status.NORMAL, None)),
    ("上疃村 187号 十人 平安", ("上疃村 187号", 10, None, False, Status.NORMAL, None)),
    ("712-05-1-101，三人，电话0532-86123456，全家平安",
     ("712-05-1-101", 3, "0532-86123456", False, Status.NORMAL, None)),
    ("地址：平安里3号，人数：4，状态：平安", ("平安里3号", 4, None, False, Status.NORMAL, None)),
    ("健康路12号，2人，体温38.2", ("健康路12号", 2, None, False, Status.FEVER, 38.2)),
    ("上疃村1号 5 人 电话13812345678 人数：5 平安",
     ("上疃村1号", 5, MOBILE, False, Status.NORMAL, None)),
])
def test_punctuation_counts_phones_and_statuses_in_their_variants(text: str,
                                                                   expected: tuple) -> None:
    c = parse_check_in(text)
    assert (c.address, c.members, c.phone, c.phone_masked, c.status, c.temperature) == expected
    assert c.phone is None or isinstance(c.phone, Phone)


@pytest.mark.parametrize(("text", "visitors"), [
    ("上疃村187号，5人，平安，哪来的亲戚？云南来的", (Visitor(None, "云南"),)),
    ("上疃村187号，5人，平安，有外地亲戚，湖北来的", (Visitor(None, "湖北"),)),
    ("上疃村187号，5人，平安，访客：张某，武汉", (Visitor("张某", "武汉"),)),
    ("上疃村187号，5人，平安，亲戚张某从武汉来", (Visitor("张某", "武汉"),)),
    ("上疃村187号，5人，平安，云南来的亲戚，湖北来的",
     (Visitor(None, "云南"), Visitor(None, "湖北"))),
    ("上疃村187号，5人，平安，无外地亲戚", ()),
    ("上疃村187号，5人，平安，有外地亲戚，张某，湖北来的", (Visitor("张某", "湖北"),)),
])
def test_visitor_lines_give_who_and_origin(text: str, visitors: tuple) -> None:
    assert parse_check_in(text).visitors == visitors


@pytest.mark.parametrize(("status_part", "status", "temperature", "symptoms"), [
    ("发热37.8", Status.FEVER, 37.8, ("发热",)),
    ("体温37.3", Status.FEVER, 37.3, ("发热",)),
    ("体温37.2", Status.NORMAL, 37.2, ()),
    ("发烧，咳嗽、乏力", Status.FEVER, None, ("发热", "咳嗽", "乏力")),
    ("干咳", Status.SYMPTOMATIC, None, ("咳嗽",)),
    ("无发热、咳嗽", Status.NORMAL, None, ()),
    ("无发热、咳嗽、乏力无访客", Status.NORMAL, None, ()),
    ("无发热、有咳嗽", Status.SYMPTOMATIC, None, ("咳嗽",)),
    ("体温正常", Status.NORMAL, None, ()),
])
def test_fever_means_a_temperature_or_the_word_and_is_a_symptom(
        status_part: str, status: Status, temperature: float | None, symptoms: tuple) -> None:
    c = parse_check_in(f"上疃村187号，5人，{status_part}")
    assert (c.status, c.temperature, c.symptoms) == (status, temperature, symptoms)
    assert c.status.health is (Health.NORMAL if status is Status.NORMAL else Health.SYMPTOMATIC)


def test_decide_status_is_the_pure_rule_behind_the_status() -> None:
    assert decide_status(36.5, False, True, [], set()) is Status.NORMAL
    assert decide_status(None, True, False, ["发热"], set()) is Status.FEVER
    assert decide_status(None, False, False, ["咳嗽"], set()) is Status.SYMPTOMATIC
    with pytest.raises(CheckInError, match="missing"):
        decide_status(None, False, False, [], set())


# ---- errors name the part and show the shape ----------------------------------------------------

@pytest.mark.parametrize(("text", "part"), [
    ("", "text"),
    ("5人，平安", "address"),
    ("上疃村，5人，平安", "address"),
    ("上疃村=187号，5人，平安", "address"),
    ("上疃村187号，平安", "members"),
    ("上疃村187号，0人，平安", "members"),
    ("上疃村187号，5人，3人，平安", "members"),
    ("上疃村187号，2户7人，平安", "members"),
    ("上疃村187号，5人，电话1381234，平安", "phone"),
    ("上疃村187号，5人，电话12345678901，平安", "phone"),
    ("上疃村187号，5人，电话13812345678，电话13912345678，平安", "phone"),
    ("上疃村187号，5人，电话，平安", "phone"),
    ("上疃村187号，5人，电话××××，无电话，平安", "phone"),
    ("上疃村187号，5人，平安，人数", "members"),
    ("上疃村187号，5人", "status"),
    ("上疃村187号，5人，平安，体温38", "status"),
    ("上疃村187号，5人，发热，体温36.5", "status"),
    ("上疃村187号，5人，无发热，发热", "status"),
    ("上疃村187号，5人，体温36.5，体温37.0", "temperature"),
    ("上疃村187号，5人，体温33.9", "temperature"),
    ("上疃村187号，5人，体温43.1", "temperature"),
    ("上疃村187号，5人，体温三十六", "temperature"),
    ("上疃村187号，5人，平安，访客：张某", "visitor"),
    ("上疃村187号，5人，平安，哪来的亲戚？", "visitor"),
    ("上疃村187号，5人，平安，访客：@张，武汉", "visitor"),
    ("上疃村187号，5人，平安，无访客，云南来的", "visitor"),
    ("上疃村187号，5人，平安，收到", "text"),  # 谢谢 after a report is a remark
    ("上疃村187号，5，平安", "text"),
    ("上疃村187号，上疃村188号，5人，平安", "address"),
    ("上疃村187号，5人，平安" * 50, "text"),
])
def test_an_unreadable_report_says_which_part_and_the_expected_shape(text: str, part: str) -> None:
    with pytest.raises(CheckInError) as e:
        parse_check_in(text)
    assert e.value.part == part, str(e.value)
    hint, _, shape = e.value.remedy.partition(" Expected: ")
    assert hint and shape == f"{SHAPE}." and part in HINTS
    assert e.value.code == "CHECK_IN_UNREADABLE"


def test_errors_repeat_no_phone_number_address_or_name() -> None:
    for text in ("大山张村42号，5人，电话13812345678，电话13912345678，平安",
                 "大山张村42号，5人，电话138123456789，平安",
                 "大山张村42号，5人，平安，访客：张三丰",
                 "大山张村42号，大山张村43号，5人", "大山张村，5人，平安"):
        with pytest.raises(CheckInError) as e:
            parse_check_in(text)
        message = str(e.value)
        assert not re.search(r"\d{5,}", message)
        assert "大山张村" not in message and "张三丰" not in message


def test_a_phone_prints_masked_and_the_raw_text_stays_out_of_repr() -> None:
    c = parse_check_in(f"上疃村187号，5人，电话{MOBILE}，平安")
    assert c.phone == MOBILE and str(c.phone) == "138****5678"
    assert MOBILE not in repr(c)


# ---- several reports in one message -------------------------------------------------------------

def test_parse_many_returns_each_line_as_a_check_in_or_an_error_with_its_number() -> None:
    message = (f"{SEED}\n哪来的亲戚？\n\n上疃村188号，3口人，体温36.6\n等会给你电话。\r\n"
               "上疃村189号，4人")
    batch = parse_many(message)
    assert [(n, c.address) for n, c in batch.check_ins] == [(1, "上疃村187号"), (4, "上疃村188号")]
    assert [(n, e.part) for n, e in batch.errors] == [(2, "visitor"), (5, "address"),
                                                      (6, "status")]
    assert all(e.line == n and str(e).startswith(f"Line {n}: ") for n, e in batch.errors)


# ---- addresses ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("３栋２单元１０１", "3栋2单元101"),
    ("3号楼 2单元 101室", "3栋2单元101"),
    ("三号楼二单元101", "3栋2单元101"),
    ("3幢2單元101", "3栋2单元101"),
    ("3#楼2单元101", "3栋2单元101"),
    ("03栋2单元101", "3栋2单元101"),
    ("上疃村 187 號", "上疃村187号"),
    ("上疃村一百八十七号", "上疃村187号"),
    ("3栋a座", "3栋A座"),
])
def test_normalize_address_gives_one_key_for_each_spelling(a: str, b: str) -> None:
    assert normalize_address(a) == normalize_address(b) == b


def test_normalize_address_keeps_what_is_not_a_house_number() -> None:
    assert normalize_address("十里铺村5号") == "十里铺村5号"
    assert normalize_address("上疃村3楼") == "上疃村3楼"  # 3楼 is a floor, not a building
    assert normalize_address("上疃村一百五号") == "上疃村一百五号"  # 150 or 105: not guessed


@pytest.mark.parametrize(("text", "n"), [("5", 5), ("五", 5), ("两", 2), ("十", 10), ("十五", 15),
                                         ("二十", 20), ("二十三", 23), ("一百零七", 107),
                                         ("一百八十七", 187), ("一百五", None), ("", None),
                                         ("十十", None)])
def test_cn_number_reads_small_chinese_numerals(text: str, n: int | None) -> None:
    assert cn_number(text) == n


@given(st.text(alphabet="0123456789０１２３４５６７８９一二三十号號栋棟幢单元單元室楼# 　a村",
               max_size=20))
def test_normalize_address_is_idempotent_and_ignores_width_and_spaces(a: str) -> None:
    key = normalize_address(a)
    assert normalize_address(key) == key
    assert normalize_address(a.replace(" ", "　")) == key
    assert not re.search(r"\s", key)


# ---- properties ---------------------------------------------------------------------------------

VOCABULARY = [*"上疃村187号，5人,电话××*x平安;；:：、 　体温36.5发热哪来的亲戚？云南有外地访客",
              *"张某一两十户口咳嗽无0度℃栋单元-+\n",
              "13812345678", "体温", "电话", "平安", "访客：", "来的"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(VOCABULARY), max_size=30)
                 .map("".join)))
def test_any_text_gives_a_check_in_or_a_check_in_error(text: str) -> None:
    check_one(text, checkin_module)


@dataclass(frozen=True)
class Report:
    text: str
    expected: tuple


def _cn(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    return ("" if n < 20 else digits[n // 10]) + "十" + digits[n % 10].strip("零")


def _wide(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isdigit() else c for c in text)


PHONE_KINDS = ("none", "real", "spaced", "masked", "starred", "absent")


@st.composite
def reports(draw: st.DrawFn, phone_kinds: tuple[str, ...] = PHONE_KINDS,
            chatter: bool = False) -> Report:
    """A well-formed report built from random parts in random punctuation and order."""
    village = draw(st.sampled_from(["上疃村", "大山张村", "平安里", "健康路", "712所"]))
    address = draw(st.one_of(
        st.integers(1, 999).map(lambda n: f"{village}{n}号"),
        st.tuples(st.integers(1, 23), st.integers(1, 6), st.integers(101, 1802)).map(
            lambda t: f"{t[0]}栋{t[1]}单元{t[2]}"),
        st.tuples(st.integers(1, 23), st.integers(1, 6), st.integers(101, 1802)).map(
            lambda t: f"{t[0]}-{t[1]}-{t[2]}")))
    if draw(st.booleans()):
        address = _wide(address)
    n = draw(st.integers(1, 20))
    count = draw(st.sampled_from([f"{n}人", f"{n}口人", f"一户{n}人", f"1户{n}口人", f"共{n}人",
                                  f"{_cn(n)}人", f"一家{_cn(n)}口", f"人数：{n}",
                                  f"{_wide(str(n))}人"]))
    mobile = draw(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
    phone_kind = draw(st.sampled_from(phone_kinds))
    mask, hidden = draw(st.sampled_from(["×", "*", "x", "X", "＊"])), draw(st.integers(1, 8))
    phone_part = {"none": "电话：无", "real": f"电话{mobile}", "absent": None, "masked": "电话××××",
                  "spaced": f"手机 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                  "starred": f"手机号：{mobile[:3]}{mask * hidden}{mobile[3 + hidden:]}",
                  }[phone_kind]
    t = draw(st.integers(350, 399)) / 10
    status_part, status, temp, symptoms = draw(st.sampled_from([
        ("平安", Status.NORMAL, None, ()), ("正常", Status.NORMAL, None, ()),
        ("一切正常", Status.NORMAL, None, ()),
        (f"体温{t}", Status.FEVER if t >= 37.3 else Status.NORMAL, t,
         ("发热",) if t >= 37.3 else ()),
        (f"发热{max(t, 37.3)}", Status.FEVER, max(t, 37.3), ("发热",)),
        ("咳嗽", Status.SYMPTOMATIC, None, ("咳嗽",))]))
    origin = draw(st.sampled_from(["云南", "湖北", "武汉", "北京"]))
    visitor_part, visitors = draw(st.sampled_from([
        (None, ()), (f"哪来的亲戚？{origin}来的", (Visitor(None, origin),)),
        (f"有外地亲戚，{origin}来的", (Visitor(None, origin),)),
        (f"访客：张某，{origin}", (Visitor("张某", origin),)), ("无访客", ())]))
    rest = [p for p in (count, phone_part, status_part, visitor_part) if p]
    rest = draw(st.permutations(rest))
    if chatter:  # a word that is none of the parts, anywhere after the address
        rest.insert(draw(st.integers(0, len(rest))),
                    draw(st.sampled_from(["收到", "好的", "张三", "ok"])))  # 谢谢: a remark
    seps = draw(st.lists(st.sampled_from(["，", ",", "；", ";", "、", " ", "　", "， "]),
                         min_size=len(rest), max_size=len(rest)))
    text = address + "".join(s + p for s, p in zip(seps, rest, strict=True))
    phone = mobile if phone_kind in ("real", "spaced") else None
    return Report(text, (address, n, phone, phone_kind in ("masked", "starred"), status, temp,
                         symptoms, visitors))


@settings(max_examples=300, deadline=None)
@given(reports())
def test_a_well_formed_report_parses_back_to_its_parts(report: Report) -> None:
    assert parts(parse_check_in(report.text)) == report.expected


@settings(max_examples=200, deadline=None)
@given(reports(chatter=True))
def test_a_word_that_is_no_part_is_an_error_not_ignored(report: Report) -> None:
    with pytest.raises(CheckInError) as e:
        parse_check_in(report.text)
    assert e.value.part in ("text", "address", "visitor")


@settings(max_examples=200, deadline=None)
@given(reports(phone_kinds=("masked", "starred")))
def test_a_masked_phone_never_becomes_real_digits(report: Report) -> None:
    c = parse_check_in(report.text)
    assert c.phone is None and c.phone_masked
    assert not re.search(r"\d{7,}", repr(c).replace(c.address, ""))


@settings(max_examples=100, deadline=None)
@given(st.lists(reports(), min_size=1, max_size=5), st.lists(st.sampled_from(["", "收到"]),
                                                              min_size=5, max_size=5))
def test_parse_many_keeps_line_numbers(reps: list[Report], noise: list[str]) -> None:
    lines = [x for r, extra in zip(reps, noise, strict=False) for x in (r.text, extra)]
    batch = parse_many("\n".join(lines))
    reports_at = [i + 1 for i, x in enumerate(lines) if x and x != "收到"]
    assert [n for n, _ in batch.check_ins] == reports_at
    assert [n for n, _ in batch.errors] == [i + 1 for i, x in enumerate(lines) if x == "收到"]


# ---- the atheris fuzz target, bounded ----------------------------------------------------------

FUZZ_RUNS = 10_000


@pytest.mark.slow
def test_the_fuzz_target_runs_clean_for_a_bounded_number_of_runs(tmp_path: Path) -> None:
    try:
        import atheris  # noqa: F401
    except ImportError:
        pytest.skip("atheris is not importable: install it with `pip install atheris` (wheels "
                    "exist for Linux x86-64; elsewhere it builds from source with clang/libFuzzer)")
    write_corpus(tmp_path / "corpus")
    target = Path(__file__).parents[1] / "fuzz_checkin.py"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(target), f"-runs={FUZZ_RUNS}", "-seed=1", "-max_len=1024",
         f"-artifact_prefix={tmp_path}/", str(tmp_path / "corpus")],
        capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.monotonic() - started
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Done {FUZZ_RUNS} runs" in done.stderr
    print(f"atheris: {FUZZ_RUNS} runs in {elapsed:.1f} s over {len(SEEDS)} seeds")
