"""Chat check-ins (微网格群自报): ``上疃村187号，5人，电话××××，平安`` read into a ``CheckIn``.

A report is one line of parts: the address, the member count (``5人``, ``3口人``, ``一户5人``,
``一家五口``), the phone (optional; ``电话××××`` or ``138****1234`` is recorded as masked, never
guessed), the status (``平安``/``正常``, ``体温36.5``, ``发热37.8``, symptoms such as ``咳嗽``,
denials such as ``无发热``) and visitors (``哪来的亲戚？云南来的``, ``有外地亲戚，湖北来的``,
``访客：张某，武汉``). What is said of one person (``老公发烧38度``, ``张三37.9``, ``我36.5``) is
kept as theirs (``CheckIn.findings``); which registered member that is, the caller decides
(``adapters.chat_checkins.attribute``). Parts are separated by full- or half-width
``，,；;：:、。？`` or spaces; full-width digits and letters count as half-width. Anything
missing, unreadable or contradictory raises ``CheckInError`` naming the part and showing the
expected shape: the parser never guesses. Error messages never repeat an address, a name or an
unmasked phone number. ``CheckIn.raw`` holds the text as sent (phone included): never store it
in an event. Resolving the household is the caller's job; ``normalize_address`` is the key
both sides use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypeGuard, TypeVar

import cn2an

from adapters.checkin_vocabulary import (
    _ADDR_END,
    _ADDR_LABEL,
    _ADDRESS_CHARS,
    _ANY_SYM,
    _ASK,
    _BRACKETED,
    _CAME,
    _DIGITS,
    _FEVERS,
    _GLUE,
    _HAS,
    _HOUSE_NO,
    _KINDS,
    _LABEL_PART,
    _LABELS,
    _M,
    _MARKERS,
    _NAME,
    _SEP,
    _SYMPTOMS,
    _TOKEN,
    _VISIT_LABEL,
    _WHO_FROM,
)
from adapters.gazetteer import Division, Unresolved, look_up
from gridcore.errors import InvalidInput
from gridcore.identity import Phone, mask_phone
from gridcore.status import Health
from gridcore.sweep import FEVER_CELSIUS

_T = TypeVar("_T")
MAX_CHARS, MAX_MEMBERS, MIN_CELSIUS, MAX_CELSIUS = 500, 99, 34.0, 43.0
SHAPE = ("地址，人数，电话（可省），状态 address, members, phone (optional), status — e.g. "
         "上疃村187号，5人，电话138xxxxxxxx，平安; status 平安/正常, 体温36.5 or 发热37.8; "
         "a visitor as 访客：张某，武汉 or 云南来的")
HINTS = {
    "address": "Start with the door address and its number, e.g. 上疃村187号 or 5栋1单元101.",
    "members": "Give the number of people, e.g. 5人, 3口人, 一户5人 or 一家五口.",
    "phone": "Give 11 digits (电话138xxxxxxxx), a landline (0532-8xxxxxxx), 电话×××× or none.",
    "status": "Say 平安 or 正常, give 体温36.5, or report 发热37.8 / 咳嗽.",
    "temperature": "Give the reading in °C between 34.0 and 43.0, e.g. 体温36.5.",
    "visitor": "Write 访客：张某，武汉, 有外地亲戚，湖北来的 or 哪来的亲戚？云南来的.",
    "text": "Write one household's report per line.",
    "place": "Name the place of origin as a province, city or district of China, e.g. 湖北黄冈 "
             "or 武汉市江岸区; a place abroad is checked by the grid worker.",
}


class CheckInError(InvalidInput):
    """A report that cannot be read without guessing; ``part`` names what is wrong (one of
    ``HINTS``), ``position`` the 1-based part, ``line`` the line in ``parse_many``."""

    code = "CHECK_IN_UNREADABLE"

    def __init__(self, part: str, problem: str, position: int | None = None, hint: str = "",
                 place: Unresolved | None = None):
        super().__init__(problem, f"{hint or HINTS[part]} Expected: {SHAPE}.")
        self.part, self.position = part, position
        self.line: int | None = None
        self.place = place
        """the place name not resolved and why, for a reason that quotes it; the message
        itself never repeats it"""

    def __str__(self) -> str:
        text = super().__str__()
        return f"Line {self.line}: {text}" if self.line is not None else text


class Status(StrEnum):
    NORMAL = "normal"
    FEVER = "fever"
    SYMPTOMATIC = "symptomatic"

    @property
    def label(self) -> str:
        return {"normal": "平安 normal", "fever": "发热 fever",
                "symptomatic": "有症状 symptomatic"}[self.value]

    @property
    def health(self) -> Health:
        return Health.NORMAL if self is Status.NORMAL else Health.SYMPTOMATIC


@dataclass(frozen=True, slots=True)
class Visitor:
    """Someone staying from elsewhere: who as written (or None), the origin as written (云南)
    and the division the gazetteer reads it as (云南省; derived from the origin, so not
    compared)."""

    who: str | None
    origin: str
    division: Division | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Arrival:
    """A member who came back (``今天女儿从黄冈回来了``): who as written (女儿, a name, or
    None), from where as written and as a division (黄冈, 湖北省黄冈市), and how many days
    before the message (今天 0, 昨天 1, 前天 2)."""

    who: str | None
    origin: str
    days_ago: int
    division: Division | None = field(default=None, compare=False)


_WHEN = "今天|今日|刚刚|刚才|刚|昨天|昨日|昨晚|前天"
_DAYS_AGO = {"今天": 0, "今日": 0, "刚刚": 0, "刚才": 0, "刚": 0, "昨天": 1, "昨日": 1,
             "昨晚": 1, "前天": 2}
_ARRIVED = re.compile(rf"(?P<w1>{_WHEN})?(?P<who>[^\W\d_]{{1,6}}?)?(?P<w2>{_WHEN})?"
                      r"从(?P<o>[^\W\d_]{1,20}?)(?:回来|返回|返家|回家|回到家|到家|返乡)[了的]?")
_REMARK = re.compile(r"\D*(?:谢谢|感谢|多谢|辛苦|麻烦|费心|🙏|👍)\D*")
"""courtesies after a report (谢谢网格员): kept as a remark, not read as a field"""
_NOTE = re.compile(r"(?:[^\d号栋幢室]|\d+天)*(?:在家|没出门|未出门|不出门|没有出门|没出去|没有外出|"
                   r"未外出|不外出|居家|宅家|隔离|口罩|消毒|买菜|送菜|物资|需要|帮忙|请问|请|能否|可否|加油|放心|上班|"
                   r"一切都好|都挺好|吃药|吃了药)(?:[^\d号栋幢室]|\d+天)*")
"""a note after a report (都在家没出门, 需要买菜): kept as a remark when it says nothing about
health (``_HEALTH``); a word that is no part and no note (收到, a name) stays an error"""
_HEALTH = re.compile(r"发|烧|热|咳|痛|疼|症|温|度|吐|泻|不舒服|难受|闷|乏|鼻|喉|嗓")


@dataclass(frozen=True, slots=True)
class Finding:
    """What a report says of someone's health: of one person (``老公发烧38度``, ``张三咳嗽``,
    ``我36.5``: ``who`` as written, ``named`` when read as a person's name rather than 我 or a
    relation word), or of nobody in particular (``发烧37.9``, ``咳嗽``, the readings of
    ``体温36.2、37.9``: ``who`` None). ``symptoms`` lists 发热 for a reading at or above 37.3 °C.
    Which registered member it is about is the caller's question (``adapters.chat_checkins``)."""

    who: str | None
    temperature: float | None
    symptoms: tuple[str, ...]
    named: bool = False

    @property
    def abnormal(self) -> bool:
        """A fever or another symptom: something to follow up."""
        return bool(self.symptoms)


