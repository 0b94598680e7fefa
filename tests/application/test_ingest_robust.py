"""``gridcore ingest`` never stops on a line: whatever a line holds (a ``type`` that is a list
or an object, a JSON array, a time whose UTC value overflows, a time ten years ahead or before
the epidemic, no time zone, a byte order mark before the first line), it is reported with its
line number and reason, and every other line is applied in the order the README promises
(travel records and risk areas first, in file order, then the passes)."""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from adapters.cli import cli
from gridcore.alerts import Alert, alert_id_for
from gridcore.vehicle import PassTally, PlateTravel, hour_start
from tests.application.test_ingest_cli import T, iso, last, store, stored  # noqa: F401 (store: fixture)

OVERFLOW = "9999-12-31T23:59:59-14:00"
UNDERFLOW = "0001-01-01T00:00:00+14:00"


def write(path: Path, rows: list[Any], bom: bool = False) -> Path:
    text = "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)
                     for r in rows) + "\n"
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8"))
    return path


def rejected(output: str) -> dict[int, str]:
    """Line number -> reason, from the report's table (wrapped reasons joined)."""
    out: dict[int, str] = {}
    current = None
    for line in output.splitlines():
        m = re.match(r"^│\s*(\d*)\s*│(.*)│?$", line)
        if not m:
            continue
        if m.group(1):
            current = int(m.group(1))
            out[current] = m.group(2)
        elif current is not None:
            out[current] += " " + m.group(2)
    return {n: " ".join(r.replace("│", " ").split()) for n, r in out.items()}


def test_a_vehicles_file_with_every_kind_of_bad_line_is_applied_around_them(
        store: Path, tmp_path: Path) -> None:  # noqa: F811
    def p(n: int, minutes: int, plate: str, at: str | None = None) -> dict[str, Any]:
        return {"type": "pass", "pass_id": f"P-{n}", "checkpoint_id": "KK-1", "plate": plate,
                "at": at or iso(T + timedelta(minutes=minutes))}

    rows: list[Any] = [
        {"type": "travel", "record_id": "T-1", "plate": "浙A77777",      # 1 (after a BOM)
         "place": "武汉市江岸区", "at": iso(T - timedelta(days=3))},
        p(1, 5, "浙A77777"),                                              # 2 alerts (T-1, R-1)
        {**p(2, 6, "浙A10002"), "type": ["pass"]},                        # 3 type a list
        {**p(3, 7, "浙A10003"), "type": {"kind": "pass"}},                # 4 type an object
        p(4, 0, "浙A10004", OVERFLOW),                                    # 5 overflows UTC
        p(5, 0, "浙A10005", UNDERFLOW),                                   # 6 before year 1 UTC
        p(6, 0, "浙A10006", iso(T.replace(year=2030))),                   # 7 ten years ahead
        p(7, 0, "浙A10007", "2020-02-18T09:10:00"),                       # 8 no time zone
        '[{"type": "pass"}]',                                             # 9 an array
        "{not json",                                                      # 10
        {"type": "travel", "record_id": "T-2", "plate": "浙A88888",      # 11 travel overflow
         "place": "武汉市", "at": OVERFLOW},
        {"type": "risk", "declaration_id": "R-9", "area": "孝感市",      # 12 start far past
         "level": "high", "start": "2001-01-01T00:00:00+08:00"},
        {"type": "risk", "declaration_id": "R-1", "area": "武汉市",      # 13: before line 2's
         "level": "high", "start": iso(T - timedelta(days=30))},          # pass is judged
        p(8, 65, "浙A10008"),                                             # 14 good, next hour
    ]
    file = write(tmp_path / "vehicles.jsonl", rows, bom=True)
    result = CliRunner().invoke(cli, ["ingest", "vehicles", str(file)])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    bad = rejected(result.output)
    assert sorted(bad) == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12], result.output
    for n, says in ((3, "The type is a JSON list, not a name. Give type as one of: pass"),
                    (4, "The type is a JSON object, not a name."),
                    (5, "in the future"), (6, "before 2019"), (7, "in the future"),
                    (8, "timezone"), (9, "Not a JSON object"), (10, "Not JSON"),
                    (11, "in the future"), (12, "before 2019")):
        assert says in bad[n], (n, bad[n])
    for n in (5, 6, 7, 11, 12):  # a time refusal says what is accepted
        assert "between 2019-01-01T00:00Z" in bad[n], bad[n]
    # the good lines, travel and risk before the passes: line 2's pass alerts
    assert {e.originator_id for e in stored(store, Alert.Raised)} == {
        alert_id_for("vehicle", "P-1")}
    assert [e.record_id for e in stored(store, PlateTravel.Recorded)] == ["T-1"]
    [tally] = stored(store, PassTally.Counted)
    assert {(c.checkpoint_id, c.hour): c.passes for c in tally.counts} == dict(Counter(
        ("KK-1", hour_start(datetime.fromisoformat(r["at"]))) for r in (rows[1], rows[13])))
    written = last(store)
    again = CliRunner().invoke(cli, ["ingest", "vehicles", str(file)])
    assert again.exit_code == 1 and sorted(rejected(again.output)) == sorted(bad)
    assert last(store) == written


