"""Commands of camera and vehicle alerts (告警): cameras and checkpoints, detections and passes,
travel records and risk areas, acknowledgement, resolution and escalation by ``tick``.

Decisions made here (the rules themselves are in ``camera``, ``risk`` and ``alerts``):

- Every input carries its own id; the alert it raises has the id ``alert_id_for(kind, id)``.
  A detection or pass delivered twice finds its alert and writes nothing; a travel record or
  risk declaration delivered twice finds itself recorded and writes nothing. Replaying a whole
  input therefore changes nothing, with one deliberate exception: a pass that raised no alert
  is not remembered (only counted), so on a replay it is judged again with what is on record
  then, and alerts if a travel record or risk declaration covering it arrived after it (late
  news). Records applied before the passes they concern (as ``gridcore ingest`` applies a
  file) make a replay write nothing at all.
- A detection is judged with the policy in force at the detection's time, and the households'
  measures as they were at that time (from their event history). A detection that does not
  alert writes nothing. One that alerts joins the camera's alert whose first detection is
  within the window (``camera.window_alert``), or starts a new one.
- A pass that raises no alert is not recorded one by one: ``count_vehicle_passes`` records the
  passes per checkpoint and UTC hour of a source (every pass, alerting or not), once per
  source key.
- The alert goes to the responsible grid worker (责任网格员) of the camera's or checkpoint's
  grid (for a building entrance in a community: of the quarantined household's micro-grid);
  the acknowledgement deadline counts from when the alert is raised, not from the detection,
  so ingesting an old file does not escalate at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from gridcore.alerts import (
    ALERT_DIRECTORY_ID,
    Alert,
    AlertDesk,
    AlertDirectory,
    AlertKind,
    AlertState,
    Outcome,
    alert_desk_id,
    alert_id_for,
    is_due,
)
from gridcore.app_base import ApplicationBase, command
from gridcore.authority import Actor, System
from gridcore.base import Aggregate
from gridcore.building import Building
from gridcore.camera import (
    Camera,
    Direction,
    alerts_near,
    check_confidence,
    detection_alerts,
    under_home_quarantine,
)
from gridcore.camera import (
    camera_id as camera_uuid,
)
from gridcore.checkpoint import Checkpoint
from gridcore.checkpoint import checkpoint_id as checkpoint_uuid
from gridcore.clock import check_instant
from gridcore.errors import DuplicateCode, GridcoreError, InvalidInput, NotFound, parse_enum
from gridcore.grid import GridNode
from gridcore.household import Household
from gridcore.policy import Policy
from gridcore.risk import (
    RISK_REGISTER_ID,
    RiskLevel,
    RiskPeriod,
    RiskRegister,
    check_input_id,
    normalize_plate,
    vehicle_alert_reason,
)
from gridcore.staff import StaffMember
from gridcore.status import Measure
from gridcore.vehicle import (
    MAX_BUCKETS,
    HourCount,
    PassTally,
    PlateTravel,
    check_counts,
    pass_tally_id,
    plate_travel_id,
)


class AlertCommands(ApplicationBase):
    # ---- cameras and checkpoints -----------------------------------------------------------

    @command
    def register_camera(self, camera_id: str, grid_code: str, *,
                        household_id: UUID | None = None,
                        building_id: UUID | None = None,
                        by: Actor) -> int | None:
        """Register an alert camera at a household's door or a building entrance (楼栋入口)
        in a grid; registering it again with the same values changes nothing."""
        at = self.clock()
        check_input_id(camera_id, "camera")
        if (household_id is None) == (building_id is None):
            raise InvalidInput(f"Camera {camera_id} must watch one household door or one "
                               "building entrance.", "Give household_id or building_id, not both.")
        self.node(grid_code).require_active()
        if household_id is not None:
            h = self.household(household_id)
            if grid_code not in self.ancestry(h.micro_grid):
                raise InvalidInput(f"Household {h.household_no} is not in grid {grid_code}.",
                                   f"Register the camera in {h.micro_grid} or a grid above it.")
        if building_id is not None:
            b = self._get(Building, building_id, f"building {building_id}",
                          "Register the building first: the registerBuilding mutation.")
            if b.community not in self.ancestry(grid_code) and grid_code not in self.ancestry(
                    b.community):
                raise InvalidInput(f"Building {b.name} is not in grid {grid_code}.",
                                   f"Register the camera in {b.community} or one of its zones.")
        known = self._find(Camera, camera_uuid(camera_id))
        if known is not None:
            if known.same_as(grid_code, household_id, building_id):
                return None
            raise DuplicateCode(f"Camera {camera_id} is already registered elsewhere.",
                                "Give each camera its own id.")
        return self._save(Camera.register(camera_id, grid_code, household_id, building_id,
                                          at))

    @command
    def register_checkpoint(self, checkpoint_id: str, grid_code: str,
                            name: str, *, by: Actor) -> int | None:
        """Register a vehicle checkpoint (卡口) in a grid; again with the same values: no-op."""
        at = self.clock()
        check_input_id(checkpoint_id, "checkpoint")
        self.node(grid_code).require_active()
        known = self._find(Checkpoint, checkpoint_uuid(checkpoint_id))
        if known is not None:
            if known.same_as(grid_code, name):
                return None
            raise DuplicateCode(f"Checkpoint {checkpoint_id} is already registered "
                                f"in {known.grid_code} as {known.name}.",
                                "Give each checkpoint its own id.")
        return self._save(Checkpoint.register(checkpoint_id, grid_code, name, at))

    def camera(self, code: str) -> Camera:
        return self._get(Camera, camera_uuid(code), f"camera {code!r}",
                         "Register the camera first: the registerCamera mutation.")

    def checkpoint(self, code: str, *, for_reading: bool = False) -> Checkpoint:
        """The checkpoint (a copy; with ``for_reading`` the cached one, not to be changed)."""
        cp = self._find(Checkpoint, checkpoint_uuid(code), for_reading=for_reading)
        if cp is None:
            raise NotFound(f"No checkpoint {code!r}.",
                           "Register the checkpoint first: the registerCheckpoint mutation.")
        return cp

    def alert(self, alert_id: UUID) -> Alert:
        return self._get(Alert, alert_id, f"alert {alert_id}", "Check the alert id.")

    # ---- camera detections -----------------------------------------------------------------

    @command
    def record_camera_detection(self, detection_id: str, camera_id: str, at: datetime,
                                direction: Direction | str,
                                confidence: float, *, by: Actor) -> UUID | None:
        """A camera saw someone go in or out at ``at``: returns the alert the detection is
        part of, or None when it does not alert (nothing is written then)."""
        now = self.clock()
        check_input_id(detection_id, "detection")
        self.check_time(at, "detection time")
        way = parse_enum(Direction, direction, "direction (in/out)")
        check_confidence(confidence)
        cam = self.camera(camera_id)
        aid = alert_id_for(AlertKind.CAMERA, detection_id)
        if self._find(Alert, aid) is not None:
            return aid
        policy = self.policy_at(at)
        if not detection_alerts(confidence, True, policy):
            return None
        quarantined = self._quarantined_households(cam, at)
        if not detection_alerts(confidence, bool(quarantined), policy):
            return None
        near = [self.alert(a) for a in alerts_near(cam.alerts, at, policy)]
        for alert in near:
            if detection_id in alert.inputs:
                return alert.id  # delivered before: attached already
        if near:
            alert = near[0]  # window_alert's choice
            alert.attach(detection_id, at, way, confidence, now)
            self._save(alert)
            return alert.id
        grid = self.node(cam.grid_code)
        assignee = (self._on_duty(grid.responsible_worker)
                    or self._responsible_of(quarantined[0].micro_grid))
        where = f"户门 door of {quarantined[0].household_no}" if cam.household_id else (
            f"楼栋入口 building entrance ({len(quarantined)} quarantined households)")
        alert = Alert.raise_alert(
            aid, AlertKind.CAMERA, cam.code, detection_id, cam.grid_code, grid.level, assignee,
            f"居家隔离户有人{way.label} someone went {way.value} at the {where}", at, policy,
            now, household_id=cam.household_id, building_id=cam.building_id, direction=way,
            confidence=confidence)
        cam.open_alert(aid, at, now)
        self._save(alert, cam, *self._tracked(alert, now))
        return aid

    def _quarantined_households(self, cam: Camera, at: datetime) -> list[Household]:
        """The watched households with someone under home quarantine at ``at``."""
        if cam.household_id is not None:
            watched = [self.household(cam.household_id)]
        elif cam.building_id is not None:
            b = self._get(Building, cam.building_id, f"building {cam.building_id}",
                          "Register the building first.")
            watched = sorted((h for h in self.households_in(b.community)
                              if h.building_id == b.id), key=lambda h: h.household_no)
        else:  # not reached: a camera watches a household or a building (Camera.register)
            watched = []
        return [h for h in watched if self._quarantined_at(h, at)]

    def _quarantined_at(self, h: Household, at: datetime) -> bool:
        if h.modified_on <= at:  # nothing changed since: its state now is its state then
            return any(r.measure is Measure.HOME_QUARANTINE for r in h.residents.values())
        return under_home_quarantine(self._measure_changes(h.id), at)

    def _measure_changes(self, hid: UUID) -> list[tuple[datetime, UUID, Measure]]:
        changes: list[tuple[datetime, UUID, Measure]] = []
        for e in self.events.get(hid):
            if isinstance(e, Household.MeasureChanged):  # from when it began (补录: since)
                changes.append((e.since or e.timestamp, e.resident_id, e.measure))
            elif isinstance(e, Household.MemberRemoved):
                changes.append((e.timestamp, e.resident_id, Measure.NONE))
        return changes

    def _responsible_of(self, grid_code: str) -> UUID | None:
        return self._on_duty(self.node(grid_code).responsible_worker)

    def _on_duty(self, sid: UUID | None) -> UUID | None:
        """A responsible worker an alert may be given to: not one deactivated since they were
        named (their alert then waits at its grid for the deadline's escalation, as where no
        worker is named)."""
        if sid is None:
            return None
        member = self._find(StaffMember, sid, for_reading=True)
        return sid if member is not None and member.active else None

    def _tracked(self, alert: Alert, at: datetime, *more: Alert) -> list[Aggregate]:
        """The alerts' desks (and the directory when a desk is new), tracking their
        deadlines."""
        desks: dict[str, AlertDesk] = {}
        directory: AlertDirectory | None = None
        for a in (alert, *more):
            desk = desks.get(a.grid_code) or self._find(AlertDesk, alert_desk_id(a.grid_code))
            if desk is None:
                desk = AlertDesk.start(a.grid_code, at)
                directory = directory or (self._find(AlertDirectory, ALERT_DIRECTORY_ID)
                                          or AlertDirectory.start(at))
                directory.add(a.grid_code, at)
            desks[a.grid_code] = desk
            desk.track(a.id, a.deadline, at)
        return [*desks.values()] if directory is None else [*desks.values(), directory]

    # ---- vehicles ----------------------------------------------------------------------------

    @command
    def record_vehicle_pass(self, pass_id: str, checkpoint_id: str, plate: str,
                            at: datetime, *, by: Actor) -> UUID | None:
        """A car passed a checkpoint: the vehicle rule decides, with the plate's travel
        records and the risk areas on record; returns the alert, or None (nothing written)."""
        check_input_id(pass_id, "pass")
        self.check_time(at, "pass time")
        text = normalize_plate(plate)
        cp = self.checkpoint(checkpoint_id)
        aid = alert_id_for(AlertKind.VEHICLE, pass_id)
        if self._find(Alert, aid) is not None:
            return aid
        policy = self.policy_at(at)
        reason = vehicle_alert_reason(text, at, self.travel_of(text), self.risk_periods(),
                                      policy)
        if reason is None:
            return None
        return self._raise_vehicle(aid, pass_id, cp, text, at, reason, policy)

    @command
    def raise_vehicle_alert(self, pass_id: str, checkpoint_id: str, plate: str,
                            at: datetime, reason: str, *, by: Actor) -> UUID:
        """Record a vehicle alert decided elsewhere (a stream agent with its own tables);
        applied once per pass id."""
        return self._raise_vehicle_alerts([(pass_id, checkpoint_id, plate, at, reason)])[0]

    @command
    def raise_vehicle_alerts(self, alerts: Sequence[tuple[str, str, str, datetime, str]],
                             *, by: Actor
                             ) -> list[UUID]:
        """Several vehicle alerts decided elsewhere, as (pass id, checkpoint id, plate, time,
        reason), saved in one transaction (a stream worker's batch); each applied once per
        pass id. One bad item refuses them all, naming it."""
        return self._raise_vehicle_alerts(alerts)

    def _raise_vehicle_alerts(self, alerts: Sequence[tuple[str, str, str, datetime, str]],
                              also: Callable[[], Sequence[Aggregate | None]] = tuple,
                              in_force: Callable[[datetime], Policy] | None = None,
                              known: Mapping[str, Checkpoint] | None = None,
                              ) -> list[UUID]:
        """``also``: more aggregates to store in the same transaction, made again if the
        store refuses the first attempt (their events are taken by each attempt).
        ``in_force`` and ``known`` (checkpoints by code): read already by the caller."""
        now = self.clock()
        # Read once per call (a stream worker's batch), not per alert: the policy book, each
        # checkpoint, each grid and its worker on duty. Each time is checked as check_time.
        in_force = in_force or self.policy_reader()
        window_policy = in_force(now)
        checkpoints: dict[str, Checkpoint] = dict(known or {})
        duty: dict[str, tuple[GridNode, UUID | None]] = {}
        checked = []
        for n, (pass_id, checkpoint_id, plate, at, reason) in enumerate(alerts, start=1):
            try:
                check_input_id(pass_id, "pass")
                check_instant(at, now, window_policy, "pass time")
                text = normalize_plate(plate)
                if not 1 <= len((reason or "").strip()) <= 300:
                    raise InvalidInput("A vehicle alert needs its reason (1-300 characters).",
                                       "Pass the reason vehicle_alert_reason gave.")
                cp = checkpoints.get(checkpoint_id) or checkpoints.setdefault(
                    checkpoint_id, self.checkpoint(checkpoint_id, for_reading=True))
            except GridcoreError as e:
                if len(alerts) == 1:
                    raise
                raise type(e)(f"Alert {n} of {len(alerts)} (pass {pass_id!r}): {e.problem}",
                              e.remedy) from None
            checked.append((alert_id_for(AlertKind.VEHICLE, pass_id), pass_id, cp, text, at,
                            reason.strip()))
        # Most passes are new: all the batch's alerts are stored at once, and only when the
        # store refuses one as there already (a pass redelivered after a crash) is each one
        # looked up (a query per alert, the cost of a batch before).
        for look_up in (False, True):
            raised: dict[UUID, Alert] = {}
            for aid, pass_id, cp, text, at, reason in checked:
                if aid not in raised and not (look_up and self._find(Alert, aid) is not None):
                    raised[aid] = self._vehicle_alert(aid, pass_id, cp, text, at, reason,
                                                      in_force(at), now, duty)
            extra = [a for a in also() if a is not None]
            if not raised and not extra:
                break
            try:
                if raised:
                    first, *more = raised.values()
                    extra += self._tracked(first, now, *more)
                self._save(*raised.values(), *extra)
                break
            except IntegrityError:
                if look_up:
                    raise
        return [c[0] for c in checked]

    def _vehicle_alert(self, aid: UUID, pass_id: str, cp: Checkpoint, plate: str, at: datetime,
                       reason: str, policy: Policy, now: datetime,
                       duty: dict[str, tuple[GridNode, UUID | None]] | None = None) -> Alert:
        """``duty``: grid code -> (grid, worker on duty), read once per batch."""
        known = duty.get(cp.grid_code) if duty is not None else None
        if known is None:
            grid = self._node_for_reading(cp.grid_code)
            known = (grid, self._on_duty(grid.responsible_worker))
            if duty is not None:
                duty[cp.grid_code] = known
        grid, worker = known
        return Alert.raise_alert(aid, AlertKind.VEHICLE, cp.code, pass_id, cp.grid_code,
                                 grid.level, worker, reason, at, policy, now,
                                 plate=plate)

    def _raise_vehicle(self, aid: UUID, pass_id: str, cp: Checkpoint, plate: str,
                       at: datetime, reason: str, policy: Policy) -> UUID:
        now = self.clock()
        alert = self._vehicle_alert(aid, pass_id, cp, plate, at, reason, policy, now)
        self._save(alert, *self._tracked(alert, now))
        return aid

    @command
    def record_travel(self, record_id: str, plate: str, place: str,
                      at: datetime, *, by: Actor) -> int | None:
        """A travel record of a plate (行程记录) from the external feed; applied once."""
        now = self.clock()
        self.check_time(at, "travel time")
        text = normalize_plate(plate)
        travel = self._find(PlateTravel, plate_travel_id(text)) or PlateTravel.start(text, now)
        travel.record(record_id, place, at, now)
        return self._save(travel)

    def travel_of(self, plate: str) -> list[tuple[str, datetime]]:
        """(place, time) of the plate's travel records, in time order."""
        travel = self._find(PlateTravel, plate_travel_id(normalize_plate(plate)))
        return travel.pairs() if travel else []

    @command
    def declare_risk_area(self, declaration_id: str, area: str, level: RiskLevel | str,
                          start: datetime, until: datetime | None = None, *,
                          scope: str | None = None, by: Actor) -> int | None:
        """Declare an area (a place, or a plate region like 鄂A) high, medium or low risk from
        ``start`` (until ``until``, or until lifted); the same declaration again: no-op.

        ``scope`` is the node whose administration declares it: by default the declaring
        official's jurisdiction (its first node; the system's declarations belong to the
        whole city); it must lie in that jurisdiction, and only an official whose
        jurisdiction contains it may lift the declaration."""
        if isinstance(by, UUID) and scope is None:
            scope = self.staff(by).home
        if scope is not None:
            self.node(scope)
        at = self.clock()
        grade = parse_enum(RiskLevel, level, "risk level")
        self.check_time(start, "risk period's start", scheduled=True)
        if until is not None:
            self.check_time(until, "risk period's end", scheduled=True)
        register = self._find(RiskRegister, RISK_REGISTER_ID) or RiskRegister.open(at)
        register.declare(declaration_id, area, grade, start, until, at, scope)
        return self._save(register)

    @command
    def lift_risk_area(self, declaration_id: str, area: str, at: datetime, *,
                       by: Actor) -> int | None:
        """End a declaration at ``at``; lifting it again changes nothing. Only an official
        whose jurisdiction contains the declaration's scope may lift it."""
        now = self.clock()
        self.check_time(at, "lift time", scheduled=True)
        register = self._find(RiskRegister, RISK_REGISTER_ID) or RiskRegister.open(now)
        register.scope_of(declaration_id, area)  # NotFound: no such declaration
        register.lift(declaration_id, area, at, now)
        return self._save(register)

    def risk_periods(self) -> dict[str, list[RiskPeriod]]:
        """Area -> its declared periods (the vehicle rule's risk input)."""
        register = self._find(RiskRegister, RISK_REGISTER_ID)
        return register.by_area() if register else {}

    @command
    def count_vehicle_passes(self, counts: Mapping[tuple[str, datetime], int],
                             source_key: str, *, by: Actor) -> int | None:
        """Record passes per (checkpoint id, UTC hour start) of one source (every pass,
        alerting or not), once per ``source_key``: a replay of the same source adds
        nothing. Returns None when nothing was written."""
        at = self.clock()
        rows = self._checked_counts(counts, source_key)
        return self._save(self._new_tally(rows, source_key, at))

    @command
    def record_vehicle_passes(self, alerts: Sequence[tuple[str, str, str, datetime, str]],
                              tallies: Mapping[str, Mapping[tuple[str, datetime], int]],
                              *, by: Actor) -> list[UUID]:
        """A stream worker's passes at once: their alerts (as ``raise_vehicle_alerts``) and,
        per source (a partition's batch), its passes per checkpoint and hour (as
        ``count_vehicle_passes``), in one transaction: alerts are never stored without their
        counts, and a worker's fetch from several partitions is one commit. One bad alert or
        count refuses it all, naming it; alerts are applied once per pass id and counts once
        per source key. Returns the alerts' ids."""
        now = self.clock()
        # The policy book and every checkpoint named are read once for the whole batch (the
        # checkpoints in one query): each read is a transaction, and the worker's event
        # loop waits for this write before it judges its next fetch.
        in_force = self.policy_reader()
        check_time = self.time_checker(in_force)
        named = {a[1] for a in alerts if isinstance(a, tuple) and len(a) == 5
                 and isinstance(a[1], str)}
        named.update(k[0] for counts in tallies.values() for k in counts
                     if isinstance(k, tuple) and len(k) == 2 and isinstance(k[0], str))
        known = self._checkpoints_for_reading(named)
        rows = {}
        for source_key, counts in tallies.items():
            try:
                rows[source_key] = self._checked_counts(counts, source_key, check_time, known)
            except GridcoreError as e:
                if len(tallies) == 1:
                    raise
                raise type(e)(f"Counts of source {source_key!r}: {e.problem}",
                              e.remedy) from None
        return self._raise_vehicle_alerts(
            alerts, lambda: [self._new_tally(r, key, now) for key, r in rows.items()],
            in_force, known)

    def _checkpoints_for_reading(self, codes: set[str]) -> dict[str, Checkpoint]:
        """The checkpoints of these codes that exist, read in one query, not to be
        changed."""
        ids = {checkpoint_uuid(code): code for code in codes}
        return {ids[cid]: cp for cid, cp in self._find_many(
            Checkpoint, ids, for_reading=True).items()}

    def _checked_counts(self, counts: Mapping[tuple[str, datetime], int], source_key: str,
                        check_time: Callable[..., datetime] | None = None,
                        known: Mapping[str, Checkpoint] | None = None) -> list[HourCount]:
        """``check_time`` and ``known`` (checkpoints by code): read already by the caller."""
        check_input_id(source_key, "count source")
        check_time = check_time or self.time_checker()
        for key in list(counts)[:MAX_BUCKETS]:  # before check_counts converts them to UTC
            if isinstance(key, tuple) and len(key) == 2:
                check_time(key[1], "pass hour")
        rows = check_counts(counts)
        for code in sorted({r.checkpoint_id for r in rows}):
            if known is None or code not in known:
                self.checkpoint(code, for_reading=True)
        return rows

    def _new_tally(self, rows: list[HourCount], source_key: str,
                   at: datetime) -> PassTally | None:
        """The source's tally, unless it is counted already (or has no rows)."""
        if not rows or self._find(PassTally, pass_tally_id(source_key)) is not None:
            return None
        return PassTally.count(source_key, rows, at)

    # ---- handling alerts ---------------------------------------------------------------------

    @command
    def acknowledge_alert(self, alert_id: UUID, by: UUID) -> int | None:
        """The grid worker (or whoever the alert reached) acknowledges it (签收): it no longer
        escalates."""
        at = self.clock()
        alert = self.alert(alert_id)
        alert.acknowledge(by, at)
        return self._save(alert, *self._untracked(alert, at))

    @command
    def resolve_alert(self, alert_id: UUID, by: UUID, outcome: Outcome | str,
                      action: str = "") -> int | None:
        """Close an alert (处置): a false alarm (误报), or a breach confirmed with the action
        taken (确认违规: 劝返, 通知社区民警...)."""
        at = self.clock()
        alert = self.alert(alert_id)
        alert.resolve(by, parse_enum(Outcome, outcome, "alert outcome"), action, at)
        return self._save(alert, *self._untracked(alert, at))

    def _untracked(self, alert: Alert, at: datetime) -> list[Aggregate]:
        desk = self._find(AlertDesk, alert_desk_id(alert.grid_code))
        if desk is None:
            return []
        desk.untrack(alert.id, at)
        return [desk]

    def tick_alerts(self, now: datetime) -> int:
        """Escalate each alert not acknowledged by its deadline one level up (at the top,
        record the missed deadline), once per deadline; returns how many did."""
        directory = self._find(AlertDirectory, ALERT_DIRECTORY_ID)
        newly = 0
        for code in directory.codes if directory else []:
            desk = self._find(AlertDesk, alert_desk_id(code))
            for aid in desk.past_due(now) if desk else []:
                newly += int(self._escalate_alert(aid, now, by=System.AUTOMATION))
        return newly

    @command
    def _escalate_alert(self, alert_id: UUID, now: datetime, *, by: Actor) -> bool:
        alert = self.alert(alert_id)
        desk = self._get(AlertDesk, alert_desk_id(alert.grid_code),
                         f"alert desk of {alert.grid_code}", "Raise the alert first.")
        due = is_due(alert.state, alert.deadline, now)
        if due:
            parent = self.node(alert.owner_code).parent_code
            level = self.node(parent).level if parent is not None else None
            alert.escalate(parent, level, self.policy_at(now), now)
        desk.track(alert.id, alert.deadline if alert.state is AlertState.RAISED else None, now)
        self._save(alert, desk)
        return due
