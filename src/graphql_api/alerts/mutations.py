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
from functools import partial
from typing import Any
from uuid import UUID

import strawberry
from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

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
from graphql_api.context import Context
from graphql_api.enums import AlertOutcome, AlertState
from graphql_api.ids import canonical
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import CommandRejected, NotFoundProblem, Problem, not_found, result
from graphql_api.reach import located, nodes, stored
from graphql_api.scope import household_visible, node_visible
from gridcore import alerts, errors, risk
from gridcore.application import GridcoreApp
from gridcore.building import Building
from projections import alerts_board


@strawberry.type(description="The alert's new state (or the state a retried clientId left).")
class AlertUpdated:
    notification_id: int | None
    id: strawberry.ID
    state: AlertState
    state_label: str


AlertResult = result("AlertResult", AlertUpdated)
CameraResult = result("CameraResult", CameraRegistered)
CheckpointResult = result("CheckpointResult", CheckpointRegistered)
SensorResult = result("SensorInputResult", SensorInputRecorded)
TravelResult = result("TravelResult", TravelRecorded)
RiskAreaResult = result("RiskAreaResult", RiskAreaUpdated)


@strawberry.input(description="签收 the alert to acknowledge.")
class AcknowledgeAlertInput:
    id: strawberry.ID
    client_id: ClientId = None


@strawberry.input(description="处置 how an alert was resolved.")
class ResolveAlertInput:
    id: strawberry.ID
    outcome: AlertOutcome
    action: str = ""
    client_id: ClientId = None


def _absent(what: str, remedy: str) -> NotFoundProblem:
    return not_found(f"No {what}.", remedy)


def _alert(raw: str) -> Reach:
    """An alert of a grid of the caller's jurisdiction (its id)."""
    return located(raw, _absent(f"alert {raw[:60]}", "Check the alert id on the board "
                                                     "(alerts)."),
                   lambda ctx, k: stored(ctx.app.alert, UUID(k), "grid_code"))


def _grid(code: str) -> Reach:
    return located(code, _absent(f"grid node {code[:40]}",
                                 "Give a grid of your jurisdiction (node, children)."),
                   lambda ctx, k: k, key=lambda k: k, as_id=str)


def _sensor(what: str, code: str, get: str, remedy: str) -> Reach:
    """A camera or checkpoint (``get`` names the application's reader) of a grid of the
    caller's jurisdiction (its code)."""
    return located(code, _absent(f"{what} {code[:60]!r}", remedy),
                   lambda ctx, k: stored(getattr(ctx.app, get), k, "grid_code"),
                   key=lambda k: k, as_id=str)


def _household(raw: str | None) -> Reach:
    """The household a camera watches, of the caller's jurisdiction (None when none)."""
    async def reach(ctx: Context) -> UUID | Problem | None:
        if raw is None:
            return None
        hid = canonical(raw)
        if hid is None or not await household_visible(ctx, hid):
            return _absent(f"household {raw[:60]}", errors.HOUSEHOLD_HINT)
        return UUID(hid)
    return reach


def _building(raw: str | None, grid_code: str) -> Reach:
    """The building whose entrance a camera watches (None when none)."""
    async def reach(ctx: Context) -> UUID | Problem | None:
        if raw is None:
            return None
        if not await _building_visible(ctx, raw, grid_code):
            return _absent(f"building {raw[:60]}",
                           "Register the building first: the registerBuilding mutation.")
        return UUID(raw)
    return reach


def _checkpoint_free(code: str) -> Reach:
    """A checkpoint id not taken elsewhere: one taken outside the jurisdiction is said to be
    taken without naming where (the domain's words would)."""
    async def reach(ctx: Context) -> str | Problem:
        where = await stored(ctx.app.checkpoint, code, "grid_code")
        if where is not None and not await node_visible(ctx, where):
            return CommandRejected(code=errors.DuplicateCode.code,
                                   problem=f"Checkpoint {code[:60]} is already registered.",
                                   remedy="Give each checkpoint its own id.")
        return code
    return reach


