"""``gridcore ingest cameras FILE`` and ``gridcore ingest vehicles FILE``: the alert rules run
in process, without a broker, fed by JSON-lines files (one JSON object per line).

- ``cameras``: each line is a camera detection, exactly the stream's record:
  ``{"detection_id", "camera_id", "at", "direction": "in"|"out", "confidence": 0..1}``.
- ``vehicles``: each line has a ``"type"`` and otherwise the stream's record of that type:
  ``"pass"`` (the default when ``type`` is missing): ``pass_id, checkpoint_id, plate, at``;
  ``"travel"``: ``record_id, plate, place, at``; ``"risk"``: ``declaration_id, area, level,
  start, until?``; ``"lift"``: ``declaration_id, area, at``. Travel records and risk
  declarations and lifts are applied first (in file order), then the passes, so the order of
  the lines does not matter: the rules compare times.

A bad line (not JSON, a missing or malformed field, a ``type`` that is not one of the names,
a time outside the policy's window, an unknown camera or checkpoint, a bad plate) is reported
with its line number and the reason, and the good lines are applied: no line, whatever it
holds, stops the file half applied. A UTF-8 byte order mark before the first line (as some
editors on Windows write) is not part of the line. Every
input is applied once by its own id, so ingesting a file again writes nothing. Every accepted
pass, alerting or not, is counted per checkpoint and UTC hour through
``count_vehicle_passes`` with a source key derived from the file's pass ids (the same passes
again add nothing). Exit codes: 0 all lines applied, 1 some lines rejected, 2 unreadable file.
"""

from __future__ import annotations

import codecs
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters import alert_inputs as ai
from gridcore.alerts import alert_id_for
from gridcore.authority import System
from gridcore.errors import GridcoreError

ingest_cli = typer.Typer(help="Feed camera and vehicle records from files (导入告警数据).",
                         no_args_is_help=True)

EXIT_OK, EXIT_BAD_LINES, EXIT_UNREADABLE = 0, 1, 2
VEHICLE_TYPES: dict[str, ai.Kind] = {"pass": "vehicle", "travel": "travel", "risk": "risk",
                                     "lift": "risk"}
VEHICLE_MODELS: dict[str, type[BaseModel]] = {
    "pass": ai.VehiclePass, "travel": ai.TravelRecord, "risk": ai.RiskAreaDeclared,
    "lift": ai.RiskAreaLifted}


@dataclass
class Outcome:
    """What an ingest did: lines applied by kind, rejected lines, alerts, counted passes."""

    lines: int = 0
    applied: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    alerts: set[Any] = field(default_factory=set)
    new_alerts: set[Any] = field(default_factory=set)
    without_alert: int = 0
    passes: Counter[tuple[str, datetime]] = field(default_factory=Counter)
    pass_ids: list[str] = field(default_factory=list)
    counted: bool = False


@ingest_cli.callback()
def ingest_root() -> None:
    """Feed camera and vehicle records from files (导入告警数据)."""


def read_lines(path: Path) -> list[tuple[int, bytes]]:
    """The file's non-blank lines with their numbers, a byte order mark dropped."""
    out = []
    with path.open("rb") as f:
        for n, line in enumerate(f, start=1):
            if n == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8):]
            if line.strip():
                out.append((n, line.strip()))
    return out


def unexpected(e: Exception) -> str:
    """The reason for a line that failed in a way no check foresaw: the line is reported
    and the file goes on (a crash here would leave the file half applied, with no report)."""
    return (f"Could not be applied ({type(e).__name__}: {str(e)[:200]}). Check the line's "
            f"values; nothing of this line was written.")


def _decode(line: bytes) -> Any:
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as e:
        raise ai.InputRejected(f"Not JSON ({e}). Write one JSON object per line.") from None


def _json_kind(value: Any) -> str:
    """What a decoded JSON value is, in JSON's own words (a list, not a Python ``list``)."""
    if isinstance(value, bool):
        return "a JSON boolean"
    if value is None:
        return "JSON null"
    if isinstance(value, int | float):
        return "a JSON number"
    return "a JSON object" if isinstance(value, dict) else "a JSON list"


def vehicle_record(line: bytes) -> tuple[str, BaseModel]:
    """A line of a vehicles file: its type and record."""
    obj = _decode(line)
    if not isinstance(obj, dict):
        raise ai.InputRejected("Not a JSON object. Write one JSON object per line.")
    kind = obj.pop("type", "pass")
    if not isinstance(kind, str) or kind not in VEHICLE_MODELS:
        said = (f"Unknown type {repr(kind)[:60]}." if isinstance(kind, str) else
                f"The type is {_json_kind(kind)}, not a name.")
        raise ai.InputRejected(f"{said} Give type as one of: "
                               f"{', '.join(VEHICLE_MODELS)} (pass when left out).")
    record = ai.validate(VEHICLE_TYPES[kind], obj)
    if not isinstance(record, VEHICLE_MODELS[kind]):
        raise ai.InputRejected(f"A {kind} line needs the fields of {kind}, e.g. "
                               f"{ai.EXAMPLES[VEHICLE_TYPES[kind]]}.")
    return kind, record


