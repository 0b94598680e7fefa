"""Every command of the application, driven with extreme values, on SQLite with every read model.

For each command the parameters are drawn from their type hints: datetimes at the limits of the
type (naive and aware, the far past and the far future, every offset), NaN and infinities,
integers far beyond 64 bits, empty and 100,000-character strings, control characters,
bidirectional overrides and lone surrogates, and lists of 25,000 items, mixed with values that
name the community's real nodes, households, residents and staff so that the commands get past
their look-ups and reach the store. Each call must end one of two ways:

- refused with a typed error (``GridcoreError``, or pydantic's ``ValidationError`` for a value
  that cannot even be built) that says what was wrong, and nothing written; or
- stored, and then applied by every read model: after ``catch_up`` each projection's lag is 0
  and none is stuck.

Anything else (an ``OverflowError`` from a projection, a ``UnicodeEncodeError`` from the store, a
stuck read model) is the class of fault the hardening issue found with one far-future date.
"""

from __future__ import annotations

import inspect
import types
import typing
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from adapters.settings import sqlite_env
from gridcore.app_base import HouseholdRow
from gridcore.application import GridcoreApp
from gridcore.assistance import AssistanceRow
from gridcore.authority import System
from gridcore.base import Event
from gridcore.building import BuildingRow
from gridcore.daily_report import ReportFigures
from gridcore.delivery import DeliveryKind, Item, delivery_id
from gridcore.enterprise import enterprise_id
from gridcore.errors import GridcoreError
from gridcore.geo import Area, Point
from gridcore.household import Member
from gridcore.mass_testing import SamplingSite, mass_testing_id
from gridcore.mass_testing_commands import SampleRow
from gridcore.policy import DEFAULT_POLICY, Policy
from gridcore.referral import ReferralKind
from gridcore.requests import Category, Channel, Grade
from gridcore.staff import Role, StaffRow
from gridcore.staff_commands import new_member
from gridcore.status import Measure, Tag, TagKind
from gridcore.sweep import Method, Outcome, campaign_id
from gridcore.sweep_commands import VisitRow
from projections import all_projections
from projections.runner import Runner
from tests.conftest import Clock
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET, ZONES, Community, given_community

# hypothesis warns about reprs of the 100,000-character strings and 25,000-item lists: meant
pytestmark = pytest.mark.filterwarnings("ignore:Generating overly large repr")

NOW = datetime(2020, 2, 17, 8, 0, tzinfo=UTC)
HUGE = 100_000
MANY = 25_000

EXTREME_TIMES: list[datetime] = [
    datetime.min, datetime.max,
    datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14))),
    datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=14))),
    datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=23, minutes=59))),
    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(-timedelta(hours=23, minutes=59))),
    NOW.replace(tzinfo=None),                       # naive
    NOW + timedelta(days=3650),                     # ten years ahead
    NOW - timedelta(days=365 * 30),                 # before any epidemic
    NOW, NOW - timedelta(hours=1), NOW - timedelta(days=2),
]
EXTREME_TEXTS: list[str] = [
    "", " ", "\t\n", "x" * HUGE, "名" * HUGE, "\x00", "a\x00b", "\x07\x1b[2J", "\r\n\r\n",
    "\u202eevil\u202c", "\u2066iso\u2069", "\ufeff", "\ud800", "a\udfffb", "\U0010ffff",
    "=HYPERLINK(\"http://x\")", "' OR 1=1 --", "9" * 400, "NaN", "-1",
]
EXTREME_INTS: list[int] = [0, -1, 1, 2**31, 2**63, -(2**63) - 1, 10**30, -(10**30)]
EXTREME_FLOATS: list[float] = [float("nan"), float("inf"), float("-inf"), -0.0, 1e308, -1e308,
                               5e-324, 0.9, 1.0, 0.5]

