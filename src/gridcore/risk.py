"""Risk areas (风险地区) and the vehicle rule of the checkpoints (车辆疫查通).

A risk-area declaration names an area (a place name such as '武汉市', or a plate region such as
'鄂A'), a level and a period: it starts at ``start`` and ends before ``until`` (open when
``until`` is None); a lift ends it early. The ``RiskRegister`` aggregate keeps every
declaration; the rules below are pure and take the periods as a mapping area -> periods.

The vehicle rule (``vehicle_alert_reason``): a pass alerts when the plate's travel records of
the policy's lookback days touch an area while it was high-risk, or when the plate's
registration region (its prefix, e.g. 鄂A) is high-risk at the time of the pass.

Each declaration also records its scope: the grid node whose administration declared it (the
declaring official's jurisdiction, or a node inside it). Only an official whose jurisdiction
contains that node may lift it (``gridcore.authority``); a declaration of the system (an
external feed), or one stored before scopes were recorded, has none and belongs to the whole
city.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import DuplicateCode, InvalidInput, NotFound
from gridcore.policy import Policy

RISK_REGISTER_ID = stable_id("risk-register", "all")

# The provinces' one-character abbreviations (省份简称) that open a civilian plate.
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE = re.compile(rf"^[{PROVINCES}][A-Z][A-Z0-9]{{4,6}}$")
_SEPARATORS = re.compile(r"[\s·\-.]")


class RiskLevel(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def label(self) -> str:
        return {"high": "高风险 high", "medium": "中风险 medium", "low": "低风险 low"}[self.value]


class RiskPeriod(Immutable):
    """One declaration's period: from ``start`` (included) to ``until`` (excluded)."""

    declaration_id: str
    level: RiskLevel
    start: datetime
    until: datetime | None = None

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.until is None or at < self.until)


# ---- rules -------------------------------------------------------------------------------------

def normalize_plate(plate: str) -> str:
    """A plate as written on the car, upper case, without spaces, dots or hyphens
    ('鄂a·12345' -> '鄂A12345'); raises InvalidInput when it is not a civilian plate."""
    if plate and _PLATE.fullmatch(plate):  # written as normalized already (most feeds)
        return plate
    text = _SEPARATORS.sub("", plate or "").upper()
    if not _PLATE.fullmatch(text):
        raise InvalidInput(f"{plate!r} is not a vehicle plate.",
                           "Give a plate like '鄂A12345': a province character, the city "
                           "letter, then 4-6 letters or digits.")
    return text


def plate_region(plate: str) -> str:
    """The registration region of a plate: its province character and city letter ('鄂A')."""
    return normalize_plate(plate)[:2]


def check_area(area: str) -> str:
    """An area is named by 1-60 characters (a place name or a plate region such as '鄂A')."""
    text = (area or "").strip()
    if not 1 <= len(text) <= 60:
        raise InvalidInput(f"Area {area!r} is empty or too long.",
                           "Name the area in 1-60 characters, e.g. '武汉市' or '鄂A'.")
    return text


