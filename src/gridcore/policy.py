"""Policy: versioned data that rules read. Changing it is an event effective from a time.

Each decision uses the policy in force at the command's time (``PolicyBook.in_force``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Field, ValidationError, model_validator

from gridcore.base import Aggregate, Created, Event, Immutable, stable_id
from gridcore.errors import InvalidInput
from gridcore.staff import FIELD_ROLES, Role

_MEDICAL = frozenset({Role.FAMILY_DOCTOR})
_OFFICIALS = frozenset({Role.OFFICIAL})
_IMPOSE_HOME = FIELD_ROLES | _MEDICAL | _OFFICIALS | {Role.COMMUNITY_POLICE}


# Bounded numbers: a policy is data an official adopts through the API, and an unbounded one
# (2**63 places, NaN minutes) would be stored and then break every rule that reads it.
Days = Annotated[int, Field(ge=0, le=366)]
Hours = Annotated[int, Field(ge=1, le=24 * 366)]
Cost = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
ContactMeasure = Literal["home_observation", "home_quarantine", "centralized_quarantine"]
ClockTime = Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
"""A local time of day, HH:MM (24-hour)."""
ZoneName = Literal["lockdown", "controlled", "precaution"]
"""The zones of a risk zoning (三区划分, ``gridcore.zoning.Zone``)."""
ZoneMeasure = Literal["none", "home_observation", "home_quarantine", "centralized_quarantine"]


def _zoning_measures() -> dict[ZoneName, ZoneMeasure]:
    return {"lockdown": "home_quarantine", "controlled": "home_observation",
            "precaution": "none"}


ReportLevelName = Literal["community", "street", "district", "city"]
"""The levels that report daily (日报), lowest first."""
REPORT_LEVEL_NAMES: tuple[ReportLevelName, ...] = ("community", "street", "district", "city")


def _report_deadlines() -> dict[ReportLevelName, str]:
    return {"community": "10:00", "street": "12:00", "district": "14:00", "city": "16:00"}


class Policy(Immutable):
    """Numbers and role lists the rules depend on; defaults follow the seeds (14 days...)."""

    micro_grid_soft_cap: int = Field(100, ge=1, le=100_000)
    quarantine_days: dict[str, Days] = Field(default_factory=lambda: {
        "home_observation": 14, "home_quarantine": 14, "centralized_quarantine": 14,
        "hospitalized": 0,
    })
    negative_test_max_age_hours: int = Field(48, ge=1, le=24 * 366)
    release_needs_negative_test: bool = True
    field_roles: frozenset[Role] = FIELD_ROLES
    medical_roles: frozenset[Role] = _MEDICAL
    override_roles: frozenset[Role] = _MEDICAL
    impose_roles: dict[str, frozenset[Role]] = Field(default_factory=lambda: {
        "home_observation": _IMPOSE_HOME,
        "home_quarantine": _IMPOSE_HOME,
        "centralized_quarantine": _MEDICAL | _OFFICIALS | {Role.COMMUNITY_POLICE},
        "hospitalized": _MEDICAL,
    })
    release_roles: dict[str, frozenset[Role]] = Field(default_factory=lambda: {
        "home_observation": _MEDICAL | _OFFICIALS | {Role.GRID_WORKER},
        "home_quarantine": _MEDICAL | _OFFICIALS,
        "centralized_quarantine": _MEDICAL | _OFFICIALS,
        "hospitalized": _MEDICAL,
    })
    visit_cost: dict[str, Cost] = Field(default_factory=lambda: {
        "door": 1.0, "phone": 0.5, "chat": 0.25,
    })
    # deliveries (配送到户): a dispatched delivery not delivered within this is overdue
    delivery_overdue_hours: int = Field(24, ge=1, le=24 * 366)
    # enterprise resumption (复工复产): the guide's filing checklist, the daily inspection
    # items, and the days a failed item has to be rectified (整改)
    resumption_checklist: tuple[str, ...] = ("测温", "口罩储备", "消毒", "员工健康申报",
                                             "应急预案")
    inspection_items: tuple[str, ...] = ("洗手", "开会间距", "就餐")
    rectification_days: int = Field(3, ge=1, le=366)
    # residents' requests (群众诉求): hours each level has, by grade, before it escalates
    request_deadline_hours: dict[str, Hours] = Field(default_factory=lambda: {
        "urgent": 2, "normal": 24,
    })
    # a referral (转介) not transported within these hours is overdue and escalates
    referral_transport_hours: int = Field(6, ge=1, le=24 * 7)
    # camera and vehicle alerts (门禁摄像头告警 / 车辆疫查): a camera detection alerts from this
    # confidence; one camera's detections within the window are one alert; a plate's travel is
    # looked back this many days; an alert not acknowledged (签收) in time escalates a level
    camera_confidence_threshold: float = Field(0.8, ge=0.0, le=1.0)
    camera_window_minutes: int = Field(2, ge=1, le=24 * 60)
    travel_lookback_days: int = Field(14, ge=1, le=366)
    alert_acknowledge_minutes: int = Field(15, ge=1, le=24 * 60)
    # the time window (``gridcore.clock``): a time given from outside (a detection, a pass, a
    # visit...) is refused before the epidemic's start year or more than the allowed clock
    # skew ahead of the server's clock; a time that schedules something (a risk period's end,
    # a policy's effective time, a campaign's start) may lie up to the horizon ahead
    earliest_year: int = Field(2019, ge=1970, le=2100)
    clock_skew_minutes: int = Field(5, ge=0, le=24 * 60)
    schedule_horizon_days: int = Field(366, ge=1, le=3660)
    # a measure recorded late (补录) may be dated back to when it actually began, at most
    # this many hours before it is recorded, with a reason; its period counts from then
    measure_backdate_hours: int = Field(72, ge=0, le=24 * 366)
    # contact tracing (流调): a close contact (密接) is quarantined this many days from their
    # last exposure, under this measure; a secondary contact (次密接) likewise; the contacts
    # of an index case ruled out are released to ``ruled_out_release_to``
    close_contact_measure: ContactMeasure = "centralized_quarantine"
    close_contact_days: Days = 14
    secondary_contact_measure: ContactMeasure = "home_quarantine"
    secondary_contact_days: Days = 7
    ruled_out_release_to: Literal["none", "home_observation"] = "none"
    # assistance lists (协查): hours the owner of a listed person has to report on them
    # (落地排查) before the item escalates a level
    assistance_hours: int = Field(24, ge=1, le=24 * 366)
    # mass testing (全员核酸检测): samples pooled this many to a tube (混检 10-in-1, up to
    # 20-in-1; 1: single tubes); a site's time slots last this many minutes; households with
    # a member of these vulnerabilities or under these measures are sampled at home (上门采样);
    # a positive pool's households are put under ``positive_pool_measure`` and its members
    # retested in single tubes (单采单检) within ``retest_hours``
    pool_size: int = Field(10, ge=1, le=20)
    testing_slot_minutes: int = Field(30, ge=5, le=240)
    door_to_door_vulnerabilities: tuple[str, ...] = ("age_65_plus", "disability")
    door_to_door_measures: tuple[str, ...] = ("home_observation", "home_quarantine")
    positive_pool_measure: ContactMeasure = "home_quarantine"
    retest_hours: int = Field(24, ge=1, le=24 * 14)
    # health monitoring (健康监测): residents under these measures report temperature and
    # symptoms at these local times (HH:MM at UTC+``monitoring_utc_offset_minutes``) every day
    # until the measure ends; a report not in within the grace after its time is flagged
    # missed to the micro-grid's responsible worker and escalates a level every
    # ``monitoring_escalation_hours`` until the resident is heard from; a reading at or above
    # the fever threshold, or any symptom, is abnormal; a resident with one of these
    # vulnerabilities is visited or called instead of reporting themself
    monitoring_measures: tuple[ContactMeasure, ...] = (
        "home_observation", "home_quarantine", "centralized_quarantine")
    monitoring_report_times: tuple[ClockTime, ...] = Field(("08:00", "20:00"), min_length=1,
                                                           max_length=24)
    monitoring_utc_offset_minutes: int = Field(480, ge=-720, le=840)
    monitoring_grace_minutes: int = Field(120, ge=0, le=24 * 60)
    monitoring_escalation_hours: int = Field(4, ge=1, le=24 * 14)
    monitoring_fever_celsius: float = Field(37.3, ge=35.0, le=42.0, allow_inf_nan=False)
    monitoring_assisted_vulnerabilities: tuple[str, ...] = (
        "no_smartphone", "lives_alone", "age_65_plus")
    # risk zoning around a case (三区划分): the sealed zone (封控区) is the case's building, its
    # point buffered by ``zoning_sealed_radius_m`` (footprints are not known); the controlled
    # zone (管控区) lies within ``zoning_controlled_radius_m`` of it, less the sealed zone; the
    # precaution zone (防范区) is the rest of the case's street (or district, per
    # ``zoning_precaution_level``), or of a disc of ``zoning_precaution_radius_m`` when that
    # node has no boundary drawn. Each zone's residents get its measure
    # (``zoning_measures``, by zone: "lockdown" is the sealed zone 封控区; "none": no
    # measure); the zones are lifted when
    # ``zoning_lift_after_days`` pass without a new case inside the sealed or controlled zone
    zoning_sealed_radius_m: float = Field(30.0, ge=1.0, le=1000.0, allow_inf_nan=False)
    zoning_controlled_radius_m: float = Field(500.0, ge=10.0, le=10_000.0, allow_inf_nan=False)
    zoning_precaution_radius_m: float = Field(2000.0, ge=50.0, le=50_000.0,
                                              allow_inf_nan=False)
    zoning_precaution_level: Literal["street", "district"] = "street"
    zoning_measures: dict[ZoneName, ZoneMeasure] = Field(default_factory=_zoning_measures)
    zoning_lift_after_days: Days = 14
    # daily reports (日报 / 信息报送): a period's report of each level is due the next day at
    # its local time (HH:MM at UTC+``report_utc_offset_minutes``, Beijing time by default),
    # each level after the one below it (the community's first, the city's last); a report
    # not submitted by then is overdue and escalates a level at each deadline above
    report_deadlines: dict[ReportLevelName, ClockTime] = Field(
        default_factory=_report_deadlines)
    report_utc_offset_minutes: int = Field(480, ge=-720, le=840)

    @model_validator(mode="after")
    def _report_deadlines_nest(self) -> Policy:
        times = self.report_deadlines
        missing = [level for level in REPORT_LEVEL_NAMES if level not in times]
        if missing:
            raise ValueError(f"report_deadlines names no time for {', '.join(missing)}: give "
                             "one for each of community, street, district and city")
        order = [times[level] for level in REPORT_LEVEL_NAMES]
        if order != sorted(order):
            raise ValueError("report_deadlines must not fall earlier going up: community <= "
                             "street <= district <= city (e.g. 10:00, 12:00, 14:00, 16:00)")
        return self

    @model_validator(mode="after")
    def _zones_nest(self) -> Policy:
        if not (self.zoning_sealed_radius_m < self.zoning_controlled_radius_m
                < self.zoning_precaution_radius_m):
            raise ValueError("the zoning radii must grow: zoning_sealed_radius_m < "
                             "zoning_controlled_radius_m < zoning_precaution_radius_m")
        return self

    def with_changes(self, **changes: Any) -> Policy:
        return Policy.model_validate({**self.model_dump(), **changes})


DEFAULT_POLICY = Policy()


def checked_policy(policy: Policy) -> Policy:
    """``policy`` validated again: one built with ``model_copy(update=...)`` skipped its
    bounds, and an adopted policy is read by every rule from then on."""
    try:
        return Policy.model_validate(policy.model_dump())
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"The policy's {where} is out of bounds ({first['msg']}).",
                           "Adopt a policy whose numbers lie in their stated ranges, e.g. "
                           "micro_grid_soft_cap 1-100000, quarantine days 0-366.") from None
POLICY_BOOK_ID = stable_id("policy", "book")


class PolicyBook(Aggregate):
    """The versions of the policy and when each took effect."""

    versions: list[tuple[datetime, Policy, str]]

    class Opened(Created):
        def apply(self, book: PolicyBook) -> None:
            book.versions = []

    class Adopted(Event):
        policy: Policy
        effective_from: datetime
        note: str
        by: UUID | None = None

        def apply(self, book: PolicyBook) -> None:
            book.versions.append((self.effective_from, self.policy, self.note))
            book.versions.sort(key=lambda v: v[0])

    @classmethod
    def open(cls, at: datetime) -> PolicyBook:
        return cls._create(cls.Opened, POLICY_BOOK_ID, at)

    def adopt(
        self, policy: Policy, effective_from: datetime, note: str, by: UUID | None, at: datetime
    ) -> None:
        if effective_from.tzinfo is None:
            raise InvalidInput("effective_from has no time zone.",
                               "Give an aware datetime, e.g. 2020-02-17T00:00+08:00.")
        policy = checked_policy(policy)
        check_not_retroactive(effective_from, at, self.in_force(at))
        self._trigger(self.Adopted, at, policy=policy, effective_from=effective_from,
                      note=note, by=by)

    def in_force(self, when: datetime) -> Policy:
        """The policy adopted with the latest effective time at or before ``when``."""
        return in_force(self.versions, when)

    def version_at(self, when: datetime) -> tuple[datetime, Policy, str] | None:
        """The version in force at ``when`` (effective time, policy, note); None before any
        adoption took effect (the default policy is in force)."""
        current = None
        for version in self.versions:
            if version[0] <= when:
                current = version
        return current


def check_not_retroactive(effective_from: datetime, now: datetime, current: Policy) -> None:
    """A version takes effect from now on, never before: one effective earlier would change
    the policy under decisions already taken (a deadline already counted, a release already
    refused or granted), and the log would no longer explain them. A caller's clock may run a
    little behind the server's, so an effective time up to the policy in force's clock skew
    (``clock_skew_minutes``, 5 by default: the same tolerance the time window gives a time
    ahead) before now is accepted; the version being adopted cannot widen its own
    tolerance."""
    earliest = now - timedelta(minutes=current.clock_skew_minutes)
    if effective_from < earliest:
        def text(t: datetime) -> str:
            return t.astimezone(UTC).isoformat(timespec="minutes").replace("+00:00", "Z")
        raise InvalidInput(
            f"The policy's effective time {effective_from.isoformat()} is before now "
            f"({text(now)}): a policy is never adopted retroactively, as that would change "
            "the rules under decisions already taken.",
            f"Give an effective time from {text(earliest)} on (now, less the "
            f"{current.clock_skew_minutes}-minute clock skew allowed); to correct a version "
            "already in force, adopt a new one effective now.")


def in_force(versions: list[tuple[datetime, Policy, str]], when: datetime) -> Policy:
    """The latest version effective at ``when``; the default policy before any adoption."""
    current = DEFAULT_POLICY
    for effective_from, policy, _ in versions:
        if effective_from <= when:
            current = policy
    return current