CODE_PARAMS = {"code", "scope", "micro_grid", "community", "grid_code", "node_code", "area",
               "parent_code", "new_parent_code", "into_code", "jurisdiction", "zone", "features",
               "community_code"}


@dataclass
class World:
    app: GridcoreApp
    runner: Runner
    c: Community
    residents: list[uuid.UUID]
    codes: list[str]
    ids: dict[str, list[uuid.UUID]]
    staff: list[uuid.UUID]
    names: dict[str, list[str]]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    path = tmp_path_factory.mktemp("extreme") / "gridcore.sqlite"
    app = GridcoreApp(sqlite_env(str(path)), clock=Clock(NOW))
    c = given_community(app)
    hh = app.household(c.households[0])
    app.register_camera("CAM-1", ZONES[0], household_id=hh.id, by=System.OPERATOR)
    app.register_checkpoint("CP-1", ZONES[0], "卡口一", by=System.OPERATOR)
    app.register_quarantine_site("QS-1", "隔离点一", STREET, 50, by=System.OPERATOR)
    app.enrol_staff("ES1", "专员甲", Role.ENTERPRISE_SPECIALIST, COMMUNITY, 0, by=System.OPERATOR)
    app.enrol_staff("DL1", "总值班", Role.DUTY_LEAD, COMMUNITY, 0, by=System.OPERATOR)
    app.enrol_staff("POL1", "民警", Role.COMMUNITY_POLICE, COMMUNITY, 10, by=System.OPERATOR)
    app.register_enterprise("91420100MA4KXXXX0X", "企业一", "经信局", ZONES[0],
                            app.staff_by_no("ES1").id, by=System.OPERATOR)
    app.launch_campaign(COMMUNITY, 1, 3, "摸排", by=System.OPERATOR)
    # a resident under home quarantine, so door-camera detections raise alerts
    app.change_measure(hh.id, next(iter(hh.residents)), Measure.HOME_QUARANTINE, c.doctor,
                       "密接")
    quarantined = next(iter(hh.residents))
    app.open_referral(hh.id, quarantined, ReferralKind.CENTRALIZED_QUARANTINE, "密接转运",
                      by=c.official)
    app.place_order(c.households[1], "ORD-1", [Item(name="大米", quantity=5, unit="kg")],
                    by=System.OPERATOR)
    # items in later states, so the commands on alerts, requests, deliveries and enterprises
    # get past their state checks too
    alert = app.record_camera_detection("D-W", "CAM-1", NOW, "out", 0.95, by=System.OPERATOR)
    filing = app.file_request(Channel.HOTLINE, Category.MEDICAL, Grade.NORMAL, "家里老人需要买药",
                              phone="13912345678", address="1栋2单元301", grid=ZONES[0],
                              by=System.PUBLIC)
    app.place_order(c.households[2], "ORD-2", [Item(name="药品", quantity=1, unit="份")],
                    by=System.OPERATOR)
    app.batch_purchase(COMMUNITY, app.staff_by_no("DL1").id)
    app.dispatch_deliveries(COMMUNITY, [c.volunteer], by=System.OPERATOR)
    eid = enterprise_id("91420100MA4KXXXX0X")
    app.file_resumption(eid, list(DEFAULT_POLICY.resumption_checklist), 20, by=System.OPERATOR)
    app.declare_employee_health(eid, 20, 0, by=System.OPERATOR)
    app.review_resumption(eid, c.official, True)
    listed = app.receive_assistance_list("other_city", "协查-W", [
        AssistanceRow(name="某某", address="712社区")], CITY, by=System.OPERATOR).list_id
    app.launch_testing_campaign(COMMUNITY, 1, [SamplingSite(site_id="CY-1", name="采样点",
                                                            place=COMMUNITY)],
                                by=c.official)
    app.record_samples(mass_testing_id(COMMUNITY, 1),
                       [SampleRow(c.households[1], rid, "TUBE-1")
                        for rid in app.household(c.households[1]).residents], by=c.worker)
    # risk zones (三区划分), drawn by an official of the street
    app.enrol_staff("OFF-S", "街道主任", Role.OFFICIAL, STREET, 0, by=System.OPERATOR)
    zoning = app.draw_risk_zones(COMMUNITY, points=[Point(lng=114.3, lat=30.6)],
                                 by=app.staff_by_no("OFF-S").id).zoning_id
    runner = Runner(app, all_projections())
    runner.catch_up()
    w = World(
        app, runner, c, list(hh.residents),
        codes=[CITY, DISTRICT, STREET, COMMUNITY, *ZONES],
        ids={"enterprise": [enterprise_id("91420100MA4KXXXX0X")],
             "cid": [campaign_id(COMMUNITY, 1)],
             "referral_id": [r.id for r in app.open_referrals(COMMUNITY)],
             "delivery": [delivery_id(DeliveryKind.ORDER, "ORD-1"),
                          delivery_id(DeliveryKind.ORDER, "ORD-2")],
             "alert_id": [alert] if alert is not None else [],
             "request": [filing.request_id], "list_id": [listed],
             "testing_id": [mass_testing_id(COMMUNITY, 1)],
             "follow_up_of": [mass_testing_id(COMMUNITY, 1)], "zoning_id": [zoning]},
        staff=[app.staff_by_no(no).id
               for no in ("OFF1", "GW1", "DOC1", "ES1", "DL1", "POL1", "OFF-S")],
        names={"camera_id": ["CAM-1"], "checkpoint_id": ["CP-1"], "site_code": ["QS-1"],
               "plate": ["鄂A12345", "京B88888"], "place": ["鄂A", "武汉市"],
               "credit_code": ["91420100MA4KYYYY0Y"], "request": [filing.reference],
               "item": list(DEFAULT_POLICY.inspection_items), "tube_code": ["TUBE-1"]},
    )
    yield w
    app.close() if hasattr(app, "close") else None