def check_aware(when: datetime, what: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise InvalidInput(f"The {what} {when.isoformat()} has no time zone.",
                           "Give an ISO 8601 time with its offset, e.g. 2020-02-17T08:00+08:00.")


def touches(place: str, area: str) -> bool:
    """A place touches an area when it is the area or lies inside it: its name starts with
    the area's name ('武汉市江岸区' touches '武汉市')."""
    return place.startswith(area)


class NamedPlace(Protocol):
    """A division as a gazetteer names it (湖北省, 黄冈市, 浠水县; 湖北省黄冈市浠水县): a level
    it has not (a province's city, 北京市's city) is None."""

    @property
    def province(self) -> str | None: ...
    @property
    def city(self) -> str | None: ...
    @property
    def district(self) -> str | None: ...
    @property
    def full_name(self) -> str: ...


_SHORT = re.compile(r"^(?P<s>.{2,}?)(?:(?:[^族]{1,4}族|维吾尔)+自治[区州县旗]|特别行政区|自治区"
                    r"|省|市|地区|盟|林区|新区|区|县|旗)$")
_PLATE_REGION = re.compile(rf"^[{PROVINCES}][A-Z]$")


def spellings(name: str) -> set[str]:
    """A division's name as people write it: in full, or without its level (湖北省 -> 湖北,
    恩施土家族苗族自治州 -> 恩施 or 恩施州, 新疆维吾尔自治区 -> 新疆)."""
    m = _SHORT.match(name)
    if not m:
        return {name}
    return {name, m["s"], m["s"] + "州"} if name.endswith("自治州") else {name, m["s"]}


def place_in_area(place: NamedPlace, area: str) -> bool:
    """A place lies in a declared area when the area's name is one or more of the place's own
    division names, from the wider to the narrower, each in full or without its level (湖北省,
    湖北, 黄冈, 湖北黄冈, 武汉市江岸区 and 湖北省黄冈市浠水县 name places that lie in them). An
    area named by a bare district name lies around every district of that name (朝阳区: in
    Beijing and in Changchun), the safe side for a risk area; a plate region (鄂A) names no
    place."""
    wanted = "".join(area.split())
    if not wanted or _PLATE_REGION.fullmatch(wanted):
        return False
    levels = [spellings(n) for n in (place.province, place.city, place.district) if n]
    if wanted == place.full_name:
        return True
    reach = {0: 0}  # characters of the area read -> the first level that may follow them
    for at in range(len(wanted)):
        if at not in reach:
            continue
        for i in range(reach[at], len(levels)):
            for end in (at + len(s) for s in levels[i] if wanted.startswith(s, at)):
                reach[end] = min(reach.get(end, i + 1), i + 1)
    return len(wanted) in reach


def high_risk_at(periods: Iterable[RiskPeriod], at: datetime) -> bool:
    """Whether some high-level period covers ``at``."""
    return any(p.level is RiskLevel.HIGH and p.covers(at) for p in periods)


def lookback_start(at: datetime, policy: Policy) -> datetime:
    """The earliest travel time that counts for a pass at ``at`` (the boundary counts)."""
    return at - timedelta(days=policy.travel_lookback_days)


def vehicle_alert_reason(plate: str, at: datetime, travel: Iterable[tuple[str, datetime]],
                         risk: Mapping[str, Sequence[RiskPeriod]],
                         policy: Policy) -> str | None:
    """Why a pass of ``plate`` at ``at`` alerts, or None: the plate's travel within the
    policy's lookback days (from ``at - travel_lookback_days`` to ``at``, both included)
    touched an area at a time it was high-risk (the latest such visit is named), or the
    plate's registration region is high-risk at ``at``. Travel after the pass is ignored."""
    return travel_alert_reason(at, travel, risk, policy) or region_alert_reason(plate, at, risk)


def travel_alert_reason(at: datetime, travel: Iterable[tuple[str, datetime]],
                        risk: Mapping[str, Sequence[RiskPeriod]], policy: Policy) -> str | None:
    """The travel half of the vehicle rule (a plate without travel records skips it)."""
    since = lookback_start(at, policy)
    hits = sorted(((when, place, area) for place, when in travel if since <= when <= at
                   for area, periods in risk.items()
                   if touches(place, area) and high_risk_at(periods, when)),
                  key=lambda h: (h[0], h[1], h[2]), reverse=True)
    if not hits:
        return None
    when, place, area = hits[0]
    return (f"{policy.travel_lookback_days}天内到过高风险地区 visited high-risk area "
            f"{area}: {place} at {when.isoformat()}")


def region_alert_reason(plate: str, at: datetime,
                        risk: Mapping[str, Sequence[RiskPeriod]]) -> str | None:
    """The region half of the vehicle rule: the plate's registration region is high-risk."""
    region = plate[:2] if _PLATE.fullmatch(plate) else plate_region(plate)
    periods = risk.get(region)
    if periods and high_risk_at(periods, at):
        return f"车牌属地为高风险地区 plate region {region} is high-risk"
    return None


# ---- the register ------------------------------------------------------------------------------

class RiskRegister(Aggregate):
    """Every risk-area declaration, by its id, with its area and period."""

    areas: dict[str, str]
    periods: dict[str, RiskPeriod]
    scopes: dict[str, str | None]

    class Opened(Created):
        def apply(self, r: RiskRegister) -> None:
            r.areas, r.periods, r.scopes = {}, {}, {}

    class Declared(Event):
        """v1 had no ``scope``; v2 records the node whose administration declared it."""

        class_version: ClassVar[int] = 2

        declaration_id: str
        area: str
        level: RiskLevel
        start: datetime
        until: datetime | None = None
        scope: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["scope"] = None  # before scopes: the whole city's

        def apply(self, r: RiskRegister) -> None:
            r.areas[self.declaration_id] = self.area
            r.scopes[self.declaration_id] = self.scope
            r.periods[self.declaration_id] = RiskPeriod(
                declaration_id=self.declaration_id, level=self.level, start=self.start,
                until=self.until)

    class Lifted(Event):
        declaration_id: str
        lifted_at: datetime

        def apply(self, r: RiskRegister) -> None:
            p = r.periods[self.declaration_id]
            r.periods[self.declaration_id] = p.model_copy(update={"until": self.lifted_at})

    @classmethod
    def open(cls, at: datetime) -> RiskRegister:
        return cls._create(cls.Opened, RISK_REGISTER_ID, at)

    def declare(self, declaration_id: str, area: str, level: RiskLevel, start: datetime,
                until: datetime | None, at: datetime, scope: str | None = None) -> bool:
        """Record a declaration; False (nothing recorded) when this very declaration is
        already on record, DuplicateCode when its id was used for a different one."""
        check_input_id(declaration_id, "declaration")
        area = check_area(area)
        check_aware(start, "start")
        if until is not None:
            check_aware(until, "end")
            if until <= start:
                raise InvalidInput(f"The declaration of {area} ends before it starts.",
                                   "Give an end (until) after the start, or none.")
        known = self.periods.get(declaration_id)
        if known is not None:
            if (self.areas[declaration_id], known.level, known.start) == (area, level, start):
                return False
            raise DuplicateCode(f"Declaration {declaration_id} is already on record for "
                                f"{self.areas[declaration_id]}.",
                                "Give each declaration its own id.")
        self._trigger(self.Declared, at, declaration_id=declaration_id, area=area, level=level,
                      start=start, until=until, scope=scope)
        return True

    def scope_of(self, declaration_id: str, area: str) -> str | None:
        """The node a declaration was made for (None: the whole city); NotFound when there is
        no such declaration for ``area``."""
        if declaration_id not in self.periods or self.areas[declaration_id] != check_area(area):
            raise NotFound(f"No declaration {declaration_id} for {area}.",
                           "Lift a declaration by the id and area it was declared with.")
        return self.scopes.get(declaration_id)

    def lift(self, declaration_id: str, area: str, lifted_at: datetime, at: datetime) -> bool:
        """End a declaration at ``lifted_at``; False when it already ended by then."""
        check_aware(lifted_at, "lift time")
        known = self.periods.get(declaration_id)
        if known is None or self.areas[declaration_id] != check_area(area):
            raise NotFound(f"No declaration {declaration_id} for {area}.",
                           "Lift a declaration by the id and area it was declared with.")
        if lifted_at < known.start:
            raise InvalidInput(f"Declaration {declaration_id} would be lifted before it "
                               "started.", f"Give a time at or after {known.start.isoformat()}.")
        if known.until is not None and known.until <= lifted_at:
            return False
        self._trigger(self.Lifted, at, declaration_id=declaration_id, lifted_at=lifted_at)
        return True

    def by_area(self) -> dict[str, list[RiskPeriod]]:
        """The periods of each area, in start order."""
        out: dict[str, list[RiskPeriod]] = {}
        for did, period in sorted(self.periods.items(), key=lambda i: (i[1].start, i[0])):
            out.setdefault(self.areas[did], []).append(period)
        return out


def check_input_id(value: str, what: str) -> str:
    """An input's own id (a detection, pass, record or declaration id) is 1-200 characters."""
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= 200 or value != value.strip():
        raise InvalidInput(f"The {what} id {str(value)[:40]!r} is empty, padded or too long.",
                           f"Send the {what}'s own id as issued (1-200 characters).")
    return value
