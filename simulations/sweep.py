"""A sweep campaign (拉网式排查) as a discrete-time model of field work, driven through the real
application.

Time moves in steps of one hour from the campaign's start. The application launches the
campaign and makes the plan (who checks which household, by which method); the model then
plays the field: staff on shift work through their households (door visits with walking
between buildings, phone calls), households with smartphones report in the micro-grid chat
(those who do not by the deadline are phoned), a no-answer is retried hours later, staff fall
ill (the application moves their open work to colleagues) and, once their own work is done,
staff take households the plan could not place. Every attempt is recorded with the real
``record_visit`` at the simulated time (the application's clock is the model's clock), so the
findings (fever, close contacts, arrivals) open referrals and home observations through the
findings process; households under observation order supplies, bought by the duty lead and
dispatched to the zone's squad (配送到户).

Two clocks, so that dearer work never finishes sooner. Who takes which household, and in which
order, is decided on the **plan's clock**: visits last the plan's minutes (``door_minutes``,
``phone_minutes``, and the walk to the household's building, see below), and on that clock each
person takes their own households, then the unplaced ones, then the waiting households of
colleagues off duty, as a duty lead hands work out. That hand-out is greedy list scheduling,
which on its own is not monotone (Graham's anomalies): were it decided on the field's clock, a
longer visit would change who is free first, who takes which retry, and a slower day could end
sooner (the replay property test found 31.2 h against 32.0 h). So each decision becomes a
``Step`` in the person's order of work, with the plan's start time, and nothing the field does
changes it. The **field's clock** then plays each person's steps in that order, each lasting
the plan's minutes times ``slower`` (a replay's what-if; 1 by default), starting at

    start = fit(max(end of the person's previous step, ready, planned start), minutes)

where ``ready`` is the campaign's start or a silent chat household's deadline for a first
attempt, and the end of the household's previous attempt (by whoever made it) plus
``retry_after_hours`` for a retry, and ``fit`` moves a start that would run past the shift's
end to the next shift. ``fit`` is non-decreasing in its start and in the minutes, and ``max``
and ``+`` are too, so every start, end and cover time is a max-plus composition of
non-decreasing functions of the durations over a fixed acyclic graph (each step depends on
steps planned before it): making any kind of work dearer moves no visit earlier, so the last
household is seen no sooner and the window covers no more. With ``slower`` at 1 the field
plays exactly the plan (each start is its planned start), so the model's own campaigns are
what the single greedy clock gave. Illness is drawn on the plan's clock only in the model's
own campaigns (a replay draws none): the application's moving of an ill person's open work
reads what the field covered, so with illness the property needs the field to play the plan.

Walking (步行). A door visit in another building than the person's last walks there first, and
each shift starts at the person's base, the centre of their community's drawn boundary (the
residents' committee 居委会, where the morning briefing hands out forms and thermometers; a
member listed above community level starts at the centre of their own node), so the first door
visit of every shift walks from the base. When both ends have points (buildings located with
``locate_building``, boundaries drawn; generated cities are laid out so by default), the walk
takes ``walk_floor_minutes`` (down the stairs, out of the gate) plus the great-circle distance
times ``walk_detour`` over ``walk_speed_m_per_min``: lanes through an estate and a street grid
make the way about 1.3 times the straight line (on a grid of streets the way is the Manhattan
distance, 4/π ≈ 1.27 times the straight line averaged over directions). When either end has no
point the walk takes the constant ``walk_minutes``. A household with no building is nowhere
known: a walk to or from it takes the constant, and none is counted between two such households
or from the base to one (as before there were points). A household's own point is never read
(it is personal data). Each walk is fixed when the plan's clock places the step, so the replay
property holds with real distances too; a replay carries the buildings' points and the nodes'
boundaries as they stood at the launch. ``walking_hours`` and ``walking_share`` sum the walks.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

from adapters.spreadsheet import csv_writer
from gridcore.application import GridcoreApp
from gridcore.assignment import Method
from gridcore.authority import System
from gridcore.delivery import Item
from gridcore.errors import GridcoreError, NotFound
from gridcore.geo import Point, distance_m
from gridcore.grid import GridNode, Level
from gridcore.staff import Role
from gridcore.sweep import Arrival, Outcome

SWEEP_START = datetime(2020, 2, 17, 8, 0, tzinfo=timezone(timedelta(hours=8)))


class SimClock:
    """The application's clock during a simulation: set by the model, never goes back."""

    def __init__(self, start: datetime = SWEEP_START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = max(self.now, when)
        return self.now


@dataclass(frozen=True)
class Shift:
    start_hour: int
    hours: int


DEFAULT_SHIFTS: dict[Role, Shift] = {
    Role.GRID_WORKER: Shift(8, 10),
    Role.OFFICIAL: Shift(9, 3),
    Role.FAMILY_DOCTOR: Shift(9, 4),
    Role.COMMUNITY_POLICE: Shift(9, 4),
    Role.PARTY_MEMBER: Shift(9, 5),
    Role.VOLUNTEER: Shift(9, 5),
}


@dataclass(frozen=True)
class SweepParams:
    """The field model's numbers (minutes per visit, shifts, rates)."""

    round_no: int = 1
    window_days: int = 3
    horizon_days: int = 14
    door_minutes: float = 12.0  # knock, temperature of each member, questions, the form
    phone_minutes: float = 5.0
    walk_minutes: float = 5.0  # between buildings, when either has no point (the fallback)
    walk_speed_m_per_min: float = 70.0  # 4.2 km/h: an adult's pace, with forms and a thermometer
    walk_detour: float = 1.3  # the way over the straight line (street grid: 4/π ≈ 1.27)
    walk_floor_minutes: float = 1.0  # each change of building: stairs, the gate
    use_points: bool = True  # False: every walk takes ``walk_minutes`` (the model before points)
    no_answer_door: float = 0.08
    no_answer_phone: float = 0.10
    retry_after_hours: int = 3
    chat_report_share: float = 0.85  # of chat households, who self-report
    chat_deadline_hours: int = 24  # then the silent ones are phoned
    fever_rate: float = 0.002  # per resident checked
    close_contact_rate: float = 0.003
    arrival_rate: float = 0.006
    illness_per_day: float = 0.0  # chance a staff member falls ill, each morning
    deliveries: bool = True
    shifts: dict[Role, Shift] = field(default_factory=lambda: dict(DEFAULT_SHIFTS))
    seed: int = 1
    slower: dict[str, float] = field(default_factory=dict)
    """Field time multiplied per kind (door, phone, walk): the work takes longer than the plan
    reckons (a replay's what-if); who does what, and in which order, stays the plan's."""

    def walk_between(self, a: Point | None, b: Point | None) -> float:
        """The plan's minutes to walk from ``a`` to ``b`` (another building): the floor plus the
        distance times the detour at the walking speed, or ``walk_minutes`` when either point
        is unknown."""
        if not self.use_points or a is None or b is None:
            return self.walk_minutes
        return self.walk_floor_minutes + distance_m(a, b) * self.walk_detour \
            / self.walk_speed_m_per_min

    def minutes(self, method: Method, walk: float,
                in_field: bool = False) -> tuple[float, float]:
        """(walking, walking and the visit) minutes, the plan's or the field's, of a visit
        that first walks ``walk`` of the plan's minutes (0: none)."""
        f = self.slower if in_field else {}
        walking = walk * f.get("walk", 1.0) if walk else 0.0
        visit = self.door_minutes * f.get("door", 1.0) if method is Method.DOOR \
            else self.phone_minutes * f.get("phone", 1.0)
        return walking, walking + visit


@dataclass(frozen=True)
class Demand:
    """What one household asked of the field in a recorded campaign (for replays): how many
    attempts found nobody before it was seen, when it reported in the chat group (from the
    campaign's start; None if it did not), and what the visit that saw it found."""

    no_answers: int = 0
    chat_after: timedelta | None = None
    findings: dict[str, object] = field(default_factory=dict)


@dataclass
class Task:
    household_id: UUID
    method: Method
    grid: str
    building: UUID | None
    ready_at: datetime  # on the plan's clock
    attempts: int = 0
    last: Step | None = None  # its latest attempt


@dataclass
class Step:
    """One attempt in a person's order of work, as the plan's clock placed it, and when the
    field played it."""

    task: Task
    attempt: int
    planned: datetime  # its start on the plan's clock: the field never starts it earlier
    ready: datetime  # a first attempt's readiness (the start, or a chat deadline)
    after: Step | None  # the household's previous attempt: a retry waits from its end
    walk: float  # the plan's minutes of walking from another building (or the base) first
    outcome: Outcome
    found: dict[str, object]
    end: datetime | None = None  # on the field's clock, once played


@dataclass
class StaffState:
    staff_id: UUID
    staff_no: str
    role: Role
    home_grids: set[str]
    shift: Shift | None
    may: frozenset[str] = frozenset()
    """the micro-grids inside the member's jurisdiction: the only ones they may visit"""
    queue: deque[Task] = field(default_factory=deque)
    busy_until: datetime = SWEEP_START  # on the plan's clock
    last_building: UUID | None = None
    base: Point | None = None  # where each shift starts (the community's centre)
    shift_begun: datetime | None = None  # the start of the shift the plan is placing
    at_base: bool = True  # no door visit yet this shift
    steps: deque[Step] = field(default_factory=deque)  # planned, not yet played
    field_free: datetime = SWEEP_START  # the end of the last step played
    busy_minutes: float = 0.0
    walk_minutes: float = 0.0  # of busy_minutes, walking (the field's)
    shift_minutes: float = 0.0
    visits: int = 0
    ill_on: int | None = None


@dataclass
class ZoneResult:
    code: str
    households: int
    covered_at_window: int
    full_at_hours: float | None
    plan_unplaced: int
    plan_short_units: float
    work_left_hours: float  # staff-hours of visits still to do at the window's end
    reason: str


@dataclass
class SweepResult:
    scope: str
    campaign_id: UUID
    start: datetime
    window_hours: int
    hours: int  # hours simulated
    households: int
    zones: dict[str, ZoneResult]
    curve: dict[str, list[int]]  # zone -> covered households at the end of each hour
    cover_time: dict[UUID, datetime]
    staff: list[StaffState]
    referrals: dict[str, int]
    referrals_by_day: dict[int, dict[str, int]]
    deliveries_by_day: dict[int, int]
    dispatch_runs: int  # purchase-and-dispatch runs that went out
    by_method: dict[str, int]
    visits_recorded: int

    @property
    def covered(self) -> int:
        return len(self.cover_time)

    @property
    def total_curve(self) -> list[int]:
        return [sum(c[i] for c in self.curve.values()) for i in range(self.hours + 1)]

    @property
    def full_at_hours(self) -> float | None:
        if self.covered < self.households:
            return None
        last = max(self.cover_time.values(), default=self.start)
        return (last - self.start).total_seconds() / 3600

    @property
    def in_window(self) -> bool:
        full = self.full_at_hours
        return full is not None and full <= self.window_hours

    def utilisation(self, roles: set[Role] | None = None) -> float:
        chosen = [s for s in self.staff if roles is None or s.role in roles]
        shift = sum(s.shift_minutes for s in chosen)
        return sum(s.busy_minutes for s in chosen) / shift if shift else 0.0

    @property
    def walking_hours(self) -> float:
        """Staff-hours spent walking between buildings (the field's)."""
        return sum(s.walk_minutes for s in self.staff) / 60

    def walking_share(self, roles: set[Role] | None = None) -> float:
        """The share of the staff's busy time spent walking."""
        chosen = [s for s in self.staff if roles is None or s.role in roles]
        busy = sum(s.busy_minutes for s in chosen)
        return sum(s.walk_minutes for s in chosen) / busy if busy else 0.0


def _on_shift(s: StaffState, start: datetime, when: datetime) -> tuple[datetime, datetime]:
    """The shift (start, end) of the day containing ``when``."""
    assert s.shift is not None
    day = (when.date() - start.date()).days
    begin = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(
        days=day, hours=s.shift.start_hour)
    return begin, begin + timedelta(hours=s.shift.hours)


def _fit(s: StaffState, start: datetime, at: datetime, minutes: float) -> datetime | None:
    """The first time from ``at`` on when ``s`` is on shift and can finish ``minutes`` of work
    before the shift ends (None if no shift is that long): non-decreasing in ``at`` and in
    ``minutes``."""
    assert s.shift is not None
    if minutes > s.shift.hours * 60:
        return None
    begin, finish = _on_shift(s, start, at)
    if at + timedelta(minutes=minutes) > finish:  # too late today: the next shift
        begin, _ = _on_shift(s, start, begin + timedelta(days=1))
    return max(at, begin)


def run_sweep(app: GridcoreApp, clock: SimClock, scope: str,
              params: SweepParams | None = None,
              demand: dict[UUID, Demand] | None = None) -> SweepResult:
    """Launch the campaign of ``scope`` and play it hour by hour until every household is
    covered or the horizon ends. With ``demand`` (a replay) the households answer, report in
    the chat and show findings as recorded, instead of at the model's random rates."""
    p = params or SweepParams()
    rng = random.Random(f"sweep:{p.seed}:{scope}")
    start = clock.now
    app.launch_campaign(scope, p.round_no, p.window_days, client_id=f"sim:{scope}:launch",
                        by=System.OPERATOR)
    campaign = app.campaign_of(scope, p.round_no)
    assignment = app.assignment(scope, p.round_no)
    households = {h.id: h for h in app.households_in(scope)}
    in_scope = set(campaign.households)
    grids = app.micro_grids(scope)
    home: dict[UUID, set[str]] = {}
    for g in grids:
        for sid in [g.responsible_worker, *g.squad]:
            if sid is not None:
                home.setdefault(sid, set()).add(g.code)
    above: dict[str, set[str]] = {}  # a micro-grid and the nodes above it
    for g in grids:
        above[g.code] = {g.code}
        code = g.parent_code
        while code is not None:
            above[g.code].add(code)
            code = app.node(code).parent_code
    bases: dict[str, Point | None] = {}

    def base(code: str) -> Point | None:
        """The centre of the community containing ``code`` (or of ``code`` itself, above
        community level), when its boundary is drawn."""
        if code not in bases:
            node = app.node(code)
            while node.level > Level.COMMUNITY and node.parent_code is not None:
                node = app.node(node.parent_code)
            area = node.boundary
            bases[code] = area.centre() if area is not None else None
        return bases[code]

    staff = {s.id: StaffState(s.id, s.staff_no, s.role, home.get(s.id, set()),
                              p.shifts.get(s.role) if s.available else None,  # off duty
                              may=frozenset(g for g, up in above.items()
                                            if up & set(s.jurisdictions)),
                              busy_until=start, field_free=start, base=base(s.home))
             for s in app.staff_in(scope)}
    points: dict[UUID, Point | None] = {}  # a building's point (None: not located)
    for h in households.values():
        if h.building_id is not None and h.building_id not in points:
            try:
                points[h.building_id] = app.building(h.building_id).point
            except NotFound:
                points[h.building_id] = None
    staffed = sorted(staff.values(), key=lambda s: s.staff_no)
    duty_leads = [s.staff_id for s in staff.values() if s.role is Role.DUTY_LEAD]
    lead_of: dict[str, UUID] = {}  # community -> its duty lead, who orders, buys, dispatches
    for m in sorted(app.staff_in(scope), key=lambda m: m.staff_no):
        if m.role is Role.DUTY_LEAD:
            lead_of.setdefault(m.home, m.id)
    community_of = {g.code: g.parent_code or g.code for g in grids}
    cover_time: dict[UUID, datetime] = {}  # on the field's clock
    planned: set[UUID] = set()  # seen on the plan's clock
    chat_due: dict[UUID, datetime] = {}
    pool: dict[str, deque[Task]] = {g.code: deque() for g in grids}
    visits = 0

    def task(hid: UUID, method: Method, ready: datetime) -> Task:
        h = households[hid]
        return Task(hid, method, h.micro_grid, h.building_id, ready)

    def place(t: Task) -> None:
        """Give a task to the household's current owner in the plan, or the pool."""
        owner = assignment.owner.get(t.household_id)
        if owner is not None and owner in staff and staff[owner].ill_on is None:
            staff[owner].queue.append(t)
        else:
            pool[t.grid].append(t)

    # The plan: chat households wait for their self-report; the rest go to their owner.
    ordered = sorted(in_scope, key=lambda h: (households[h].micro_grid,
                                              str(households[h].building_id),
                                              households[h].household_no))
    for hid in ordered:
        method = assignment.method.get(hid) or (
            assignment.uncovered[hid].method if hid in assignment.uncovered else Method.DOOR)
        if method is Method.CHAT and demand is not None:
            after = demand.get(hid, Demand()).chat_after
            chat_due[hid] = start + (after if after is not None and after <= timedelta(
                hours=p.chat_deadline_hours) else timedelta(hours=p.chat_deadline_hours,
                                                            seconds=1))
        elif method is Method.CHAT:
            if rng.random() < p.chat_report_share:
                chat_due[hid] = start + timedelta(minutes=rng.uniform(0, 60 *
                                                                        p.chat_deadline_hours))
            else:
                chat_due[hid] = start + timedelta(hours=p.chat_deadline_hours, seconds=1)
        else:
            place(task(hid, method, start))

    def findings(hid: UUID, by: UUID | None, when: datetime) -> dict[str, object]:
        if demand is not None:
            found = dict(demand.get(hid, Demand()).findings)
            if by is None:
                found.pop("arrivals", None)  # as recorded by staff only
            return found
        out: dict[str, object] = {}
        rids = list(households[hid].residents)
        fever = {r: round(rng.uniform(37.4, 39.2), 1) for r in rids if rng.random() < p.fever_rate}
        if fever:
            out["temperatures"] = {**{r: 36.5 for r in rids}, **fever}
        contacts = [r for r in rids if rng.random() < p.close_contact_rate]
        if contacts:
            out["close_contacts"] = contacts
        arrivals = [Arrival(resident_id=r, origin="湖北省外 outside Hubei",
                            arrived_on=(when - timedelta(days=rng.randint(1, 10))).date())
                    for r in rids if rng.random() < p.arrival_rate]
        if arrivals and by is not None:
            out["arrivals"] = arrivals
        return out

    observed: set[UUID] = set()

    def record(hid: UUID, method: Method, outcome: Outcome, by: UUID | None,
               when: datetime, attempt: int, extra: dict[str, object]) -> None:
        nonlocal visits
        clock.set(when)  # a visit started just before the hour's end
        # a chat self-report names no staff member: the chat group's relay records it
        app.record_visit(campaign.id, hid, method, outcome,
                         by=by if by is not None else System.OPERATOR, visited_at=when,
                         client_id=f"sim:{campaign.id}:{hid}:{attempt}", **extra)
        visits += 1
        if outcome is Outcome.SEEN:
            cover_time.setdefault(hid, when)
            if extra.get("close_contacts") or extra.get("arrivals") or extra.get("temperatures"):
                observed.add(hid)

    def off_duty(o: StaffState, now: datetime) -> bool:
        if o.shift is None or o.ill_on is not None:
            return True
        begin, finish = _on_shift(o, start, now)
        return not begin <= now < finish

    def next_task(s: StaffState, now: datetime) -> Task | None:
        """Own households first, then those the plan could not place (own zones first), then
        the waiting households of colleagues who are off duty (the duty lead rebalances);
        never a household outside the member's jurisdiction."""
        idle = [o.queue for o in staffed if o is not s and o.queue and off_duty(o, now)]
        for q in (s.queue, *(pool[g] for g in sorted(s.home_grids)), *pool.values(), *idle):
            for _ in range(len(q)):
                t = q.popleft()
                if t.household_id in planned:
                    continue
                if t.ready_at <= now and households[t.household_id].micro_grid in s.may:
                    return t
                q.append(t)
        return None

    def fall_ill(day: int) -> None:
        nonlocal assignment
        for s in staffed:
            if p.illness_per_day and s.ill_on is None and s.shift is not None and \
                    rng.random() < p.illness_per_day:
                s.ill_on = day
                app.set_staff_availability(s.staff_id, False, "生病 fell ill",
                                           client_id=f"sim:{campaign.id}:ill:{s.staff_no}",
                                           by=s.staff_id)  # they report it themself
                assignment = app.assignment(scope, p.round_no)
                for t in s.queue:
                    place(t)
                s.queue.clear()

    deliveries_by_day: dict[int, int] = {}
    delivered_days: set[int] = set()
    dispatched = 0

    def deliver(day: int) -> None:
        """Households under observation order supplies; the duty lead buys them in one batch
        and the zones' squads take them to the door."""
        nonlocal dispatched
        if not observed or not p.deliveries or not duty_leads or day in delivered_days:
            return
        delivered_days.add(day)
        for hid in sorted(observed, key=str):
            lead = lead_of.get(community_of[households[hid].micro_grid], duty_leads[0])
            app.place_order(hid, f"sim-{hid.hex[:12]}-{day}", [Item(name="生活物资包",
                                                                    quantity=1)],
                            client_id=f"sim:{campaign.id}:order:{hid}:{day}", by=lead)
            deliveries_by_day[day] = deliveries_by_day.get(day, 0) + 1
        for community in sorted({c for c in _communities(app, scope)}):
            try:
                lead = lead_of.get(community, duty_leads[0])
                app.batch_purchase(community, lead,
                                   client_id=f"sim:{campaign.id}:buy:{community}:{day}")
                app.dispatch_deliveries(community,
                                        client_id=f"sim:{campaign.id}:send:{community}:{day}",
                                        by=lead)
                dispatched += 1
            except GridcoreError:
                continue

    def plan_hour(s: StaffState, now: datetime, end: datetime, begin: datetime,
                  finish: datetime) -> None:
        """The person's steps that start in this hour on the plan's clock."""
        t0 = max(s.busy_until, now, begin)
        if s.shift_begun != begin:  # a new shift starts at the base
            s.shift_begun, s.last_building, s.at_base = begin, None, True
        while t0 < end:
            t = next_task(s, t0)
            if t is None:  # nothing ready now: wait for the first that is this hour
                later = [q.ready_at for q in (*s.queue, *(x for pq in pool.values()
                                                        for x in pq))
                         if t0 < q.ready_at < min(end, finish)
                         and q.household_id not in planned]
                if not later:
                    break
                t0 = min(later)
                continue
            walk = 0.0
            if t.method is Method.DOOR and t.building != s.last_building:
                here = s.base if s.at_base else \
                    points.get(s.last_building) if s.last_building else None
                walk = p.walk_between(here, points.get(t.building) if t.building else None)
            walking, minutes = p.minutes(t.method, walk)
            if t0 + timedelta(minutes=minutes) > finish:
                s.queue.appendleft(t)
                break
            t.attempts += 1
            chance = p.no_answer_door if t.method is Method.DOOR else p.no_answer_phone
            if demand is not None:
                nobody = t.attempts <= demand.get(t.household_id, Demand()).no_answers
            else:
                nobody = rng.random() < chance
            outcome = Outcome.NO_ANSWER if nobody else Outcome.SEEN
            found = {} if nobody else findings(t.household_id, s.staff_id,
                                               t0 + timedelta(minutes=walking))
            step = Step(t, t.attempts, t0, t.ready_at, t.last, walk, outcome, found)
            s.steps.append(step)
            if t.method is Method.DOOR:
                s.last_building, s.at_base = t.building, False
            t0 += timedelta(minutes=minutes)
            if nobody:
                t.ready_at = t0 + timedelta(hours=p.retry_after_hours)
                t.last = step
                s.queue.append(t)
            else:
                planned.add(t.household_id)
        s.busy_until = max(s.busy_until, t0)

    def play(s: StaffState, end: datetime) -> bool:
        """Play the person's planned steps that start before ``end`` on the field's clock, in
        the plan's order (see the module's docstring); whether any was played."""
        played = False
        while s.steps:
            step = s.steps[0]
            if step.after is None:
                ready = step.ready
            elif step.after.end is None:
                break  # the attempt it retries is not played yet (the loop comes back)
            else:
                ready = step.after.end + timedelta(hours=p.retry_after_hours)
            t = step.task
            walking, minutes = p.minutes(t.method, step.walk, in_field=True)
            at = _fit(s, start, max(s.field_free, ready, step.planned), minutes)
            if at is None or at >= end:
                break
            record(t.household_id, t.method, step.outcome, s.staff_id,
                   at + timedelta(minutes=walking), step.attempt, step.found)
            step.end = s.field_free = at + timedelta(minutes=minutes)
            s.visits += 1
            s.busy_minutes += minutes
            s.walk_minutes += walking
            s.steps.popleft()
            played = True
        return played

    horizon = p.horizon_days * 24
    curve: dict[str, list[int]] = {g.code: [0] for g in grids}
    grid_of = {hid: households[hid].micro_grid for hid in in_scope}
    at_window: dict[str, int] = {}
    work_left: dict[str, float] = {}
    hour = 0
    while hour < horizon and len(cover_time) < len(in_scope):
        now = start + timedelta(hours=hour)
        end = now + timedelta(hours=1)
        if (now - start).seconds == 0:  # each morning at the start time
            day = (now - start).days
            fall_ill(day)
            if day:
                deliver(day - 1)
        clock.set(end)
        # chat self-reports arriving in this hour; silent households are phoned after it
        for hid, due in sorted(chat_due.items(), key=lambda i: (i[1], str(i[0]))):
            if due >= end:
                continue
            del chat_due[hid]
            if due <= start + timedelta(hours=p.chat_deadline_hours):
                planned.add(hid)
                record(hid, Method.CHAT, Outcome.SEEN, None, due, 0,
                       findings(hid, None, due))
            else:
                place(task(hid, Method.PHONE, due))
        for s in staffed:  # the plan's clock: who does what, in which order
            if s.shift is None or s.ill_on is not None:
                continue
            begin, finish = _on_shift(s, start, now)
            if end <= begin or now >= finish:
                continue
            s.shift_minutes += (min(end, finish) - max(now, begin)).total_seconds() / 60
            plan_hour(s, now, end, begin, finish)
        while any([play(s, end) for s in staffed]):  # the field's clock plays the steps
            pass
        hour += 1
        counts = _count(cover_time, grid_of, end)
        for code in curve:
            curve[code].append(counts.get(code, 0))
        if hour == p.window_days * 24:
            at_window = dict(counts)
            work_left = _work_left(staff, pool, cover_time, chat_due, grid_of, p)
    if not at_window:  # finished (or the horizon ended) within the window
        at_window = _count(cover_time, grid_of, start + timedelta(days=p.window_days))
        work_left = _work_left(staff, pool, cover_time, chat_due, grid_of, p) \
            if hour < p.window_days * 24 else {}
    app.tick(clock.now)
    deliver((clock.now - start).days)
    zones = _zones(app, scope, p, grids, grid_of, cover_time, at_window, work_left, start)
    referrals, by_day = _referral_loads(app, households, in_scope, start)
    coverage = app.campaign_coverage(campaign.id)
    return SweepResult(scope, campaign.id, start, p.window_days * 24, hour, len(in_scope), zones,
                       curve, cover_time, sorted(staff.values(), key=lambda s: s.staff_no),
                       referrals, by_day, deliveries_by_day, dispatched, coverage.by_method,
                       visits)


def _communities(app: GridcoreApp, scope: str) -> set[str]:
    return {g.parent_code for g in app.micro_grids(scope) if g.parent_code}


def _count(cover_time: dict[UUID, datetime], grid_of: dict[UUID, str],
           before: datetime) -> dict[str, int]:
    counts: dict[str, int] = {}
    for hid, t in cover_time.items():
        if t < before:
            counts[grid_of[hid]] = counts.get(grid_of[hid], 0) + 1
    return counts


def _work_left(staff: dict[UUID, StaffState], pool: dict[str, deque[Task]],
               cover_time: dict[UUID, datetime], chat_due: dict[UUID, datetime],
               grid_of: dict[UUID, str], p: SweepParams) -> dict[str, float]:
    """Staff-hours of field visits still to do per zone (a door visit with its walk, or a
    call): planned and not yet played, or not yet planned."""
    left: dict[str, float] = {}
    seen: set[UUID] = set()
    tasks = [*(x.task for s in staff.values() for x in s.steps),
             *(t for q in [*(s.queue for s in staff.values()), *pool.values()] for t in q)]
    for t in tasks:
        if t.household_id in cover_time or t.household_id in seen:
            continue
        seen.add(t.household_id)
        m = p.minutes(t.method, p.walk_minutes if t.method is Method.DOOR else 0.0,
                      in_field=True)[1]  # a walk reckoned at the constant
        left[t.grid] = left.get(t.grid, 0.0) + m / 60
    for hid in chat_due:
        if hid not in cover_time and hid not in seen:
            m = p.minutes(Method.PHONE, 0.0, in_field=True)[1]
            left[grid_of[hid]] = left.get(grid_of[hid], 0.0) + m / 60
    return left


def _zones(app: GridcoreApp, scope: str, p: SweepParams, grids: list[GridNode],
           grid_of: dict[UUID, str], cover_time: dict[UUID, datetime],
           at_window: dict[str, int], work_left: dict[str, float],
           start: datetime) -> dict[str, ZoneResult]:
    plan = app.assignment(scope, p.round_no)
    out = {}
    for g in grids:
        members = [h for h, z in grid_of.items() if z == g.code]
        done = [cover_time[h] for h in members if h in cover_time]
        full = (max(done) - start).total_seconds() / 3600 if len(done) == len(members) and \
            done else (0.0 if not members else None)
        unplaced = [u for u in plan.uncovered.values() if u.micro_grid == g.code]
        short = round(sum(u.cost for u in unplaced), 2)
        covered = at_window.get(g.code, 0)
        left = round(work_left.get(g.code, 0.0), 1)
        if covered >= len(members):
            reason = ""
        else:
            reason = (f"capacity short: {len(members) - covered} households and {left} "
                      "staff-hours of visits left at the window's end")
            if unplaced:
                reason += (f"; the plan could not place {len(unplaced)} households "
                           f"({short} door-visit units over capacity)")
        out[g.code] = ZoneResult(g.code, len(members), covered, full, len(unplaced), short,
                                 left, reason)
    return out


def _referral_loads(app: GridcoreApp, households: Mapping[UUID, object], in_scope: set[UUID],
                    start: datetime) -> tuple[dict[str, int], dict[int, dict[str, int]]]:
    """Referrals opened for residents of the scope, from the application."""
    total: dict[str, int] = {}
    by_day: dict[int, dict[str, int]] = {}
    for hid in sorted(in_scope, key=str):
        for rid in households[hid].residents:  # type: ignore[attr-defined]
            for ref in app.referrals_of(rid):
                kind = ref.kind.value
                total[kind] = total.get(kind, 0) + 1
                day = (ref.created_on - start).days
                by_day.setdefault(day, {})
                by_day[day][kind] = by_day[day].get(kind, 0) + 1
    return total, by_day


# ---- output ----------------------------------------------------------------------------------

def write_csv(result: SweepResult, out: Path, prefix: str = "") -> list[Path]:
    """coverage.csv (per hour and zone), zones.csv, staff.csv, loads.csv."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []

    def write(name: str, header: list[str], rows: list[list[object]]) -> None:
        path = out / f"{prefix}{name}"
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv_writer(f)
            w.writerow(header)
            w.writerows(rows)
        paths.append(path)

    write("coverage.csv", ["hour", "zone", "covered", "households"],
          [[h, z, c[h], result.zones[z].households] for z, c in result.curve.items()
           for h in range(len(c))]
          + [[h, "total", v, result.households] for h, v in enumerate(result.total_curve)])
    write("zones.csv", ["zone", "households", "covered_at_window", "full_at_hours",
                        "plan_unplaced", "plan_short_units", "work_left_hours", "reason"],
          [[z.code, z.households, z.covered_at_window,
            "" if z.full_at_hours is None else round(z.full_at_hours, 2), z.plan_unplaced,
            z.plan_short_units, z.work_left_hours, z.reason] for z in result.zones.values()])
    write("staff.csv", ["staff_no", "role", "visits", "busy_hours", "walking_hours",
                        "shift_hours", "utilisation", "ill_on_day"],
          [[s.staff_no, s.role.value, s.visits, round(s.busy_minutes / 60, 2),
            round(s.walk_minutes / 60, 2),
            round(s.shift_minutes / 60, 2),
            round(s.busy_minutes / s.shift_minutes, 3) if s.shift_minutes else "",
            "" if s.ill_on is None else s.ill_on] for s in result.staff])
    days = sorted(set(result.referrals_by_day) | set(result.deliveries_by_day))
    kinds = sorted(result.referrals)
    write("loads.csv", ["day", *(f"referrals_{k}" for k in kinds), "deliveries_ordered"],
          [[d, *(result.referrals_by_day.get(d, {}).get(k, 0) for k in kinds),
            result.deliveries_by_day.get(d, 0)] for d in days])
    return paths