@dataclass(frozen=True, slots=True)
class CheckIn:
    """One household's self-report as read. A masked phone gives ``phone=None, phone_masked``."""

    address: str
    members: int
    phone: Phone | None
    phone_masked: bool
    status: Status
    temperature: float | None
    symptoms: tuple[str, ...]
    visitors: tuple[Visitor, ...]
    raw: str = field(repr=False)
    arrivals: tuple[Arrival, ...] = ()
    remarks: tuple[str, ...] = field(default=(), repr=False)
    findings: tuple[Finding, ...] = ()
    """what is said of whom: every person named, then what is said of nobody in particular"""


@dataclass(frozen=True, slots=True)
class CheckInBatch:
    """The reports of one message: successes and errors, each with its 1-based line number."""

    check_ins: tuple[tuple[int, CheckIn], ...]
    errors: tuple[tuple[int, CheckInError], ...]


def cn_number(text: str) -> int | None:
    """``5``, ``五``, ``两``, ``十五``, ``二十``, ``一百零七`` as an int (0-999), read by cn2an in
    its strict mode (两 read as 二); None otherwise, also for the colloquial ``一百五`` (150 or
    105?), which strict mode refuses rather than guesses."""
    if text.isascii() and text.isdigit():
        return int(text)
    if not text or not re.fullmatch("[零〇一二两三四五六七八九十百]+", text):
        return None
    try:
        n = cn2an.cn2an(text.replace("两", "二").replace("〇", "零"), "strict")
    except ValueError:
        return None
    return n if isinstance(n, int) and 0 <= n <= 999 else None