async def _building_visible(ctx: Context, raw: str, grid_code: str) -> bool:
    """A building whose community is in the caller's jurisdiction, or encloses ``grid_code``
    (a zone's worker watches an entrance of their community's building)."""
    bid = canonical(raw)

    def load(aid: UUID) -> Aggregate:  # typed: eventsourcing's get is generic in its result
        return ctx.app.repository.get(aid)

    try:
        found = await asyncio.to_thread(load, UUID(bid)) if bid else None
    except AggregateNotFoundError:
        return False
    if not isinstance(found, Building):
        return False
    return (await node_visible(ctx, found.community)
            or found.community in await ctx.loaders.chain.load(grid_code))


def _end(c: Call) -> int | None:
    """The log's end after a command: the position these results report (a detection's
    alert and its follow-ups included)."""
    return c.app.recorder.max_notification_id()


def _alert_of(app: GridcoreApp, returned: Any, kind: alerts.AlertKind, input_id: str,
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


def _recorded(c: Call, done: tuple[int | None, UUID | None, str]) -> SensorInputRecorded:
    end, aid, grid_code = done
    found = next((a for a in alerts_board.open_alerts(c.ctx.views, c.app.clock(), grid_code)
                  if a.alert_id == aid), None) if aid else None
    return SensorInputRecorded(notification_id=end, alerted=aid is not None,
                               alert=Alert.from_open(found) if found else None)


def _risk_area(c: Call, declaration_id: str) -> RiskAreaUpdated:
    end = _end(c)
    for area, periods in c.app.risk_periods().items():
        for p in periods:
            if p.declaration_id == declaration_id:
                return RiskAreaUpdated(notification_id=end, declaration_id=declaration_id,
                                       area=area, level=RiskLevel(p.level.value),
                                       level_label=p.level.label, start=p.start,
                                       until=p.until)
    raise errors.NotFound(f"No risk-area declaration {declaration_id[:60]}.",
                          "Declare the risk area first.")


def _alert_updated(c: Call, done: tuple[int | None, Any]) -> AlertUpdated:
    nid, alert = done
    return AlertUpdated(notification_id=nid, id=strawberry.ID(str(c.target)),
                        state=AlertState(alert.state.value), state_label=alert.state.label)


def _sensed(record: Callable[[Call, Any], Any], kind: alerts.AlertKind, sensor: str,
            input_id: Callable[[Any], str]) -> Callable[[Call, Any], Any]:
    """The command of a camera detection or vehicle pass: ``record`` it, then find the alert
    it is part of and the grid of its sensor (``c.target``, a camera or checkpoint code)."""
    def command(c: Call, i: Any) -> tuple[int | None, UUID | None, str]:
        returned = record(c, i)
        camera = c.target if kind is alerts.AlertKind.CAMERA else None
        return _end(c), _alert_of(c.app, returned, kind, input_id(i), camera), (
            getattr(c.app, sensor)(c.target).grid_code)
    return command


def _camera(c: Call, i: RegisterCameraInput) -> tuple[int | None, Any]:
    c.app.register_camera(i.camera_id, i.grid_code, household_id=c.targets[1],
                          building_id=c.targets[2], by=c.by, client_id=i.client_id)
    return _end(c), c.app.camera(i.camera_id)


def _checkpoint(c: Call, i: RegisterCheckpointInput) -> tuple[int | None, Any]:
    c.app.register_checkpoint(i.checkpoint_id, i.grid_code, i.name, by=c.by,
                              client_id=i.client_id)
    return _end(c), c.app.checkpoint(i.checkpoint_id)


def _travel(c: Call, i: TravelRecordInput) -> TravelRecorded:
    c.app.record_travel(i.record_id, i.plate, i.place, i.at, by=c.by, client_id=i.client_id)
    return TravelRecorded(notification_id=_end(c), record_id=i.record_id,
                          plate=risk.normalize_plate(i.plate), place=i.place.strip(), at=i.at)


def _declare(c: Call, i: DeclareRiskAreaInput) -> RiskAreaUpdated:
    c.app.declare_risk_area(i.declaration_id, i.area, i.level.value, i.start, i.until,
                            scope=i.scope_code, by=c.by, client_id=i.client_id)
    return _risk_area(c, i.declaration_id)


def _lift(c: Call, i: LiftRiskAreaInput) -> RiskAreaUpdated:
    c.app.lift_risk_area(i.declaration_id, i.area, i.at, by=c.by, client_id=i.client_id)
    return _risk_area(c, i.declaration_id)


def _as_is(c: Call, done: Any) -> Any:
    """The success of a command that built its own answer (from the store, in its thread)."""
    return done


_on_alert = partial(mutation, result=AlertResult, success=_alert_updated,
                    on=lambda i: [_alert(i.id)])
"""A command on an alert of the caller's jurisdiction, answering its new state."""


@strawberry.type
class AlertMutation:
    register_camera = mutation(
        "告警摄像头 register an alert camera at a household door or a building entrance in a "
        "grid of your jurisdiction.", RegisterCameraInput, _camera, result=CameraResult,
        success=lambda c, done: CameraRegistered(notification_id=done[0],
                                                 camera=Camera.of(done[1])),
        on=lambda i: [_grid(i.grid_code), _household(i.household_id),
                      _building(i.building_id, i.grid_code)])

    register_checkpoint = mutation(
        "卡口 register a vehicle checkpoint in a grid of your jurisdiction.",
        RegisterCheckpointInput, _checkpoint, result=CheckpointResult,
        success=lambda c, done: CheckpointRegistered(notification_id=done[0], checkpoint=(
            Checkpoint(id=done[1].code, name=done[1].name, grid_code=done[1].grid_code))),
        on=lambda i: [_grid(i.grid_code), _checkpoint_free(i.checkpoint_id)])

    record_camera_detection = mutation(
        "A camera of your jurisdiction saw someone go in or out: alerts when it watches a "
        "household under home quarantine (居家隔离).", CameraDetectionInput, _sensed(
            lambda c, i: c.app.record_camera_detection(
                i.detection_id, c.target, i.at, i.direction.value, i.confidence, by=c.by,
                client_id=i.client_id), alerts.AlertKind.CAMERA, "camera",
            lambda i: i.detection_id),
        result=SensorResult, success=_recorded, on=lambda i: [_sensor(
            "camera", i.camera_id, "camera", "Register the camera first (registerCamera).")])

    record_vehicle_pass = mutation(
        "车辆疫查 a car passed a checkpoint of your jurisdiction: alerts when its travel or "
        "plate region touches a high-risk area.", VehiclePassInput, _sensed(
            lambda c, i: c.app.record_vehicle_pass(i.pass_id, c.target, i.plate, i.at,
                                                   client_id=i.client_id, by=c.by),
            alerts.AlertKind.VEHICLE, "checkpoint", lambda i: i.pass_id),
        result=SensorResult, success=_recorded, on=lambda i: [_sensor(
            "checkpoint", i.checkpoint_id, "checkpoint",
            "Register the checkpoint first (registerCheckpoint).")])

    record_travel = mutation(
        "行程记录 record where a plate was (from the external feed); later passes are judged "
        "with it.", TravelRecordInput, _travel, result=TravelResult, success=_as_is)

    declare_risk_area = mutation(
        "风险地区 declare an area (a place, or a plate region like 鄂A) high, medium or low "
        "risk.", DeclareRiskAreaInput, _declare, result=RiskAreaResult, success=_as_is,
        on=lambda i: [nodes(i.scope_code)] if i.scope_code is not None else [])

    lift_risk_area = mutation("解除 end a risk-area declaration at a time.", LiftRiskAreaInput,
                              _lift, result=RiskAreaResult, success=_as_is)

    acknowledge_alert = _on_alert(
        "签收 acknowledge an alert: it stops escalating.", AcknowledgeAlertInput,
        lambda c, i: (c.app.acknowledge_alert(c.target, c.by, client_id=i.client_id),
                      c.app.alert(c.target)))

    resolve_alert = _on_alert(
        "处置 resolve an alert: a false alarm, or a breach confirmed with the action taken "
        "(劝返, 通知社区民警...).", ResolveAlertInput,
        lambda c, i: (c.app.resolve_alert(c.target, c.by, i.outcome.value, i.action,
                                          client_id=i.client_id), c.app.alert(c.target)))