def _commands() -> list[str]:
    names = []
    for name, member in inspect.getmembers(GridcoreApp):
        if name.startswith("_") or not callable(member) or not hasattr(member, "__wrapped__"):
            continue
        names.append(name)
    return sorted(names)


COMMANDS = _commands()


def _uuid(world: World, param: str, extreme: bool) -> st.SearchStrategy[uuid.UUID]:
    c = world.c
    if extreme:
        return st.just(uuid.UUID(int=7)) | st.uuids()
    if param in {"hid", "household", "household_id"}:
        return st.sampled_from(c.households[:1])  # the household whose residents ``rid`` names
    if param == "rid":
        return st.sampled_from(world.residents)
    if param in {"by", "staff", "sid", "staff_id", "specialist"}:
        return st.sampled_from(world.staff)
    found = world.ids.get(param)
    return st.sampled_from(found) if found else st.uuids()


def _text(world: World, param: str, extreme: bool,
          fresh: bool = False) -> st.SearchStrategy[str]:
    if extreme:
        return st.sampled_from(EXTREME_TEXTS) | st.text(max_size=12)
    if param in {"micro_grid", "zone", "codes", "into_code"}:
        return st.sampled_from(ZONES)
    if param in CODE_PARAMS:
        existing = st.sampled_from(world.codes)
        return existing | existing.flatmap(  # a child code, for commands that create nodes
            lambda parent: st.from_regex(r"[0-9]{2}", fullmatch=True).map(lambda s: parent + s))
    known = None if fresh else world.names.get(param)
    return st.sampled_from(known) if known else st.from_regex(r"[A-Z0-9][A-Za-z0-9-]{2,10}",
                                                               fullmatch=True)


def _square(x: float, y: float, d: float) -> Area:
    ring = ((x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y))
    return Area(polygons=((ring,),))


