"""Places of origin (黄冈, 湖北黄冈, 武汉市江岸区, 云南) read against a gazetteer of China's
administrative divisions: the province, city and district (县/区) tables that ship with the
``cpca`` package (3,500 divisions with their 6-digit adcodes), and the country names of
``pycountry`` (ISO 3166, in its zh_CN translation) to say that a word is a foreign country.

Why not ``cpca.transform``: it builds a pandas DataFrame per call (milliseconds per word), turns
a missing level into NaN, and picks the first candidate of an ambiguous word without saying so
(``吉林`` gives 吉林省 and hides 吉林市, ``朝阳区`` gives Changchun's). Its lower-level tables
(``cpca.ad_2_addr_dict``, adcode -> name) are read once here into our own index of full and
short names (湖北省/湖北, 黄冈市/黄冈, 恩施土家族苗族自治州/恩施, 浠水县/浠水), and a word is read
as a chain of names, each inside the one before (湖北 + 黄冈, 武汉市 + 江岸区, 湖北 + 浠水):
every reading of the whole word is found, and a word with readings that name different
divisions (吉林, 朝阳) is ambiguous, never guessed. A township, village or street after a
city or district (浠水县兰溪镇) is kept in the words and not resolved further. Results are
cached per word; nothing is printed or warned.
"""

from __future__ import annotations

import gettext
import re
import sys
import types
import warnings
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal, NamedTuple

_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
_SPECIAL = {"内蒙古自治区": "内蒙古", "广西壮族自治区": "广西", "西藏自治区": "西藏",
            "新疆维吾尔自治区": "新疆", "宁夏回族自治区": "宁夏", "香港特别行政区": "香港",
            "澳门特别行政区": "澳门"}
_ETHNIC = re.compile(r"^(?P<s>.{2,}?)(?:[^族]{1,4}族)+自治[州县旗]$")
_SUFFIX = re.compile(r"^(?P<s>.{2,}?)(?:省|市|自治区|地区|盟|林区|新区|区|县|旗)$")
_FILLER = re.compile(r"(?:那边|那里|这边|一带|附近|老家|地区)+$")
_BELOW = re.compile(r"[^\W\d_]{1,10}(?:镇|乡|街道|村|屯|社区|开发区)")
"""what may follow a city or district and is not resolved: a township, village or street"""


class Division(NamedTuple):
    """A division as the gazetteer names it: ``province`` (湖北省), ``city`` (黄冈市; None for a
    province, or where the province has no city level, as for 北京市朝阳区 or 湖北省仙桃市),
    ``district`` (浠水县; None above county level), its 6-digit ``adcode`` and ``full_name``
    (湖北省黄冈市浠水县)."""

    province: str
    city: str | None
    district: str | None
    adcode: str
    full_name: str


class Unresolved(NamedTuple):
    """Why ``word`` names no division: ``unknown`` (no division of that name), ``ambiguous``
    (several, listed in ``candidates``), or ``overseas`` (a foreign country, in ``candidates``
    its ISO name)."""

    word: str
    why: Literal["unknown", "ambiguous", "overseas"]
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Entry:
    adcode: str  # 6 digits
    name: str
    rank: int  # 0 province, 1 city, 2 district

    def inside(self, other: _Entry) -> bool:
        return self.rank > other.rank and self.adcode.startswith(
            other.adcode[:2 * (other.rank + 1)])