def test_a_cameras_file_with_a_bom_and_impossible_times(store: Path,  # noqa: F811
                                                        tmp_path: Path) -> None:
    def det(n: int, at: str, confidence: float = 0.95) -> dict[str, Any]:
        return {"detection_id": f"D-{n}", "camera_id": "CAM-1", "at": at, "direction": "out",
                "confidence": confidence}

    rows = [det(1, iso(T)),                                 # 1, after a BOM: alerts
            det(2, OVERFLOW), det(3, UNDERFLOW),            # 2, 3
            det(4, iso(T.replace(year=2030))),              # 4: ten years ahead
            det(5, iso(T + timedelta(minutes=10)))]         # 5: a second alert
    file = write(tmp_path / "cameras.jsonl", rows, bom=True)
    result = CliRunner().invoke(cli, ["ingest", "cameras", str(file)])
    assert result.exit_code == 1, result.output
    bad = rejected(result.output)
    assert sorted(bad) == [2, 3, 4]
    assert "detection time 9999-12-31T23:59:59-14:00 is in the future" in bad[2]
    assert "before 2019" in bad[3] and "in the future" in bad[4]
    assert [e.originator_id for e in stored(store, Alert.Raised)] == [
        alert_id_for("camera", "D-1"), alert_id_for("camera", "D-5")]


def test_a_file_of_only_a_bom_and_good_lines_is_clean(store: Path,  # noqa: F811
                                                      tmp_path: Path) -> None:
    file = write(tmp_path / "ok.jsonl", [
        {"detection_id": "D-1", "camera_id": "CAM-1", "at": iso(T), "direction": "in",
         "confidence": 0.2}], bom=True)
    result = CliRunner().invoke(cli, ["ingest", "cameras", str(file)])
    assert result.exit_code == 0, result.output


def test_a_type_that_is_not_a_name_is_named_by_its_json_kind() -> None:
    import pytest

    from adapters import alert_inputs as ai
    from adapters.cli.ingest import vehicle_record

    for given, kind in (("[]", "a JSON list"), ('{"a": 1}', "a JSON object"),
                        ("7", "a JSON number"), ("1.5", "a JSON number"),
                        ("true", "a JSON boolean"), ("null", "JSON null")):
        with pytest.raises(ai.InputRejected) as refused:
            vehicle_record(f'{{"type": {given}}}'.encode())
        assert str(refused.value).startswith(f"The type is {kind}, not a name. Give type as "
                                             "one of: pass, travel"), str(refused.value)
    with pytest.raises(ai.InputRejected, match=r"^Unknown type 'lorry'\. Give type as one of"):
        vehicle_record(b'{"type": "lorry"}')
