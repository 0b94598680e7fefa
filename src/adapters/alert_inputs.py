"""The inbound records of the alert streams, as JSON objects, and how each is applied.

One JSON object per message (a Kafka record, or a line of an ingest file), with exactly these
keys; times are ISO 8601 with their offset (``2020-02-17T08:00:00+08:00``):

- camera detection: ``detection_id, camera_id, at, direction ("in"/"out"), confidence (0..1)``
- vehicle pass: ``pass_id, checkpoint_id, plate, at``
- travel record: ``record_id, plate, place, at``
- risk-area declaration: ``declaration_id, area, level ("high"/"medium"/"low"), start,
  until (optional)``; risk-area lift: ``declaration_id, area, at``

``parse(kind, data)`` decodes one message or raises ``InputRejected`` whose ``reason`` says
what was wrong and what would be right (for the dead-letter topic or the ingest report).
``apply(app, record)`` records it through the application; it is idempotent by the input's
own id, and returns the alert the input belongs to (a list of one id), or an empty list.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from gridcore.authority import System
from gridcore.vehicle import hour_start

Kind = Literal["camera", "vehicle", "travel", "risk"]
Id = Annotated[str, Field(min_length=1, max_length=200)]
Plate = Annotated[str, Field(min_length=2, max_length=20)]
Area = Annotated[str, Field(min_length=1, max_length=60)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True,
                              str_strip_whitespace=True)


class CameraDetection(_Input):
    detection_id: Id
    camera_id: Id
    at: AwareDatetime
    direction: Literal["in", "out"]
    confidence: float = Field(ge=0.0, le=1.0, allow_inf_nan=False)


class VehiclePass(_Input):
    pass_id: Id
    checkpoint_id: Id
    plate: Plate
    at: AwareDatetime


class TravelRecord(_Input):
    record_id: Id
    plate: Plate
    place: Area
    at: AwareDatetime


class RiskAreaDeclared(_Input):
    declaration_id: Id
    area: Area
    level: Literal["high", "medium", "low"]
    start: AwareDatetime
    until: AwareDatetime | None = None


class RiskAreaLifted(_Input):
    declaration_id: Id
    area: Area
    at: AwareDatetime


class InputRejected(ValueError):
    """A message that cannot be applied; ``reason`` says what was wrong and what is right."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


MODELS: dict[str, tuple[type[_Input], ...]] = {
    "camera": (CameraDetection,),
    "vehicle": (VehiclePass,),
    "travel": (TravelRecord,),
    "risk": (RiskAreaDeclared, RiskAreaLifted),
}
EXAMPLES = {
    "camera": '{"detection_id": "D-1", "camera_id": "CAM-1", "at": "2020-02-17T08:00:00+08:00",'
              ' "direction": "out", "confidence": 0.93}',
    "vehicle": '{"pass_id": "P-1", "checkpoint_id": "KK-1", "plate": "鄂A12345", '
               '"at": "2020-02-17T08:00:00+08:00"}',
    "travel": '{"record_id": "T-1", "plate": "鄂A12345", "place": "武汉市", '
              '"at": "2020-02-10T12:00:00+08:00"}',
    "risk": '{"declaration_id": "R-1", "area": "武汉市", "level": "high", '
            '"start": "2020-01-23T00:00:00+08:00"} or {"declaration_id": "R-1", "area": '
            '"武汉市", "at": "2020-04-08T00:00:00+08:00"}',
}


def _describe(error: ValidationError) -> str:
    parts = []
    for e in error.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in e["loc"]) or "message"
        parts.append(f"{where}: {e['msg']}")
    return "; ".join(parts)


def parse(kind: Kind, data: bytes | str) -> BaseModel:
    """One JSON object of this kind (for ``risk``: a declaration or a lift)."""
    if kind not in MODELS:
        raise InputRejected(f"Unknown input kind {kind!r}; use one of {', '.join(MODELS)}.")
    models = MODELS[kind]
    if isinstance(data, bytes) and data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte order mark is not part of the JSON
    elif isinstance(data, str) and data.startswith("\ufeff"):
        data = data[1:]
    problems = []
    for model in models:
        try:
            return model.model_validate_json(data)
        except ValidationError as e:
            if any(x["type"] == "json_invalid" for x in e.errors()):
                raise InputRejected(f"Not a JSON object ({_describe(e)}). Send one JSON "
                                    f"object per message, e.g. {EXAMPLES[kind]}.") from None
            problems.append((len(e.errors()), model.__name__, _describe(e)))
    _, name, text = min(problems)
    raise InputRejected(f"Not a valid {name} ({text}). Expected e.g. {EXAMPLES[kind]}.")


def validate(kind: Kind, obj: Any) -> BaseModel:
    """Like ``parse`` for an already decoded JSON value (a line of an ingest file)."""
    if not isinstance(obj, dict):
        raise InputRejected(f"Not a JSON object but {type(obj).__name__}. Expected e.g. "
                            f"{EXAMPLES.get(kind, '{...}')}.")
    return parse(kind, orjson.dumps(obj))


def apply(app: Any, record: BaseModel, by: System) -> list[UUID]:
    """Record one input through the application as ``by`` (``System.FEED`` from the stream
    worker, ``System.OPERATOR`` from ``gridcore ingest``); returns the alert it belongs to,
    if any.

    Raises the application's GridcoreError (NotFound for an unknown camera or checkpoint,
    InvalidInput for a malformed plate...) with its remedy; nothing is written then."""
    found: UUID | None = None
    if isinstance(record, CameraDetection):
        found = app.record_camera_detection(record.detection_id, record.camera_id, record.at,
                                            record.direction, record.confidence, by=by)
    elif isinstance(record, VehiclePass):
        found = app.record_vehicle_pass(record.pass_id, record.checkpoint_id, record.plate,
                                        record.at, by=by)
    elif isinstance(record, TravelRecord):
        app.record_travel(record.record_id, record.plate, record.place, record.at,
                          by=by)
    elif isinstance(record, RiskAreaDeclared):
        app.declare_risk_area(record.declaration_id, record.area, record.level, record.start,
                              record.until, by=by)
    elif isinstance(record, RiskAreaLifted):
        app.lift_risk_area(record.declaration_id, record.area, record.at, by=by)
    else:
        raise InputRejected(f"{type(record).__name__} is not an alert input.")
    return [found] if found is not None else []


def hour_of(at: datetime) -> datetime:
    """The UTC hour a pass is counted in (``count_vehicle_passes``' key)."""
    return hour_start(at)
