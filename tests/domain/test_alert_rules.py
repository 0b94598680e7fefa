"""The pure rules of camera and vehicle alerts, as properties (hypothesis) and at their edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from uuid import UUID, uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gridcore.alerts import AlertState, Outcome, alert_id_for, check_resolution, is_due
from gridcore.camera import group_detections, under_home_quarantine, window_alert
from gridcore.errors import InvalidInput
from gridcore.policy import DEFAULT_POLICY
from gridcore.risk import (
    PROVINCES,
    RiskLevel,
    RiskPeriod,
    normalize_plate,
    plate_region,
    vehicle_alert_reason,
)
from gridcore.status import Measure
from gridcore.vehicle import check_counts, hour_number, hour_start

T0 = datetime(2020, 2, 17, 8, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=DEFAULT_POLICY.camera_window_minutes)
seconds = st.integers(min_value=0, max_value=3600)


def period(level: RiskLevel, start: datetime, until: datetime | None = None) -> RiskPeriod:
    return RiskPeriod(declaration_id=str(uuid4()), level=level, start=start, until=until)


# ---- camera: the window ----------------------------------------------------------------------

@given(st.lists(seconds, max_size=40))
def test_detections_within_the_window_of_an_alert_are_that_alert(offsets: list[int]) -> None:
    times = [T0 + timedelta(seconds=s) for s in offsets]
    groups = group_detections(times, DEFAULT_POLICY)
    assert sorted(t for g in groups for t in g) == sorted(times)
    for g in groups:
        assert all(abs(t - g[0]) < WINDOW for t in g)
    starts = sorted(g[0] for g in groups)
    assert all(b - a >= WINDOW for a, b in pairwise(starts))


@given(st.lists(seconds, max_size=40))
def test_in_time_order_a_new_alert_starts_a_window_after_the_last_start(offsets: list[int]
                                                                        ) -> None:
    times = sorted(T0 + timedelta(seconds=s) for s in offsets)
    expected, start = 0, None
    for t in times:  # an independent count: the greedy partition into windows
        if start is None or t - start >= WINDOW:
            expected, start = expected + 1, t
    assert len(group_detections(times, DEFAULT_POLICY)) == expected


@given(st.integers(1, 30), st.lists(seconds, min_size=1, max_size=20))
def test_the_window_follows_the_policy(minutes: int, offsets: list[int]) -> None:
    policy = DEFAULT_POLICY.with_changes(camera_window_minutes=minutes)
    for g in group_detections([T0 + timedelta(seconds=s) for s in offsets], policy):
        assert all(abs(t - g[0]) < timedelta(minutes=minutes) for t in g)


def test_the_window_edge_starts_a_new_alert_and_the_nearest_alert_wins() -> None:
    a, b = uuid4(), uuid4()
    alerts = [(T0, a), (T0 + WINDOW + timedelta(seconds=30), b)]
    assert window_alert(alerts, T0 + WINDOW - timedelta(microseconds=1), DEFAULT_POLICY) == b
    assert window_alert(alerts, T0 + timedelta(seconds=10), DEFAULT_POLICY) == a
    assert window_alert(alerts, T0 - timedelta(seconds=119), DEFAULT_POLICY) == a
    assert window_alert(alerts[:1], T0 + WINDOW, DEFAULT_POLICY) is None
    assert window_alert(alerts[:1], T0 - WINDOW, DEFAULT_POLICY) is None


# ---- camera: who is under home quarantine ------------------------------------------------------

changes_st = st.lists(st.tuples(st.integers(0, 100), st.sampled_from(range(3)),
                                st.sampled_from(list(Measure))), max_size=20)


@given(changes_st, st.integers(-5, 110))
def test_quarantine_at_a_time_is_each_residents_latest_measure_by_then(
        raw: list[tuple[int, int, Measure]], at: int) -> None:
    residents = [UUID(int=n + 1) for n in range(3)]
    changes = [(T0 + timedelta(minutes=m), residents[r], measure) for m, r, measure in raw]
    state: dict[UUID, Measure] = {}
    for when, rid, measure in sorted(changes, key=lambda c: c[0]):  # stable: log order on ties
        if when <= T0 + timedelta(minutes=at):
            state[rid] = measure
    expected = Measure.HOME_QUARANTINE in state.values()
    assert under_home_quarantine(changes, T0 + timedelta(minutes=at)) is expected


def test_quarantine_begins_at_its_change_and_ends_at_its_release() -> None:
    rid = uuid4()
    changes = [(T0, rid, Measure.HOME_QUARANTINE), (T0 + timedelta(days=14), rid, Measure.NONE)]
    assert not under_home_quarantine(changes, T0 - timedelta(microseconds=1))
    assert under_home_quarantine(changes, T0)
    assert under_home_quarantine(changes, T0 + timedelta(days=14, microseconds=-1))
    assert not under_home_quarantine(changes, T0 + timedelta(days=14))
    assert not under_home_quarantine([(T0, rid, Measure.HOME_OBSERVATION)], T0)


# ---- vehicles: lookback, risk periods, plate regions ---------------------------------------------

@given(st.integers(-20 * 24 * 60, 60), st.integers(1, 30))
def test_travel_counts_within_the_lookback_days_boundary_included(minutes: int, days: int
                                                                  ) -> None:
    policy = DEFAULT_POLICY.with_changes(travel_lookback_days=days)
    risk = {"武汉市": [period(RiskLevel.HIGH, T0 - timedelta(days=60))]}
    visit = T0 + timedelta(minutes=minutes)
    reason = vehicle_alert_reason("浙A12345", T0, [("武汉市江岸区", visit)], risk, policy)
    inside = T0 - timedelta(days=days) <= visit <= T0
    assert (reason is not None) is inside
    if inside:
        assert "武汉市江岸区" in reason and f"{days}天内" in reason


def test_the_lookback_boundary_to_the_microsecond() -> None:
    risk = {"武汉市": [period(RiskLevel.HIGH, T0 - timedelta(days=60))]}
    edge = T0 - timedelta(days=14)
    assert vehicle_alert_reason("浙A12345", T0, [("武汉市", edge)], risk, DEFAULT_POLICY)
    assert vehicle_alert_reason("浙A12345", T0, [("武汉市", edge - timedelta(microseconds=1))],
                                risk, DEFAULT_POLICY) is None


@given(st.integers(-100, 100), st.integers(1, 50), st.sampled_from(list(RiskLevel)),
       st.booleans())
def test_a_visit_alerts_only_while_the_area_was_high_risk(visit_h: int, length_h: int,
                                                          level: RiskLevel, open_end: bool
                                                          ) -> None:
    start = T0 - timedelta(hours=50)
    until = None if open_end else start + timedelta(hours=length_h)
    risk = {"武汉市": [period(level, start, until)]}
    visit = T0 - timedelta(hours=50) + timedelta(hours=visit_h)
    pass_at = T0 + timedelta(hours=60)
    got = vehicle_alert_reason("浙A12345", pass_at, [("武汉市", visit)], risk, DEFAULT_POLICY)
    covered = start <= visit and (until is None or visit < until)
    assert (got is not None) is (level is RiskLevel.HIGH and covered)


def test_a_place_outside_the_area_or_another_level_does_not_alert() -> None:
    risk = {"武汉市": [period(RiskLevel.HIGH, T0 - timedelta(days=30))],
            "孝感市": [period(RiskLevel.MEDIUM, T0 - timedelta(days=30))]}
    travel = [("青岛市", T0 - timedelta(days=1)), ("孝感市", T0 - timedelta(days=1)),
              ("武汉市", T0 + timedelta(hours=1))]  # after the pass: not known yet
    assert vehicle_alert_reason("浙A12345", T0, travel, risk, DEFAULT_POLICY) is None


letters = st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ")
tails = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=5, max_size=5)


@given(st.sampled_from(PROVINCES), letters, tails, st.sampled_from(["", " ", "·", "-"]))
def test_the_plate_region_is_its_province_and_city_letter(province: str, letter: str,
                                                          tail: str, sep: str) -> None:
    written = f"{province}{letter.lower()}{sep}{tail}"
    assert normalize_plate(written) == f"{province}{letter}{tail}"
    assert plate_region(written) == province + letter
    risk = {province + letter: [period(RiskLevel.HIGH, T0)]}
    assert vehicle_alert_reason(written, T0, [], risk, DEFAULT_POLICY)
    assert vehicle_alert_reason(written, T0 - timedelta(microseconds=1), [], risk,
                                DEFAULT_POLICY) is None
    other = {province + ("B" if letter == "A" else "A"): [period(RiskLevel.HIGH, T0)]}
    assert vehicle_alert_reason(written, T0, [], other, DEFAULT_POLICY) is None


@pytest.mark.parametrize("bad", ["", "12345", "AA12345", "鄂12345", "鄂A1", "鄂A123456789",
                                 "X鄂A1234"])
def test_a_malformed_plate_is_rejected_with_an_example(bad: str) -> None:
    with pytest.raises(InvalidInput, match="鄂A12345"):
        normalize_plate(bad)


# ---- alert ids, deadlines, resolution, counts ----------------------------------------------------

@given(st.text(min_size=1, max_size=50), st.text(min_size=1, max_size=50))
def test_alert_ids_derive_from_the_input_id(a: str, b: str) -> None:
    assert alert_id_for("camera", a) == alert_id_for("camera", a)
    assert (alert_id_for("camera", a) == alert_id_for("camera", b)) is (a == b)
    assert alert_id_for("camera", a) != alert_id_for("vehicle", a)


def test_an_alert_is_due_after_its_deadline_while_raised_only() -> None:
    assert not is_due(AlertState.RAISED, T0, T0)
    assert is_due(AlertState.RAISED, T0, T0 + timedelta(microseconds=1))
    assert not is_due(AlertState.ACKNOWLEDGED, T0, T0 + timedelta(hours=1))
    assert not is_due(AlertState.RAISED, None, T0)


def test_a_confirmed_breach_needs_its_action() -> None:
    with pytest.raises(InvalidInput, match="action"):
        check_resolution(Outcome.BREACH_CONFIRMED, "  ")
    assert check_resolution(Outcome.FALSE_ALARM, "") == ""
    assert check_resolution(Outcome.BREACH_CONFIRMED, " 劝返 ") == "劝返"


@settings(max_examples=50)
@given(st.lists(st.tuples(st.sampled_from(["KK-1", "KK-2"]), st.integers(0, 10 ** 6)),
                max_size=30))
def test_hour_counts_are_whole_utc_hours(passes: list[tuple[str, int]]) -> None:
    counts: dict[tuple[str, datetime], int] = {}
    for code, s in passes:
        key = (code, hour_start(T0 + timedelta(seconds=s)))
        counts[key] = counts.get(key, 0) + 1
    rows = check_counts(counts)
    assert sum(r.passes for r in rows) == len(passes)
    assert all(r.hour.minute == r.hour.second == 0 and r.hour.tzinfo is not None for r in rows)
    with pytest.raises(InvalidInput, match="start of an hour"):
        check_counts({("KK-1", T0 + timedelta(minutes=5)): 1})
    with pytest.raises(InvalidInput, match="count"):
        check_counts({("KK-1", T0): 0})


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet="鄂京沪aAbB0123456789 ·-.\n\t", max_size=10),
                 st.from_regex(r"[鄂京][A-Z][A-Z0-9]{4,6}", fullmatch=True)))
def test_a_plate_written_normalized_is_taken_as_it_is_and_any_other_as_before(plate: str) -> None:
    """The fast path (a plate already in its normal form) gives what stripping the separators
    and upper-casing gives, and refuses what that refuses."""
    import re

    from gridcore.risk import _PLATE, normalize_plate

    text = re.sub(r"[\s·\-.]", "", plate).upper()
    if _PLATE.fullmatch(text):
        assert normalize_plate(plate) == text
    else:
        with pytest.raises(InvalidInput):
            normalize_plate(plate)


@settings(max_examples=500)
@given(st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2030, 12, 31)),
       st.integers(-4 * 3600, 4 * 3600), st.integers(-14 * 3600, 14 * 3600),
       st.integers(-14 * 3600, 14 * 3600), st.booleans())
def test_hour_numbers_match_utc_hours(a: datetime, apart: int, off_a: int, off_b: int,
                                      whole_minutes: bool) -> None:
    """The stream worker's hour key: equal exactly when the UTC hours are, and in their
    order, for offsets in whole minutes (the fast way) and in seconds (the exact way)."""
    if whole_minutes:
        off_a, off_b = off_a // 60 * 60, off_b // 60 * 60
    at = a.replace(tzinfo=timezone(timedelta(seconds=off_a)))
    bt = (at + timedelta(seconds=apart)).astimezone(timezone(timedelta(seconds=off_b)))
    assert (hour_number(at) == hour_number(bt)) == (hour_start(at) == hour_start(bt))
    assert (hour_number(at) < hour_number(bt)) == (hour_start(at) < hour_start(bt))
    assert hour_number(at) - hour_number(T0) == (
        (hour_start(at) - hour_start(T0)) // timedelta(hours=1))
    with pytest.raises(ValueError, match="aware"):
        hour_number(a)