def celsius(text: str) -> float:
    """A reading as written: ``36.5``, ``36度5``, ``三十六度五``, ``三十七点八``, ``三十八度``."""
    if re.fullmatch(r"[\d.度]+", text):
        return float(text.replace("度", "."))
    whole, _, tenths = text.replace("点", "度").partition("度")
    value = float(cn2an.cn2an(whole, "strict"))
    return value + (int(cn2an.cn2an(tenths, "strict")) / 10 ** len(tenths) if tenths else 0)


def _half_width(text: str) -> str:
    """Full-width forms as half-width; 囗 (the box, a common slip for 口 in 3囗人) as 口."""
    return "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else " " if c == "\u3000" else
                   "口" if c == "囗" else c for c in text)


def normalize_address(address: str) -> str:
    """The comparison key of a door address: half-width, no spaces, one spelling for 号/栋/单元
    (``三号楼 2單元 101室`` and ``3栋2单元101`` give the same key)."""
    a = re.sub(r"\s+", "", _half_width(address))
    a = a.replace("號", "号").replace("棟", "栋").replace("單元", "单元")
    a = re.sub(rf"[零〇一二两三四五六七八九十百]+(?={_MARKERS})",
               lambda m: str(n) if (n := cn_number(m[0])) is not None else m[0], a)
    a = re.sub(r"(?<=\d)#", "号", a).replace("号楼", "栋").replace("幢", "栋")
    a = re.sub(r"(?<!\d)0+(?=[1-9]\d*(?:号|栋|单元))", "", a)
    return re.sub(r"(?<=\d)室+$", "", a).upper()


def _address_like(text: str) -> bool:
    return bool(_HOUSE_NO.search(text) and _ADDR_END.search(text)) and not text.isdigit()


# ---- splitting a report into parts and naming each ---------------------------------------------

@dataclass
class _Part:
    text: str
    offsets: list[int]  # where each character of text was in the raw report
    sep: str  # the separator before it
    pos: int
    bracketed: bool = False  # written in brackets: a note (…（在上班）) unless it reads as fields
    kind: str = "free"  # free | fields | address | visitor | label
    tokens: list[re.Match[str]] = field(default_factory=list)
    address: tuple[int, int] | None = None  # text[slice] for kind "address"
    who: str | None = None
    origin: str | None = None
    days_ago: int = 0


