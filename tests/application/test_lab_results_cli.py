"""``gridcore testing results FILE --by STAFF_NO`` and ``gridcore testing status SCOPE ROUND``
over the SQLite store: a lab's result file (CSV in UTF-8 with BOM or GB18030, or .xlsx) with a
positive pool puts its households under temporary control and schedules retests; the same
file again records nothing; a file with a bad row, or a tube no campaign knows, records
nothing and names the row; the retests' results open a case and release the cleared
households; the round's status shows it all."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.mass_testing import SamplingSite, TubeResult
from gridcore.mass_testing_commands import SampleRow
from gridcore.status import Measure
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community

NOW = datetime(2020, 2, 25, 0, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=8)
SITES = [SamplingSite(site_id="CY-1", name="社区广场采样点", place=COMMUNITY,
                      capacity_per_hour=60)]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The scenario's community (3 households of 2 in each zone), round 1 launched, zone 1's
    residents pooled in tube T-A and zone 2's in T-B, both sealed; the CLI runs on a clock
    8 hours later."""
    path = tmp_path / "g.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("GRIDCORE_SCENARIO_CLOCK", LATER.isoformat())
    monkeypatch.setenv("COLUMNS", "250")
    clock = Clock()
    clock.now = NOW
    with opened(path, clock=clock) as app:
        c = given_community(app)
        app.launch_testing_campaign(COMMUNITY, 1, SITES, by=c.official)
        cid = app.testing_campaign_of(COMMUNITY, 1).id
        clock.advance(hours=1)
        rows = [SampleRow(hid, rid, "T-A" if n < 3 else "T-B")
                for n, hid in enumerate(c.households) for rid in app.household(hid).residents]
        app.record_samples(cid, rows, by=c.worker)
        for code in ("T-A", "T-B"):
            app.seal_tube(code, by=c.worker)
    return path


@contextmanager
def opened(path: Path, at: datetime = NOW, clock: Clock | None = None
           ) -> Iterator[GridcoreApp]:
    if clock is None:
        clock = Clock()
        clock.now = at
    app = GridcoreApp(sqlite_env(path), clock=clock)
    try:
        yield app
    finally:
        app.close()