def _import_cpca() -> Any:
    """``cpca`` loads its table through ``pkg_resources``, which setuptools 82 removed: when it
    is missing, a stand-in that reads the package's file is provided for that import only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import cpca
        except ModuleNotFoundError as e:
            if e.name != "pkg_resources":
                raise
            from importlib.resources import files

            shim = types.ModuleType("pkg_resources")
            shim.resource_stream = (  # type: ignore[attr-defined]
                lambda package, name: files(package).joinpath(name).open("rb"))
            sys.modules["pkg_resources"] = shim
            try:
                import cpca
            finally:
                sys.modules.pop("pkg_resources", None)
    return cpca


def _short(name: str, rank: int) -> tuple[str, int] | None:
    """A name's short form and how weak it is: 1 for a province's or city's (湖北, 黄冈), 2 for
    an autonomous prefecture's (恩施土家族苗族自治州: 恩施) and 3 for a district's (浠水县: 浠水),
    so that 长沙 is the city and not also 长沙县, 海南 the province and not 海南藏族自治州."""
    if name in _SPECIAL:
        return _SPECIAL[name], 1
    if m := _ETHNIC.match(name):
        return m["s"], 2 if rank < 2 else 3
    if m := _SUFFIX.match(name):
        return m["s"], 1 if rank < 2 else 3
    return None


@cache
def _index() -> tuple[dict[str, list[tuple[_Entry, int]]], dict[str, _Entry]]:
    """Every full and short name -> the divisions it names with the name's weakness (0 for a
    full name); adcode -> division."""
    cpca = _import_cpca()
    by_code: dict[str, _Entry] = {}
    for code, info in cpca.ad_2_addr_dict.items():
        if info.name in _PLACEHOLDERS:
            continue
        by_code[code[:6]] = _Entry(code[:6], info.name, info.rank)
    names: dict[str, list[tuple[_Entry, int]]] = defaultdict(list)
    for e in by_code.values():
        names[e.name].append((e, 0))
        if (short := _short(e.name, e.rank)) and short[0] != e.name:
            names[short[0]].append((e, short[1]))
    return dict(names), by_code


@cache
def _countries() -> dict[str, str]:
    """Country names in Chinese (ISO 3166 in pycountry's zh_CN translation) -> English name;
    China and its regions are left to the divisions."""
    import pycountry

    t = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["zh_CN"])
    out: dict[str, str] = {}
    for c in pycountry.countries:
        if c.alpha_2 in ("CN", "TW", "HK", "MO"):
            continue
        for attr in ("common_name", "name", "official_name"):
            if value := getattr(c, attr, None):
                out.setdefault(t.gettext(value), str(c.name))
    return out


def _readings(word: str, at: int, parent: _Entry | None,
              weakness: int = 0) -> set[tuple[int, int, _Entry]]:
    """Every reading of ``word[at:]`` as a chain of names inside ``parent``: (characters left
    unresolved, the weakest name used, the deepest division)."""
    if at == len(word):
        return {(0, weakness, parent)} if parent is not None else set()
    names, _ = _index()
    found: set[tuple[int, int, _Entry]] = set()
    for end in range(len(word), at + 1, -1):
        for e, weak in names.get(word[at:end], ()):
            if parent is None or e.inside(parent):
                found |= _readings(word, end, e, max(weakness, weak))
    if parent is not None and parent.rank >= 1 and _BELOW.fullmatch(word[at:]):
        found.add((len(word) - at, weakness, parent))
    return found


def _division(e: _Entry) -> Division:
    _, by_code = _index()
    province = by_code[e.adcode[:2] + "0000"].name
    city_entry = by_code.get(e.adcode[:4] + "00") if e.rank >= 1 else None
    city = city_entry.name if city_entry is not None and city_entry.rank == 1 else None
    district = e.name if e.rank == 2 else None
    full = "".join(n for n in (province, city, district) if n)
    return Division(province, city, district, e.adcode, full)


@lru_cache(maxsize=4096)
def look_up(word: str) -> Division | Unresolved:
    """The division ``word`` names (黄冈 -> 湖北省黄冈市), or why it names none."""
    text = _FILLER.sub("", re.sub(r"\s+", "", word)).removeprefix("中国")
    every = _readings(text, 0, None) if text else set()
    best = min(((left, weak) for left, weak, _ in every), default=None)
    readings = {e for left, weak, e in every if (left, weak) == best}
    if len(readings) == 1:
        return _division(next(iter(readings)))
    if readings:
        names = sorted(_division(e).full_name for e in readings)
        return Unresolved(word, "ambiguous", tuple(names))
    if country := _countries().get(text):
        return Unresolved(word, "overseas", (country,))
    return Unresolved(word, "unknown")


def resolve(word: str) -> Division | None:
    """The division ``word`` names, or None (unknown, ambiguous or abroad)."""
    found = look_up(word)
    return found if isinstance(found, Division) else None