def _split(raw: str) -> list[_Part]:
    text = _half_width(raw)
    drop = {i for m in _GLUE.finditer(text) for i in range(*m.span()) if text[i].isspace()}
    kept = [i for i in range(len(text)) if i not in drop]
    text = "".join(text[i] for i in kept)
    parts: list[_Part] = []
    at, sep = 0, ""
    for m in [*_SEP.finditer(text), None]:
        end = m.start() if m else len(text)
        if end > at:
            parts.append(_Part(text[at:end], kept[at:end], sep, 0))
        at, sep = (m.end(), m[0]) if m else (at, sep)
    merged: list[_Part] = []
    for p in parts:  # a bare label such as 电话： takes the next part as its value
        if merged and merged[-1].kind == "label":
            head = merged.pop()
            p = _Part(head.text + p.text, head.offsets + p.offsets, head.sep, 0)
        p.kind = "label" if _LABELS.fullmatch(p.text) else "free"
        merged.append(p)
    inside = {i for m in _BRACKETED.finditer(text) for i in range(*m.span())}
    for i, p in enumerate(merged, start=1):
        p.pos = i
        p.bracketed = bool(p.offsets) and kept.index(p.offsets[0]) in inside
    return merged


def _scan(text: str) -> list[re.Match[str]] | None:
    pos, out = 0, []
    while pos < len(text):
        if not (m := _TOKEN.match(text, pos)):
            return None
        out.append(m)
        pos = m.end()
    return out


def _classify(p: _Part) -> None:
    t, p.kind = p.text, "free"
    if (tokens := _scan(t)) is not None:
        p.kind, p.tokens = "fields", tokens
    elif (m := _ARRIVED.fullmatch(t)) and not _address_like(t):
        p.kind, p.who, p.origin = "arrival", m["who"], m["o"]
        p.days_ago = _DAYS_AGO[m["w1"] or m["w2"] or "今天"]
    elif p.pos > 1 and (_REMARK.fullmatch(t) or (_NOTE.fullmatch(t) and not _HEALTH.search(t))):
        p.kind = "remark"
    elif _ASK.fullmatch(t):
        p.kind = "visitor"
    elif m := _HAS.fullmatch(t):
        p.kind, p.origin = "visitor", m["o"]
    elif m := _VISIT_LABEL.match(t):
        _visitor_label(p, t[m.end():])
    elif (m := _CAME.fullmatch(t)) and not _address_like(t):
        p.kind, p.origin = "visitor", m["o"] or m["p"]
    elif p.bracketed and p.pos > 1 and not _address_like(t):
        p.kind = "remark"
    elif m := _ADDR_LABEL.match(t):
        if not _split_address(p, m.end()):
            p.kind, p.address = "address", (m.end(), len(t))
    elif not _split_address(p, 0) and (m := _LABEL_PART.match(t)) and m.lastgroup:
        raise CheckInError(m.lastgroup, f"Part {p.pos} is labelled {m.lastgroup} but unreadable.",
                           p.pos)


def _visitor_label(p: _Part, rest: str) -> None:
    p.kind = "visitor"
    if (m := _CAME.fullmatch(rest)) and not _address_like(rest):
        p.origin = m["o"] or m["p"]
    elif m := _WHO_FROM.fullmatch(rest):
        p.who, p.origin = m["w"], m["o"]
    elif _NAME.fullmatch(rest) and len(rest) <= 10:
        p.who = rest
    else:
        raise CheckInError("visitor", f"The visitor (part {p.pos}) is unreadable.", p.pos)


def _split_address(p: _Part, start: int) -> bool:
    """Find ``<address><fields>`` glued together (``上疃村187号5人``): the longest field tail
    after an address that ends in a house number, never cutting a number in two."""
    t = p.text
    for i in range(start + 1, len(t)):
        if not (t[i - 1] in _DIGITS and t[i] in _DIGITS) and _TOKEN.match(t, i) \
                and _address_like(t[start:i]) and (tokens := _scan(t[i:])):
            p.kind, p.tokens, p.address = "address", tokens, (start, i)
            return True
    return False


# ---- from parts to a check-in ------------------------------------------------------------------