def events(path: Path) -> int:
    with opened(path, LATER) as app:
        return app.recorder.max_notification_id() or 0


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def error_rows(out: str) -> dict[int, str]:
    """The error table's rows: row number → its column and reason."""
    rows: dict[int, str] = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0].isdigit():
            rows[int(cells[0])] = " ".join(cells[1:])
    return rows


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    path.write_bytes("\r\n".join(",".join(r) for r in rows).encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def zone_households(app: GridcoreApp, zone: str) -> set[Any]:
    c = app.testing_campaign_of(COMMUNITY, 1)
    return {hid for hid, a in c.assignments.items() if a.micro_grid == zone}


def test_a_positive_pool_puts_its_households_under_control_and_schedules_retests_once(
        store: Path, tmp_path: Path) -> None:
    lab = write_csv(tmp_path / "lab.csv", [["管码", "结果", "检测时间"],
                                            ["T-A", "阳性", "2020-02-25 07:00"],
                                            ["T-B", "阴性", "2020-02-25 07:00"]])
    code, out = run("testing", "results", str(lab), "--by", "DOC1")
    assert code == 0, out
    assert "阴性 negative 1 · 阳性 positive 1" in out
    assert "positive pool T-A" in out and "3 households under temporary control" in out
    assert "6 single-tube retests" in out and "cases opened (病例) 0" in out
    with opened(store, LATER) as app:
        c = app.testing_campaign_of(COMMUNITY, 1)
        zone1 = zone_households(app, ZONES[0])
        assert c.tubes["T-A"].result is TubeResult.POSITIVE
        assert c.tubes["T-B"].result is TubeResult.NEGATIVE
        assert {r.household_id for r in app.retests_due(c.id)} == zone1
        assert {x.household_id for x in c.controls.values()} == zone1
        for hid in zone1:
            assert all(r.measure is Measure.HOME_QUARANTINE
                       for r in app.household(hid).residents.values())
        for hid in zone_households(app, ZONES[1]):
            assert all(r.measure is Measure.NONE and r.last_negative_test is not None
                       for r in app.household(hid).residents.values())

    before = events(store)
    code, out = run("testing", "results", str(lab), "--by", "DOC1")
    assert code == 0, out
    assert "already recorded (已录入过) 2" in out and "retests scheduled (单采单检) 0" in out
    assert events(store) == before

    code, out = run("testing", "status", COMMUNITY, "1")
    assert code == 0, out
    assert "positive pools (阳性混管) 1: T-A" in out and "retests due (待单采单检) 6" in out
    assert "under temporary control (临时管控) 6" in out
    [row] = [line for line in out.splitlines() if ZONES[0] in line]
    assert [c.strip() for c in row.split("│") if c.strip()][1:] == ["3", "6", "6", "0", "100%"]


def test_the_retests_results_open_a_case_and_release_the_cleared_households(
        store: Path, tmp_path: Path) -> None:
    code, out = run("testing", "results", str(write_csv(
        tmp_path / "pool.csv", [["tube_code", "result"], ["T-A", "positive"]])), "--by", "DOC1")
    assert code == 0, out
    with opened(store, LATER) as app:
        cid = app.testing_campaign_of(COMMUNITY, 1).id
        due = sorted(app.retests_due(cid), key=lambda r: (str(r.household_id),
                                                          str(r.resident_id)))
        app.record_samples(cid, [SampleRow(r.household_id, r.resident_id, f"R-{n}")
                                 for n, r in enumerate(due)], by=app.staff_by_no("DOC1").id)
    first = due[0]
    rows: list[list[Any]] = [["试管编号 tube_code", "结果 result", "送检单位"]]
    rows += [[f"R-{n}", "阳" if r == first else "阴", "金域检验"] for n, r in enumerate(due)]
    code, out = run("testing", "results", str(write_xlsx(tmp_path / "retests.xlsx", rows)),
                    "--by", "DOC1")
    assert code == 0, out
    assert "阴性 negative 5 · 阳性 positive 1" in out and "columns skipped" in out
    assert "cases opened (病例) 1: 核酸-R-0" in out
    assert "released from temporary control (解除管控) 4" in out  # two households of two
    with opened(store, LATER) as app:
        c = app.testing_campaign(cid)
        assert c.cases == {first.resident_id: "核酸-R-0"}
        held = {x.household_id for x in c.controls.values() if not x.released}
        assert held == {first.household_id}


def test_a_file_with_bad_rows_records_nothing_and_names_each_row(
        store: Path, tmp_path: Path) -> None:
    lab = write_xlsx(tmp_path / "lab.xlsx", [
        ["管码", "结果"],
        ["T-A", "阴性"],
        ["T-B", "可疑"],
        ["", "阴性"],
        ["T-A", "阳性"]])
    before = events(store)
    code, out = run("testing", "results", str(lab), "--by", "DOC1")
    assert code == 1, out
    errors = error_rows(out)

    def row(n: int) -> str:
        return errors.get(n, "")

    assert "结果 result" in row(3) and "可疑" in row(3) and "阴性 (阴, negative)" in row(3)
    assert "管码 tube_code" in row(4) and "missing" in row(4)
    assert "T-A" in row(5) and "row 2" in row(5)
    assert row(2) == ""
    assert "nothing was recorded" in out
    assert events(store) == before


def test_a_file_without_the_columns_is_refused_at_its_header(
        store: Path, tmp_path: Path) -> None:
    lab = write_csv(tmp_path / "lab.csv", [["编号", "备注"], ["T-A", "阴性"]])
    code, out = run("testing", "results", str(lab), "--by", "DOC1")
    assert code == 1 and "no 管码 tube_code column" in out and "no 结果 result column" in out


def test_an_unknown_tube_refuses_the_whole_file(store: Path, tmp_path: Path) -> None:
    lab = write_csv(tmp_path / "lab.csv", [["管码", "结果"], ["T-A", "阴性"],
                                            ["T-ZZZ", "阴性"]])
    before = events(store)
    code, out = run("testing", "results", str(lab), "--by", "DOC1")
    assert code == 1, out
    assert set(error_rows(out)) == {3}
    assert "管码 tube_code" in error_rows(out)[3]
    assert "No campaign has tube T-ZZZ" in error_rows(out)[3]
    assert events(store) == before
    with opened(store, LATER) as app:
        assert app.testing_campaign_of(COMMUNITY, 1).tubes["T-A"].result is None


def test_a_gb18030_file_is_read(store: Path, tmp_path: Path) -> None:
    lab = write_csv(tmp_path / "lab.csv", [["试管编号", "检测结果", "检测时间"],
                                            ["T-A", "阴", "2020/2/25 7:00"],
                                            ["T-B", "阴性", "2020/2/25 7:00"]],
                    encoding="gb18030")
    assert "试管编号".encode("gb18030") in lab.read_bytes()
    code, out = run("testing", "results", str(lab), "--by", "DOC1")
    assert code == 0, out
    assert "阴性 negative 2" in out and "检测时间 tested_at is not recorded" in out
    with opened(store, LATER) as app:
        c = app.testing_campaign_of(COMMUNITY, 1)
        assert {c.tubes[t].result for t in ("T-A", "T-B")} == {TubeResult.NEGATIVE}


def test_only_medical_staff_record_results(store: Path, tmp_path: Path) -> None:
    lab = write_csv(tmp_path / "lab.csv", [["管码", "结果"], ["T-A", "阴性"]])
    before = events(store)
    for by in ((), ("--by", "GW1")):
        code, out = run("testing", "results", str(lab), *by)
        assert code == 2 and "file refused" in out, out
    code, out = run("testing", "results", str(lab), "--by", "NO-SUCH")
    assert code == 2 and "stopped while recording" not in out, out
    assert events(store) == before


def test_an_unreadable_file_exits_2(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "lab.csv"
    bad.write_bytes(b"")
    code, out = run("testing", "results", str(bad), "--by", "DOC1")
    assert code == 2 and "cannot read the file" in out
    code, out = run("testing", "status", COMMUNITY, "9")
    assert code == 2