def _apply(app: Any, out: Outcome, n: int, kind: str, record: BaseModel) -> list[Any]:
    before = app.recorder.max_notification_id()
    try:
        found = ai.apply(app, record, System.OPERATOR)
    except (GridcoreError, ai.InputRejected) as e:
        out.rejected.append((n, str(e)))
        return []
    except Exception as e:  # never stop the file on one line
        out.rejected.append((n, unexpected(e)))
        return []
    out.applied[kind] += 1
    wrote = app.recorder.max_notification_id() != before
    own = {"camera": ("camera", "detection_id"), "pass": ("vehicle", "pass_id")}.get(kind)
    for aid in found:
        out.alerts.add(aid)
        if wrote and own and aid == alert_id_for(own[0], getattr(record, own[1])):
            out.new_alerts.add(aid)
    if own and not found:
        out.without_alert += 1
    return found


def ingest_cameras(app: Any, path: Path) -> Outcome:
    out = Outcome()
    for n, line in read_lines(path):
        out.lines += 1
        try:
            record = ai.parse("camera", line)
        except ai.InputRejected as e:
            out.rejected.append((n, e.reason))
            continue
        except Exception as e:  # never stop the file on one line
            out.rejected.append((n, unexpected(e)))
            continue
        _apply(app, out, n, "camera", record)
    return out


def ingest_vehicles(app: Any, path: Path) -> Outcome:
    out = Outcome()
    passes: list[tuple[int, ai.VehiclePass]] = []
    for n, line in read_lines(path):
        out.lines += 1
        try:
            kind, record = vehicle_record(line)
        except ai.InputRejected as e:
            out.rejected.append((n, e.reason))
            continue
        except Exception as e:  # never stop the file on one line
            out.rejected.append((n, unexpected(e)))
            continue
        if isinstance(record, ai.VehiclePass):
            passes.append((n, record))
        else:
            _apply(app, out, n, kind, record)
    for n, p in passes:
        rejected = len(out.rejected)
        _apply(app, out, n, "pass", p)
        if len(out.rejected) == rejected:  # accepted by the application: its time is sane
            out.passes[(p.checkpoint_id, ai.hour_of(p.at))] += 1
            out.pass_ids.append(p.pass_id)
    if out.passes:
        digest = hashlib.sha256("\n".join(sorted(out.pass_ids)).encode()).hexdigest()
        try:
            out.counted = app.count_vehicle_passes(dict(out.passes),
                                                   f"ingest:{digest}",
                                                   by=System.OPERATOR) is not None
        except Exception as e:  # the passes are applied; only their hourly counts are not
            out.rejected.append((0, f"The passes per checkpoint and hour were not counted "
                                    f"({e}). Ingest the file again to count them."))
    out.rejected.sort(key=lambda r: r[0])
    return out


def report(console: Console, path: Path, out: Outcome, limit: int) -> None:
    if out.rejected:
        table = Table(title=f"错误 rejected lines of {escape(path.name)}", title_justify="left")
        table.add_column("行 line", justify="right", no_wrap=True)
        table.add_column("原因 reason (what was wrong, what would be right)", overflow="fold")
        for n, reason in out.rejected[:limit]:
            table.add_row(str(n) if n else "-", escape(reason))
        console.print(table)
        if len(out.rejected) > limit:
            console.print(f"… {len(out.rejected) - limit} more not shown (--max-errors).")
    table = Table(title=f"导入 ingested {escape(path.name)}", title_justify="left",
                  show_header=False)
    table.add_column("", no_wrap=True)
    table.add_column("", justify="right")
    table.add_row("lines (行)", str(out.lines))
    for kind, n in sorted(out.applied.items()):
        table.add_row(f"applied: {kind} (已处理)", str(n))
    table.add_row("rejected (错误)", str(len(out.rejected)))
    table.add_row("alerts (告警)", str(len(out.alerts)))
    table.add_row("newly raised (新告警)", str(len(out.new_alerts)))
    table.add_row("no alert (未告警)", str(out.without_alert))
    if out.passes:
        state = "counted (已计数)" if out.counted else "already counted (已计过)"
        table.add_row(f"passes {state}", f"{sum(out.passes.values())} in "
                                         f"{len(out.passes)} checkpoint-hours")
    console.print(table)


def _run(which: str, file: Path, max_errors: int) -> None:
    from adapters.bootstrap import bootstrap

    console = Console()
    try:
        read_lines(file)
    except OSError as e:
        console.print(f"[bold red]✗ cannot read {escape(str(file))} (无法读取):[/] "
                      f"{escape(e.strerror or str(e))}")
        raise typer.Exit(EXIT_UNREADABLE) from None
    app = bootstrap().app
    try:
        out = (ingest_cameras if which == "cameras" else ingest_vehicles)(app, file)
    finally:
        app.close()
    report(console, file, out, max_errors)
    raise typer.Exit(EXIT_BAD_LINES if out.rejected else EXIT_OK)


@ingest_cli.command("cameras")
def cameras(
    file: Annotated[Path, typer.Argument(help="JSON lines, one camera detection a line.")],
    max_errors: Annotated[int, typer.Option("--max-errors", min=1,
                                            help="Show at most this many bad lines.")] = 200,
) -> None:
    """Camera detections (门禁摄像头): alerts at quarantined doors."""
    _run("cameras", file, max_errors)


@ingest_cli.command("vehicles")
def vehicles(
    file: Annotated[Path, typer.Argument(
        help="JSON lines with a type: pass (default), travel, risk or lift.")],
    max_errors: Annotated[int, typer.Option("--max-errors", min=1,
                                            help="Show at most this many bad lines.")] = 200,
) -> None:
    """Vehicle passes at checkpoints (卡口), travel records and risk areas (车辆疫查)."""
    _run("vehicles", file, max_errors)