def _visitors(parts: list[_Part]) -> tuple[list[Visitor], list[_Part]]:
    """Pair each visitor with its origin: ``访客：张某，武汉`` and ``哪来的亲戚？云南来的`` take the
    next part as the origin; without one the visitor is an error, not a guess."""
    found, rest, i = [], [], 0
    while i < len(parts):
        p, i = parts[i], i + 1
        if p.kind != "visitor":
            rest.append(p)
            continue
        who, origin = p.who, p.origin
        nxt, then = (parts[j] if j < len(parts) else None for j in (i, i + 1))
        if origin is None and _came(nxt):
            origin, i = nxt.origin, i + 1
        elif origin is None and _plain(nxt) and who is None and _came(then):
            who, origin, i = nxt.text, then.origin, i + 2  # 有外地亲戚，张某，湖北来的
        elif origin is None and _plain(nxt):
            origin, i = nxt.text, i + 1
        if origin is None:
            raise CheckInError("visitor", f"The visitor (part {p.pos}) has no place of origin.",
                               p.pos)
        if not _NAME.fullmatch(origin) or (who is not None and not _NAME.fullmatch(who)):
            raise CheckInError("visitor", f"The visitor (part {p.pos}) is unreadable.", p.pos)
        found.append(Visitor(who, origin, _division(origin, p.pos)))
    return found, rest


def _came(p: _Part | None) -> TypeGuard[_Part]:
    return p is not None and p.kind == "visitor" and p.who is None and p.origin is not None


def _plain(p: _Part | None) -> TypeGuard[_Part]:
    """A part that can only be a name or a place: short, no digits, no house number."""
    return p is not None and p.kind == "free" and bool(_NAME.fullmatch(p.text))


def _address(parts: list[_Part], raw: str) -> str:
    """The one address of the report: unnamed parts split only by spaces form one run when each
    later one has a number (``上疃村 187号``); a second run is an error, never a second guess."""
    runs: list[list[_Part]] = []
    for prev, p in zip([None, *parts], parts, strict=False):
        if p.kind not in ("free", "address"):
            continue
        joins = (runs and prev is runs[-1][-1] and prev.kind == "free" and p.sep.isspace()
                 and (p.address is None or p.address[0] == 0) and _HOUSE_NO.search(p.text))
        runs[-1].append(p) if joins else runs.append([p])
    texts = [" ".join(p.text[slice(*(p.address or (0, None)))] for p in r) for r in runs]
    homes = [i for i, t in enumerate(texts) if _address_like(t)]
    if not runs:
        raise CheckInError("address", "The address is missing.")
    if len(homes) > 1:
        a, b = runs[homes[0]][0].pos, runs[homes[1]][0].pos
        raise CheckInError("address", f"Parts {a} and {b} both look like an address.", b,
                           "Give one household per line.")
    if not homes or not 2 <= len(texts[homes[0]]) <= 200 or not _ADDRESS_CHARS.fullmatch(
            texts[homes[0]]):
        pos = runs[homes[0] if homes else 0][0].pos
        raise CheckInError("address", f"The address (part {pos}) has no house number (门牌号) "
                           "or has characters no address has.", pos)
    if (odd := next((i for i in range(len(runs)) if i != homes[0]), None)) is not None:
        pos, bare = runs[odd][0].pos, texts[odd].isdigit()
        raise CheckInError("text", f"Part {pos} (length {len(texts[odd])}) is not an "
                           "address, member count, phone, status or visitor.", pos,
                           "Write 5人 for members or 电话… for a phone." if bare else "")
    first, last = runs[homes[0]][0], runs[homes[0]][-1]
    begin, end = first.address or (0, len(first.text)), last.address or (0, len(last.text))
    return raw[first.offsets[begin[0]]:last.offsets[end[1] - 1] + 1]


@dataclass
class _Facts:
    members: set[int] = field(default_factory=set)
    phones: set[str | None] = field(default_factory=set)  # "masked" for a masked phone
    temperatures: set[float] = field(default_factory=set)
    fever_said: bool = False
    normal_said: bool = False
    symptoms: list[str] = field(default_factory=list)
    denied: set[str] = field(default_factory=set)
    no_visitors: bool = False
    readings: list[float] = field(default_factory=list)  # a member's (老公38.2, 我36.5)
    some_normal: bool = False  # 其他人正常, 孩子平安: not the whole household's 平安
    persons: list[Finding] = field(default_factory=list)  # what is said of whom
    loose: list[str] = field(default_factory=list)  # symptoms said of nobody in particular
    loose_readings: list[float] = field(default_factory=list)  # 体温36.2、36.4: no names


