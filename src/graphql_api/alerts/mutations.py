"""Alerts and what raises them: register cameras and checkpoints (卡口) in your jurisdiction,
record a camera detection or a vehicle pass at one of them, a plate's travel record, declare and
lift risk areas; acknowledge (签收) and resolve (处置) an alert of your jurisdiction. Each acts
as the signed-in staff member and is applied once per ``clientId``. An alert, camera,
checkpoint, grid, household or building outside the jurisdiction is answered exactly like one
that does not exist. Travel records belong to no grid; a risk area belongs to the node that
declared it: who may record, declare and lift them (role, level, jurisdiction) is the domain's
rule (``gridcore.authority``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import strawberry
from eventsourcing.application import AggregateNotFoundError
from strawberry.types import Info

from graphql_api.alerts.types import (
    Alert,
    Camera,
    CameraDetectionInput,
    CameraRegistered,
    Checkpoint,
    CheckpointRegistered,
    DeclareRiskAreaInput,
    LiftRiskAreaInput,
    RegisterCameraInput,
    RegisterCheckpointInput,
    RiskAreaUpdated,
    RiskLevel,
    SensorInputRecorded,
    TravelRecorded,
    TravelRecordInput,
    VehiclePassInput,
)
from graphql_api.commands import nodes_in_reach, still_active
from graphql_api.context import Context
from graphql_api.enums import AlertOutcome, AlertState
from graphql_api.errors import (
    CommandRejected,
    ConflictProblem,
    ForbiddenTransitionProblem,
    InvalidInputProblem,
    NotFoundProblem,
    NotPermittedProblem,
    Problem,
    not_signed_in,
    problem_of,
)
from graphql_api.ids import canonical
from graphql_api.scope import household_visible, node_visible
from gridcore import alerts, errors, risk
from gridcore.building import Building
from projections import alerts_board


@strawberry.type(description="The alert's new state (or the state a retried clientId left).")
class AlertUpdated:
    notification_id: int | None
    id: strawberry.ID
    state: AlertState
    state_label: str


Problems = (NotFoundProblem | NotPermittedProblem | InvalidInputProblem
            | ForbiddenTransitionProblem | ConflictProblem | CommandRejected)
AlertResult = Annotated[AlertUpdated | Problems, strawberry.union("AlertResult")]
CameraResult = Annotated[CameraRegistered | Problems, strawberry.union("CameraResult")]
CheckpointResult = Annotated[CheckpointRegistered | Problems,
                             strawberry.union("CheckpointResult")]
SensorResult = Annotated[SensorInputRecorded | Problems, strawberry.union("SensorInputResult")]
TravelResult = Annotated[TravelRecorded | Problems, strawberry.union("TravelResult")]
RiskAreaResult = Annotated[RiskAreaUpdated | Problems, strawberry.union("RiskAreaResult")]


def _missing(raw: str) -> NotFoundProblem:
    return NotFoundProblem(code=errors.NotFound.code, problem=f"No alert {raw[:60]}.",
                           remedy="Check the alert id on the board (alerts).")


async def _on_alert(ctx: Context, raw: str,
                    command: Callable[[Any, UUID, UUID], int | None]) -> AlertUpdated | Problem:
    if ctx.caller is None:
        return not_signed_in()
    aid = canonical(raw)
    if aid is None:
        return _missing(raw)
    try:
        alert = await asyncio.to_thread(ctx.app.alert, UUID(aid))
    except errors.NotFound:
        return _missing(raw)
    if not await node_visible(ctx, alert.grid_code):
        return _missing(raw)
    by = ctx.caller.staff_id

    def work() -> tuple[int | None, Any]:
        still_active(ctx)
        nid = command(ctx.app, UUID(aid), by)
        ctx.runner.wait(ctx.app.recorder.max_notification_id() or 0)
        return nid, ctx.app.alert(UUID(aid))

    try:
        nid, alert = await asyncio.to_thread(work)
    except errors.GridcoreError as e:
        return problem_of(e)
    return AlertUpdated(notification_id=nid, id=strawberry.ID(aid),
                        state=AlertState(alert.state.value), state_label=alert.state.label)


def _absent(what: str, remedy: str) -> NotFoundProblem:
    return NotFoundProblem(code=errors.NotFound.code, problem=f"No {what}.", remedy=remedy)


async def _run(ctx: Context, command: Callable[[], Any]) -> tuple[Any, int | None]:
    """Run a command off the loop and catch the read models up to the log's end; returns what
    the command returned and that log position."""
    def work() -> tuple[Any, int | None]:
        still_active(ctx)
        result = command()
        end = ctx.app.recorder.max_notification_id()
        ctx.runner.wait(end or 0)
        return result, end
    return await asyncio.to_thread(work)


async def _building_visible(ctx: Context, raw: str, grid_code: str) -> bool:
    """A building whose community is in the caller's jurisdiction, or encloses ``grid_code``
    (a zone's worker watches an entrance of their community's building)."""
    bid = canonical(raw)
    try:
        found = await asyncio.to_thread(ctx.app.repository.get, UUID(bid)) if bid else None
    except AggregateNotFoundError:
        return False
    if not isinstance(found, Building):
        return False
    return (await node_visible(ctx, found.community)
            or found.community in await ctx.loaders.chain.load(grid_code))


def _alert_of(app: Any, returned: Any, kind: alerts.AlertKind, input_id: str,
              camera_code: str | None = None) -> UUID | None:
    """The alert a detection or pass is part of: what the command returned, or (for a
    retried clientId, which returns a log position) the one on record for the input."""
    if isinstance(returned, UUID):
        return returned
    aid = alerts.alert_id_for(kind, input_id)
    try:
        app.alert(aid)
        return aid
    except errors.NotFound:
        pass
    if camera_code is not None:  # a detection that joined an earlier alert of its camera
        for _, other in app.camera(camera_code).alerts:
            if input_id in app.alert(other).inputs:
                return other
    return None


def _recorded(ctx: Context, end: int | None, aid: UUID | None,
              grid_code: str) -> SensorInputRecorded:
    found = next((a for a in alerts_board.open_alerts(ctx.views, ctx.app.clock(), grid_code)
                  if a.alert_id == aid), None) if aid else None
    return SensorInputRecorded(notification_id=end, alerted=aid is not None,
                               alert=Alert.from_open(found) if found else None)


def _risk_area(app: Any, end: int | None, declaration_id: str) -> RiskAreaUpdated | None:
    for area, periods in app.risk_periods().items():
        for p in periods:
            if p.declaration_id == declaration_id:
                return RiskAreaUpdated(notification_id=end, declaration_id=declaration_id,
                                       area=area, level=RiskLevel(p.level.value),
                                       level_label=p.level.label, start=p.start,
                                       until=p.until)
    return None


def _by(ctx: Context) -> UUID:
    """The signed-in staff member a command acts as (never the system's ``by=None``)."""
    if ctx.caller is None:
        raise errors.NotPermitted("No staff member is signed in.", "Send a bearer token.")
    return ctx.caller.staff_id


async def _on_risk_area(ctx: Context, declaration_id: str,
                        command: Callable[[], Any]) -> RiskAreaResult:
    if ctx.caller is None:
        return not_signed_in()
    try:
        _, end = await _run(ctx, command)
        found = await asyncio.to_thread(_risk_area, ctx.app, end, declaration_id)
    except errors.GridcoreError as e:
        return problem_of(e)
    return found or _absent(f"risk-area declaration {declaration_id[:60]}",
                            "Declare the risk area first.")


@strawberry.type
class AlertMutation:
    @strawberry.mutation(description="告警摄像头 register an alert camera at a household door or "
                                     "a building entrance in a grid of your jurisdiction.")
    async def register_camera(self, info: Info[Context, None],
                              input: RegisterCameraInput) -> CameraResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        if not await node_visible(ctx, input.grid_code):
            return _absent(f"grid node {input.grid_code[:40]}",
                           "Give a grid of your jurisdiction (node, children).")
        household = building = None
        if input.household_id is not None:
            hid = canonical(input.household_id)
            if hid is None or not await household_visible(ctx, hid):
                return _absent(f"household {input.household_id[:60]}",
                               "Register the household first.")
            household = UUID(hid)
        if input.building_id is not None:
            if not await _building_visible(ctx, input.building_id, input.grid_code):
                return _absent(f"building {input.building_id[:60]}",
                               "Register the building first (register_building).")
            building = UUID(input.building_id)
        try:
            end = (await _run(ctx, lambda: ctx.app.register_camera(
                input.camera_id, input.grid_code, household_id=household,
                building_id=building, by=ctx.caller.staff_id,
                client_id=input.client_id)))[1]
            found = await asyncio.to_thread(ctx.app.camera, input.camera_id)
        except errors.GridcoreError as e:
            return problem_of(e)
        return CameraRegistered(notification_id=end, camera=Camera.of(found))

    @strawberry.mutation(description="卡口 register a vehicle checkpoint in a grid of your "
                                     "jurisdiction.")
    async def register_checkpoint(self, info: Info[Context, None],
                                  input: RegisterCheckpointInput) -> CheckpointResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        if not await node_visible(ctx, input.grid_code):
            return _absent(f"grid node {input.grid_code[:40]}",
                           "Give a grid of your jurisdiction (node, children).")
        try:
            known = await asyncio.to_thread(ctx.app.checkpoint, input.checkpoint_id)
        except errors.NotFound:
            known = None
        if known is not None and not await node_visible(ctx, known.grid_code):
            # taken elsewhere: say so without naming where (the domain's words would)
            return CommandRejected(code=errors.DuplicateCode.code,
                                   problem=f"Checkpoint {input.checkpoint_id[:60]} is already "
                                           "registered.", remedy="Give each checkpoint its own id.")
        try:
            end = (await _run(ctx, lambda: ctx.app.register_checkpoint(
                input.checkpoint_id, input.grid_code, input.name, by=ctx.caller.staff_id,
                client_id=input.client_id)))[1]
            found = await asyncio.to_thread(ctx.app.checkpoint, input.checkpoint_id)
        except errors.GridcoreError as e:
            return problem_of(e)
        return CheckpointRegistered(notification_id=end, checkpoint=Checkpoint(
            id=found.code, name=found.name, grid_code=found.grid_code))

    @strawberry.mutation(description="A camera of your jurisdiction saw someone go in or out: "
                                     "alerts when it watches a household under home "
                                     "quarantine (居家隔离).")
    async def record_camera_detection(self, info: Info[Context, None],
                                      input: CameraDetectionInput) -> SensorResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        try:
            cam = await asyncio.to_thread(ctx.app.camera, input.camera_id)
        except errors.NotFound:
            cam = None
        if cam is None or not await node_visible(ctx, cam.grid_code):
            return _absent(f"camera {input.camera_id[:60]!r}",
                           "Register the camera first (registerCamera).")
        try:
            returned, end = await _run(ctx, lambda: ctx.app.record_camera_detection(
                input.detection_id, input.camera_id, input.at, input.direction.value,
                input.confidence, by=ctx.caller.staff_id, client_id=input.client_id))
            aid = await asyncio.to_thread(_alert_of, ctx.app, returned, alerts.AlertKind.CAMERA,
                                          input.detection_id, input.camera_id)
        except errors.GridcoreError as e:
            return problem_of(e)
        return _recorded(ctx, end, aid, cam.grid_code)

    @strawberry.mutation(description="车辆疫查 a car passed a checkpoint of your jurisdiction: "
                                     "alerts when its travel or plate region touches a "
                                     "high-risk area.")
    async def record_vehicle_pass(self, info: Info[Context, None],
                                  input: VehiclePassInput) -> SensorResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        try:
            cp = await asyncio.to_thread(ctx.app.checkpoint, input.checkpoint_id)
        except errors.NotFound:
            cp = None
        if cp is None or not await node_visible(ctx, cp.grid_code):
            return _absent(f"checkpoint {input.checkpoint_id[:60]!r}",
                           "Register the checkpoint first (registerCheckpoint).")
        try:
            returned, end = await _run(ctx, lambda: ctx.app.record_vehicle_pass(
                input.pass_id, input.checkpoint_id, input.plate, input.at,
                client_id=input.client_id))
            aid = await asyncio.to_thread(_alert_of, ctx.app, returned,
                                          alerts.AlertKind.VEHICLE, input.pass_id)
        except errors.GridcoreError as e:
            return problem_of(e)
        return _recorded(ctx, end, aid, cp.grid_code)

    @strawberry.mutation(description="行程记录 record where a plate was (from the external feed); "
                                     "later passes are judged with it.")
    async def record_travel(self, info: Info[Context, None],
                            input: TravelRecordInput) -> TravelResult:
        ctx = info.context
        if ctx.caller is None:
            return not_signed_in()
        try:
            _, end = await _run(ctx, lambda: ctx.app.record_travel(
                input.record_id, input.plate, input.place, input.at, by=ctx.caller.staff_id,
                client_id=input.client_id))
            plate = risk.normalize_plate(input.plate)
        except errors.GridcoreError as e:
            return problem_of(e)
        return TravelRecorded(notification_id=end, record_id=input.record_id, plate=plate,
                              place=input.place.strip(), at=input.at)

    @strawberry.mutation(description="风险地区 declare an area (a place, or a plate region like "
                                     "鄂A) high, medium or low risk.")
    async def declare_risk_area(self, info: Info[Context, None],
                                input: DeclareRiskAreaInput) -> RiskAreaResult:
        ctx = info.context
        if input.scope_code is not None and ctx.caller is not None and (
                outside := await nodes_in_reach(ctx, input.scope_code)) is not None:
            return outside
        return await _on_risk_area(ctx, input.declaration_id, lambda: ctx.app.declare_risk_area(
            input.declaration_id, input.area, input.level.value, input.start, input.until,
            scope=input.scope_code, by=_by(ctx), client_id=input.client_id))

    @strawberry.mutation(description="解除 end a risk-area declaration at a time.")
    async def lift_risk_area(self, info: Info[Context, None],
                             input: LiftRiskAreaInput) -> RiskAreaResult:
        ctx = info.context
        return await _on_risk_area(ctx, input.declaration_id, lambda: ctx.app.lift_risk_area(
            input.declaration_id, input.area, input.at, by=_by(ctx),
            client_id=input.client_id))

    @strawberry.mutation(description="签收 acknowledge an alert: it stops escalating.")
    async def acknowledge_alert(self, info: Info[Context, None], id: strawberry.ID,
                                client_id: str | None = None) -> AlertResult:
        return await _on_alert(info.context, id, lambda app, aid, by: app.acknowledge_alert(
            aid, by, client_id=client_id))

    @strawberry.mutation(description="处置 resolve an alert: a false alarm, or a breach confirmed "
                                     "with the action taken (劝返, 通知社区民警...).")
    async def resolve_alert(self, info: Info[Context, None], id: strawberry.ID,
                            outcome: AlertOutcome, action: str = "",
                            client_id: str | None = None) -> AlertResult:
        return await _on_alert(info.context, id, lambda app, aid, by: app.resolve_alert(
            aid, by, outcome.value, action, client_id=client_id))