def _times(extreme: bool) -> st.SearchStrategy[datetime]:
    if extreme:
        return (st.sampled_from(EXTREME_TIMES)
                | st.datetimes(timezones=st.none() | st.timezones() | st.just(UTC)))
    return st.integers(0, 48 * 60).map(lambda m: NOW - timedelta(minutes=m))


def strategy(world: World, param: str, hint: Any, extreme: bool = False,
             fresh: bool = False) -> st.SearchStrategy[Any]:
    """Values of ``hint`` for ``param``: plausible ones (real codes, ids, recent times) or,
    with ``extreme``, the limits of the type."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        enums = [a for a in args if isinstance(a, type) and issubclass(a, Enum)]
        if enums and not extreme:  # ``Kind | str``: the plausible values are the kinds
            args = tuple(a for a in args if a is not str)
        return st.one_of([strategy(world, param, a, extreme, fresh) for a in args])
    if hint is type(None):
        return st.none()
    if hint is Any:
        texts = st.sampled_from(EXTREME_TEXTS) if extreme else st.text(max_size=20)
        return st.none() | st.dictionaries(st.sampled_from(["text", "symptoms", "x"]),
                                           texts | st.integers())
    if hint is uuid.UUID:
        return _uuid(world, param, extreme)
    if hint is str:
        return _text(world, param, extreme, fresh)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.sampled_from(EXTREME_INTS) if extreme else st.integers(1, 30)
    if hint is float:
        return (st.sampled_from(EXTREME_FLOATS) | st.floats()) if extreme else st.floats(0, 1)
    if hint is datetime:
        return _times(extreme)
    if hint is date:
        return st.dates() if extreme else st.dates(date(2020, 1, 1), date(2020, 2, 16))
    if isinstance(hint, type) and issubclass(hint, Enum):
        return st.sampled_from(list(hint))
    if origin in (list, Sequence, tuple) and args:
        if origin is tuple and Ellipsis not in args:
            return st.tuples(*(strategy(world, param, a, extreme) for a in args))
        item = strategy(world, param, args[0], extreme)
        if extreme:
            return st.lists(item, max_size=3) | item.map(lambda v: [v] * MANY)
        return st.lists(item, min_size=1, max_size=3)
    if origin in (dict, Mapping) and args:
        return st.dictionaries(strategy(world, param, args[0], extreme),
                               strategy(world, param, args[1], extreme), max_size=3)
    if hint is Member:
        return st.builds(lambda no, name, phone, year: new_member("712-1-0", no, name, phone,
                                                                  None, year),
                         st.sampled_from(EXTREME_INTS) if extreme else st.integers(3, 99),
                         _text(world, "name", extreme),
                         st.none() | (_text(world, "phone", True) if extreme
                                      else st.just("13912345678")),
                         st.none() | (st.sampled_from(EXTREME_INTS) if extreme
                                      else st.integers(1930, 2019)))
    if hint is Tag:
        return st.builds(Tag, kind=st.sampled_from(list(TagKind)),
                         origin=st.none() | _text(world, "origin", extreme),
                         arrived_on=st.none() | strategy(world, "arrived_on", date, extreme),
                         note=_text(world, "note", extreme))
    if hint is Item:
        return st.builds(Item, name=_text(world, "name", extreme),
                         quantity=strategy(world, "quantity", float, extreme),
                         unit=_text(world, "unit", extreme))
    if hint is ReportFigures:  # a daily report's counts, or the limits of an int
        counts = st.sampled_from(EXTREME_INTS) if extreme else st.integers(0, 50)
        return st.builds(ReportFigures, households=counts, residents=counts,
                         home_quarantine=counts, close_contacts=counts)
    if hint is Policy:
        ints = strategy(world, "n", int, extreme)
        return st.builds(lambda cap, hours: DEFAULT_POLICY.model_copy(update={
            "micro_grid_soft_cap": cap, "negative_test_max_age_hours": hours}), ints, ints)
    if hint is VisitRow:
        return st.builds(VisitRow, household_id=_uuid(world, "hid", extreme),
                         method=st.sampled_from(list(Method)),
                         outcome=st.sampled_from(list(Outcome)), by=_uuid(world, "by", extreme),
                         visited_at=st.none() | _times(extreme),
                         details=strategy(world, "details", Any, extreme))
    if hint is AssistanceRow:
        phone = _text(world, "phone", True) if extreme else st.just("13912345678")
        return st.builds(AssistanceRow, name=_text(world, "name", extreme),
                         phone=st.just("") | phone, address=_text(world, "address", extreme),
                         district=st.just("") | _text(world, "district", extreme),
                         reason=st.just("") | _text(world, "reason", extreme))
    if hint is SamplingSite:
        return st.builds(SamplingSite, site_id=_text(world, "site_id", extreme),
                         name=_text(world, "name", extreme),
                         place=st.sampled_from([COMMUNITY, *ZONES]) if not extreme
                         else _text(world, "place", extreme),
                         opens_hour=st.integers(0, 12), closes_hour=st.integers(13, 24),
                         capacity_per_hour=st.integers(1, 10_000))
    if hint is SampleRow:
        return st.builds(SampleRow, household_id=_uuid(world, "hid", extreme),
                         resident_id=_uuid(world, "rid", extreme),
                         tube_code=_text(world, "tube_code", extreme),
                         taken_at=st.none() | _times(extreme), by=_uuid(world, "by", extreme))
    if hint is HouseholdRow:
        return st.builds(lambda no, grid, address, member: HouseholdRow(no, grid, address,
                                                                         [member]),
                         _text(world, "household_no", extreme),
                         _text(world, "micro_grid", extreme),
                         _text(world, "address", extreme), strategy(world, "m", Member, extreme))
    if hint is BuildingRow:  # a building of a list: the types of ``register_building``'s
        coordinate = strategy(world, "lng", float, extreme)  # and ``locate_building``'s
        return st.builds(BuildingRow, number=_text(world, "number", extreme, fresh),
                         name=_text(world, "name", extreme),
                         floors=strategy(world, "floors", int, extreme),
                         lng=st.none() | coordinate, lat=st.none() | coordinate)
    if hint is StaffRow:  # a member of a roster: the types of ``enrol_staff``'s arguments
        return st.builds(StaffRow, staff_no=_text(world, "staff_no", extreme, fresh),
                         name=_text(world, "name", extreme),
                         role=strategy(world, "role", Role, extreme),
                         jurisdiction=st.sampled_from([COMMUNITY, *ZONES]) if not extreme
                         else _text(world, "jurisdiction", extreme),
                         daily_capacity=strategy(world, "daily_capacity", int, extreme),
                         phone=st.none() | (_text(world, "phone", True) if extreme
                                            else st.just("13912345678")))
    if hint is Area:  # a boundary: a square near Wuhan, or rings no valid polygon has
        if not extreme:
            return st.builds(lambda x, y, d: _square(114.3 + x, 30.6 + y, d),
                             st.floats(-0.05, 0.05), st.floats(-0.05, 0.05),
                             st.floats(1e-4, 0.05))
        bowtie = ((0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0))
        return st.sampled_from([
            _square(-180.0, -90.0, 360.0), _square(114.3, 30.6, 1e-9),
            Area(polygons=((bowtie,),)), Area(polygons=()),
            Area(polygons=((((0.0, 0.0), (1.0, 1.0), (0.0, 0.0), (0.0, 0.0)),),))])
    if hint is Point:  # a place near Wuhan, or the limits of the coordinates
        if not extreme:
            return st.builds(lambda x, y: Point(lng=114.3 + x, lat=30.6 + y),
                             st.floats(-0.05, 0.05), st.floats(-0.05, 0.05))
        return st.sampled_from([Point(lng=-180.0, lat=-90.0), Point(lng=180.0, lat=90.0),
                                Point(lng=0.0, lat=0.0), Point(lng=114.3, lat=89.9999)])
    if hint is Event:  # a stored event of the world (the notifier's cause)
        return st.sampled_from(list(world.app.events.get(world.c.households[0])))
    raise AssertionError(f"no strategy for {param}: {hint!r}; add one")


def arguments(world: World, name: str,
              extreme: str | None) -> dict[str, st.SearchStrategy[Any]]:
    """Plausible values for every parameter of ``name`` but ``extreme``, which gets the
    limits of its type (one extreme value at a time reaches past the other checks)."""
    fn = getattr(GridcoreApp, name).__wrapped__
    hints = typing.get_type_hints(fn)
    out = {}
    for p in _params(name):
        s = strategy(world, p.name, hints.get(p.name, Any), p.name == extreme,
                     fresh=name.startswith("register_"))
        out[p.name] = s if p.default is p.empty or p.name == extreme else (st.just(p.default) | s)
    return out


def _params(name: str) -> list[inspect.Parameter]:
    fn = getattr(GridcoreApp, name).__wrapped__
    return [p for p in list(inspect.signature(fn).parameters.values())[1:]
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def _built(draw: Callable[[st.SearchStrategy[Any]], Any],
           strategies: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any] | None:
    """Draw every argument; None when a value cannot even be built (pydantic refuses it)."""
    try:
        return {p: draw(s) for p, s in strategies.items()}
    except (ValidationError, GridcoreError):
        return None


def test_every_command_is_covered() -> None:
    assert len(COMMANDS) >= 70, COMMANDS


@pytest.mark.slow
@pytest.mark.parametrize("name", COMMANDS)
@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.large_base_example])
@given(data=st.data())
def test_extreme_values_are_refused_or_stored_and_projected(world: World, name: str,
                                                             data: st.DataObject) -> None:
    app = world.app
    extreme = data.draw(st.sampled_from([None] + [p.name for p in _params(name)]),
                        label="extreme parameter")
    args = _built(lambda s: data.draw(s), arguments(world, name, extreme))
    if args is None:
        return
    before = app.recorder.max_notification_id()
    try:
        getattr(app, name)(**args)
    except (GridcoreError, ValidationError) as e:
        event(f"refused: {type(e).__name__}")
        assert str(e).strip(), f"{name} refused with an empty message"
        assert app.recorder.max_notification_id() == before, f"{name} refused but wrote events"
        return
    event("stored")
    world.runner.catch_up()
    for status in world.runner.status():
        stuck = getattr(status, "error", None)
        assert stuck is None, f"{name} stored an event that {status.name} cannot apply: {stuck}"
        assert status.lag == 0, f"{status.name} is {status.lag} events behind after {name}"


# ---- inbound records: the lines of `gridcore ingest` (the stream worker's messages) -----------

JSON_EXTREMES: list[Any] = [
    None, True, [], {}, [1, 2], {"a": {"b": []}}, 0, -1, 2**64, -(2**70), 1e308, -0.0,
    *EXTREME_TEXTS[:13], "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
    "2020-02-17T08:00:00", "2030-02-17T08:00:00+08:00", "2000-01-01T00:00:00+08:00",
    "2020-02-30T08:00:00+08:00", "2020-02-17T08:00:00+99:00",
]
RECORDS: dict[str, dict[str, Any]] = {
    "camera": {"detection_id": "D-{n}", "camera_id": "CAM-1",
               "at": "2020-02-17T15:30:00+08:00", "direction": "out", "confidence": 0.93},
    "pass": {"type": "pass", "pass_id": "P-{n}", "checkpoint_id": "CP-1", "plate": "鄂A12345",
             "at": "2020-02-17T15:00:00+08:00"},
    "travel": {"type": "travel", "record_id": "T-{n}", "plate": "鄂A12345", "place": "武汉市",
               "at": "2020-02-15T12:00:00+08:00"},
    "risk": {"type": "risk", "declaration_id": "R-{n}", "area": "武汉市", "level": "high",
             "start": "2020-01-23T00:00:00+08:00"},
}


@st.composite
def inbound_line(draw: st.DrawFn, kind: str, n: int) -> bytes:
    """One line of an ingest file: a valid record with at most one field made extreme (or
    dropped, or a field added), sometimes with a BOM or broken bytes."""
    import orjson

    record = {k: (v.format(n=n) if isinstance(v, str) else v) for k, v in RECORDS[kind].items()}
    field = draw(st.sampled_from([None, *record]))
    change = draw(st.sampled_from(["extreme", "drop", "extra"]))
    if field is not None and change == "extreme":
        record[field] = draw(st.sampled_from(JSON_EXTREMES))
    elif field is not None and change == "drop":
        del record[field]
    elif field is not None:
        record["unexpected"] = draw(st.sampled_from(JSON_EXTREMES))
    try:
        line = orjson.dumps(record)
    except TypeError:  # a lone surrogate or an int over 64 bits: send it as Python would
        import json

        line = json.dumps(record, ensure_ascii=True).encode()
    framing = draw(st.sampled_from(["plain", "plain", "bom", "broken", "truncated"]))
    if framing == "bom":
        line = b"\xef\xbb\xbf" + line
    elif framing == "broken":
        line = line[:-1] + b"\xff\xfe}"
    elif framing == "truncated":
        line = line[: len(line) // 2]
    return line


@pytest.mark.parametrize("which", ["cameras", "vehicles"])
@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_ingest_files_of_extreme_lines_are_applied_or_reported_line_by_line(
        world: World, which: str, data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from adapters.cli.ingest import ingest_cameras, ingest_vehicles

    kinds = ["camera"] if which == "cameras" else ["pass", "travel", "risk"]
    lines = [data.draw(inbound_line(data.draw(st.sampled_from(kinds)), n), label=f"line {n}")
             for n in range(1, data.draw(st.integers(1, 6), label="lines") + 1)]
    path = tmp_path_factory.mktemp("ingest") / f"{which}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    out = (ingest_cameras if which == "cameras" else ingest_vehicles)(world.app, path)
    refused = {n for n, _ in out.rejected}
    event(f"applied {sum(out.applied.values())} of {len(lines)}")
    assert out.lines == len(lines)
    assert sum(out.applied.values()) + len(refused - {0}) == len(lines), (out.applied,
                                                                          out.rejected)
    assert all(reason.strip() for _, reason in out.rejected)
    world.runner.catch_up()
    for status in world.runner.status():
        assert getattr(status, "error", None) is None, status
        assert status.lag == 0, status


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_filing_a_request_with_extreme_values_is_refused_or_stored(world: World,
                                                                  data: st.DataObject) -> None:
    from gridcore.requests import Category, Channel, Grade

    extreme = data.draw(st.sampled_from([None, "text", "phone", "address", "grid"]))

    def text(param: str, valid: st.SearchStrategy[str]) -> Any:
        return data.draw(_text(world, param, True) if param == extreme else valid, label=param)

    before = world.app.recorder.max_notification_id()
    try:
        world.app.file_request(Channel.HOTLINE, Category.MEDICAL, Grade.NORMAL,
                               text("text", st.just("家里老人需要买药")),
                               phone=text("phone", st.just("13912345678")),
                               address=text("address", st.just("1栋2单元301")),
                               grid=text("grid", st.sampled_from(ZONES)), by=System.PUBLIC)
    except (GridcoreError, ValidationError) as e:
        assert str(e).strip()
        assert world.app.recorder.max_notification_id() == before
        return
    world.runner.catch_up()
    for status in world.runner.status():
        assert getattr(status, "error", None) is None, status
        assert status.lag == 0, status