def _read(parts: list[_Part]) -> _Facts:
    """Collect every field; ``无发热、咳嗽`` denies both: a denial carries over 、 to the
    symptoms that open the next part (not to ``有咳嗽``, which says it has one)."""
    f, denying, reading = _Facts(), False, False
    for p in parts:
        if reading and [m.lastgroup for m in p.tokens] == ["temp"] and p.tokens[0]["temp_c"] \
                and re.search("[、,\\s]", p.sep):  # 体温36.2、36.4: one reading per member
            f.readings.extend(more := [*f.temperatures, celsius(p.tokens[0]["temp_c"])])
            f.loose_readings.extend(more)
            continue
        reading = bool(p.tokens) and p.tokens[-1].lastgroup == "temp"
        carry, denying = denying and "、" in p.sep, False
        for m in p.tokens:
            carry = carry and bool(m["symptom"] or (m["fever"] and not m["fever_t"])) \
                and not m[0].startswith("有")
            _read_token(f, next(k for k in _KINDS if m[k] is not None), m, p.pos, carry)
            denying = carry or m["negated"] is not None
    return f


def _read_person(f: _Facts, kind: str, m: re.Match[str], pos: int) -> None:
    """What is said of one member (老公发烧38度, 孩子咳嗽, 我36.5, 张三发热) or of the others
    (其他人正常): a reading or a symptom is the household's finding and that person's
    (``_Facts.persons``); 'the others are fine' is no 平安 of the whole household, so it does
    not contradict one member's fever."""
    g = "name" if kind == "named" else "who"  # the named person's groups mirror the kin's
    f.some_normal = f.some_normal or kind == "others" or bool(
        kind in ("person", "named") and m[f"{g}_n"])
    if kind == "pair":
        f.members.add(2)
    elif kind == "alone":
        f.members.add(1)
    if kind not in ("person", "named"):
        return
    t = None
    if value := m[f"{g}_t"] or m[f"{g}_ft"]:
        t = celsius(value)
        if not MIN_CELSIUS <= t <= MAX_CELSIUS:
            raise CheckInError("temperature", f"The temperature {t} (part {pos}) is outside "
                               f"{MIN_CELSIUS}-{MAX_CELSIUS} °C.", pos)
        f.readings.append(t)
    said = ["发热"] if m[f"{g}_f"] else [_SYMPTOMS[m[f"{g}_s"]]] if m[f"{g}_s"] else []
    f.fever_said = f.fever_said or bool(m[f"{g}_f"])
    f.symptoms.extend(said)
    f.persons.append(Finding(m[g], t, tuple(said), named=kind == "named"))


def _read_token(f: _Facts, kind: str, m: re.Match[str], pos: int, denying: bool) -> None:
    if kind in ("person", "named", "others", "pair", "alone"):
        _read_person(f, kind, m, pos)
        return
    if (households := m["count_h"] or m["hh"]) and cn_number(households) != 1:
        raise CheckInError("members", f"Part {pos} counts {households} households.", pos,
                           "Report one household per line.")
    if kind == "count":
        n = cn_number(m["count_n"] or m["count_m"])
        if n is None or not 1 <= n <= MAX_MEMBERS:
            raise CheckInError("members", f"The member count (part {pos}) is not a number "
                               f"from 1 to {MAX_MEMBERS}.", pos)
        f.members.add(n)
    elif kind == "no_phone":
        f.phones.add(None)
    elif kind in ("phone", "bare_phone"):
        f.phones.add(_phone(m["phone_v"] or m["bare_phone"], pos))
    elif kind == "temp" or (kind == "fever" and m["fever_t"]):
        t = celsius(m["temp_a"] or m["temp_b"] or m["temp_c"] or m["fever_t"])
        if not MIN_CELSIUS <= t <= MAX_CELSIUS:
            raise CheckInError("temperature", f"The temperature {t} (part {pos}) is outside "
                               f"{MIN_CELSIUS}-{MAX_CELSIUS} °C.", pos)
        f.temperatures.add(t)
    if kind == "fever":
        (f.denied.add if denying else _said(f))("发热")
        f.fever_said = f.fever_said or not denying
    elif kind == "symptom":
        (f.denied.add if denying else _said(f))(_SYMPTOMS[m["sym"]])
    elif kind == "negated":
        f.denied.update("发热" if re.fullmatch(_FEVERS, s) else _SYMPTOMS[s]
                        for s in re.findall(_ANY_SYM, m["neg_v"] or "发热"))
    f.normal_said = f.normal_said or kind == "normal"
    f.no_visitors = f.no_visitors or kind == "no_visitor"


