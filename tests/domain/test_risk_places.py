"""``gridcore.risk.place_in_area``: whether a place of origin, named as its divisions, lies in a
declared risk area named as people name areas (湖北省, 黄冈, 湖北黄冈, 武汉市江岸区)."""

from __future__ import annotations

from typing import NamedTuple

from hypothesis import given
from hypothesis import strategies as st

from gridcore.risk import PROVINCES, place_in_area, spellings


class Place(NamedTuple):
    province: str | None
    city: str | None
    district: str | None
    full_name: str


def place(*names: str | None) -> Place:
    return Place(*names, "".join(n for n in names if n))


# real divisions, with no name shared between two provinces
PLACES = [place("湖北省", "黄冈市", "浠水县"), place("湖北省", "武汉市", "江岸区"),
          place("湖北省", "武汉市", None), place("湖北省", None, "仙桃市"),
          place("湖北省", "恩施土家族苗族自治州", "恩施市"), place("山东省", "青岛市", "市南区"),
          place("北京市", None, "朝阳区"), place("新疆维吾尔自治区", "乌鲁木齐市", "天山区"),
          place("云南省", None, None), place("浙江省", "温州市", "鹿城区")]


@st.composite
def areas_containing(draw: st.DrawFn, p: Place) -> str:
    """An area named by some of ``p``'s levels, wider to narrower, each spelled either way."""
    levels = [n for n in (p.province, p.city, p.district) if n]
    chosen = draw(st.lists(st.sampled_from(range(len(levels))), min_size=1, unique=True))
    return "".join(draw(st.sampled_from(sorted(spellings(levels[i])))) for i in sorted(chosen))


@given(st.sampled_from(PLACES).flatmap(lambda p: st.tuples(st.just(p), areas_containing(p))))
def test_a_place_lies_in_every_area_named_by_its_own_levels(case: tuple[Place, str]) -> None:
    p, area = case
    assert place_in_area(p, area)
    assert place_in_area(p, f" {area} ")


@given(st.sampled_from(PLACES),
       st.sampled_from(PLACES).flatmap(lambda q: st.tuples(st.just(q), areas_containing(q))))
def test_a_place_never_lies_in_an_area_of_another_province(p: Place,
                                                           other: tuple[Place, str]) -> None:
    q, area = other
    if q.province != p.province:
        assert not place_in_area(p, area)


@given(st.sampled_from(PLACES), st.sampled_from(PROVINCES), st.sampled_from("ABCDEFGHJK"))
def test_a_plate_region_names_no_place(p: Place, province: str, letter: str) -> None:
    assert not place_in_area(p, province + letter)


@given(st.sampled_from([p for p in PLACES if p.city and p.district]))
def test_narrower_before_wider_is_no_area_of_the_place(p: Place) -> None:
    assert p.city and p.district
    assert not place_in_area(p, p.district + p.city)
    assert not place_in_area(p, p.city[:-1] + "x")


def test_examples_of_the_rule() -> None:
    huanggang = place("湖北省", "黄冈市", None)
    assert all(place_in_area(huanggang, a) for a in ("黄冈", "黄冈市", "湖北", "湖北省黄冈市",
                                                     "湖北黄冈"))
    assert not any(place_in_area(huanggang, a) for a in ("武汉市", "鄂A", "", "湖北省黄",
                                                         "黄冈市浠水县"))
    enshi = place("湖北省", "恩施土家族苗族自治州", None)
    assert place_in_area(enshi, "恩施州") and place_in_area(enshi, "恩施")
    assert place_in_area(place("新疆维吾尔自治区", None, None), "新疆")