def _said(f: _Facts) -> Callable[[str], None]:
    """How a symptom said of nobody in particular (发烧, 咳嗽) is kept."""
    def add(symptom: str) -> None:
        f.symptoms.append(symptom)
        f.loose.append(symptom)
    return add


def _findings(f: _Facts, temperature: float | None) -> tuple[Finding, ...]:
    """Every person's finding (one per person as written, a reading at or above 37.3 °C
    adding 发热), then what is said of nobody in particular: the household's reading
    (``temperature``), readings listed without names and symptoms said without a person."""
    def hot(t: float | None, symptoms: list[str]) -> tuple[str, ...]:
        fever = t is not None and t >= FEVER_CELSIUS and "发热" not in symptoms
        return tuple(dict.fromkeys((["发热"] if fever else []) + symptoms))
    persons: dict[tuple[str | None, bool], tuple[float | None, list[str]]] = {}
    for p in f.persons:
        t, symptoms = persons.get((p.who, p.named), (None, []))
        readings = [x for x in (t, p.temperature) if x is not None]
        persons[p.who, p.named] = (max(readings, default=None), [*symptoms, *p.symptoms])
    out = [Finding(who, t, hot(t, s), named) for (who, named), (t, s) in persons.items()]
    t = max([*f.loose_readings, *([temperature] if temperature is not None else [])],
            default=None)
    if t is not None or f.loose:
        out.append(Finding(None, t, hot(t, f.loose)))
    return tuple(out)


def _phone(value: str, pos: int) -> str:
    """A masked phone is recorded as ``"masked"`` (never guessed); a real one must parse."""
    if re.search(_M, value):
        return "masked"
    for candidate in (value, value.replace("-", "")):
        try:
            return Phone.parse(candidate)
        except ValueError:
            pass
    digits = re.sub(r"\D", "", value)
    raise CheckInError("phone", f"The phone (part {pos}) {mask_phone(digits)!r} is not a "
                       "phone number.", pos)


def decide_status(temperature: float | None, fever_said: bool, normal_said: bool,
                  symptoms: list[str], denied: set[str]) -> Status:
    """A reading at or above 37.3 °C (the screening's fever threshold) or a reported 发热 is a
    fever, other symptoms make a report symptomatic, and a report contradicting itself
    (平安 with a symptom, 发热 with a normal reading, a symptom both reported and denied) or
    saying nothing about health is refused, as the check-in issue requires."""
    hot = temperature is not None and temperature >= FEVER_CELSIUS
    if fever_said and temperature is not None and not hot:
        raise CheckInError("status", f"发热 is reported but the temperature {temperature} is "
                           f"below {FEVER_CELSIUS} °C.")
    if both := sorted(denied & {*symptoms, *(["发热"] if hot else [])}):
        raise CheckInError("status", f"{'、'.join(both)} is both reported and denied.")
    if normal_said and (hot or symptoms):
        raise CheckInError("status", "平安/正常 is reported together with a fever or symptom.")
    if not (normal_said or temperature is not None or symptoms or denied):
        raise CheckInError("status", "The status (平安, 体温 or symptoms) is missing.")
    return Status.FEVER if hot or fever_said else \
        Status.SYMPTOMATIC if symptoms else Status.NORMAL


def _division(origin: str, pos: int) -> Division:
    """The division an origin names; a word that names none, several, or a country abroad is
    an error that keeps the word (``CheckInError.place``) and never a guess."""
    found = look_up(origin)
    if isinstance(found, Division):
        return found
    problem = {"unknown": f"The place of origin (part {pos}) is no province, city or district "
                          "of China.",
               "ambiguous": f"The place of origin (part {pos}) may be any of "
                            f"{'、'.join(found.candidates)}.",
               "overseas": f"The place of origin (part {pos}) is abroad "
                           f"({'; '.join(found.candidates)}).",
               }[found.why]
    raise CheckInError("place", problem, pos, place=found)


def _one(values: set[_T], part: str, what: str) -> _T | None:
    if len(values) > 1:
        raise CheckInError(part, f"The report gives {len(values)} different {what}.")
    return next(iter(values), None)


def parse_check_in(text: str, *, members_required: bool = True) -> CheckIn:
    """Read one household's chat report, or raise ``CheckInError`` naming the unreadable part.
    ``members_required=False`` reads a report without a member count (``members`` 0): a
    monitored resident's daily reading (``501室 体温37.9 咳嗽``), no check-in."""
    if not text.strip() or len(text) > MAX_CHARS:
        raise CheckInError("text", f"The report is empty or longer than {MAX_CHARS} characters.")
    parts = _split(text)
    for p in parts:
        _classify(p)
    visitors, parts = _visitors(parts)
    arrivals = tuple(Arrival(p.who, p.origin or "", p.days_ago, _division(p.origin or "", p.pos))
                     for p in parts if p.kind == "arrival")
    remarks = tuple(text[p.offsets[0]:p.offsets[-1] + 1] for p in parts if p.kind == "remark")
    parts = [p for p in parts if p.kind not in ("arrival", "remark")]
    address = _address(parts, text)
    f = _read(parts)
    if (members := _one(f.members, "members", "member counts")) is None:
        if members_required:
            raise CheckInError("members", "The member count is missing.")
        members = 0
    phone = _one(f.phones, "phone", "phones")
    temperature = _one(f.temperatures, "temperature", "temperatures")
    findings = _findings(f, temperature)
    if temperature is not None:
        f.readings.append(temperature)
    if f.readings:  # the highest of the members' readings decides, as on a visit
        temperature = max(f.readings)
    if f.no_visitors and visitors:
        raise CheckInError("visitor", "The report says both 无访客 and names a visitor.")
    symptoms = list(dict.fromkeys(f.symptoms))
    hot = temperature is not None and temperature >= FEVER_CELSIUS
    fine = f.normal_said or (f.some_normal and not (symptoms or f.fever_said or hot))
    status = decide_status(temperature, f.fever_said, fine, symptoms, f.denied)
    if status is Status.FEVER and "发热" not in symptoms:
        symptoms.insert(0, "发热")
    return CheckIn(address=address, members=members,
                   phone=phone if isinstance(phone, Phone) else None,
                   phone_masked=phone == "masked", status=status, temperature=temperature,
                   symptoms=tuple(symptoms), visitors=tuple(visitors), raw=text,
                   arrivals=arrivals, remarks=remarks, findings=findings)


def part_of(text: str, position: int | None) -> str | None:
    """The words of part ``position`` (1-based, as ``CheckInError.position`` counts) as they
    were written, for a reason that quotes what was not understood; None without one."""
    if position is None:
        return None
    parts = _split(text)
    if not 1 <= position <= len(parts):
        return None
    offsets = parts[position - 1].offsets
    return text[offsets[0]:offsets[-1] + 1] if offsets else None


def parse_many(text: str) -> CheckInBatch:
    """Read a message of reports, one per line; blank lines are skipped, every other line is
    either a check-in or an error, each with its line number."""
    done, errors = [], []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            done.append((n, parse_check_in(line)))
        except CheckInError as e:
            e.line = n
            errors.append((n, e))
    return CheckInBatch(tuple(done), tuple(errors))
