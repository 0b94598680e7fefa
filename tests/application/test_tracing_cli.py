"""``gridcore tracing cases`` and ``gridcore tracing chain`` over the SQLite store: a confirmed
resident index with a resident close contact, a person outside the register, a secondary
contact, and the close contact opened as a case of their own. Names read as the reader's role
sees them (the operator: all masked; a family doctor: whole, audited; a grid worker: residents
whole, a traced person masked); a case outside the reader's jurisdiction is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.staff import Role
from tests.conftest import Clock
from tests.scenario import ZONES, given_community

NOW = datetime(2020, 2, 21, 2, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "g.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("GRIDCORE_SCENARIO_CLOCK", (NOW + timedelta(hours=1)).isoformat())
    monkeypatch.setenv("GRIDCORE_API_AUDIT_FILE", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("COLUMNS", "250")
    clock = Clock()
    clock.now = NOW
    app = GridcoreApp(sqlite_env(path), clock=clock)
    c = given_community(app)
    app.enrol_staff("GW2", "孙网格", Role.GRID_WORKER, ZONES[1], 40, by=System.OPERATOR)
    home = app.household(c.households[0])
    index, partner = list(home.residents.values())
    app.open_case("WH-0221-01", ZONES[0], "核酸阳性", by=c.doctor, hid=home.id,
                  rid=index.resident_id, confirmed=True)
    case = app.case_by_no("WH-0221-01")
    close = app.record_exposure(case.id, NOW - timedelta(days=1), "household", "家中",
                                "shared_living", by=c.doctor, hid=home.id,
                                rid=partner.resident_id)
    app.record_exposure(case.id, NOW - timedelta(days=2), "gathering", "家宴", "face_to_face",
                        by=c.doctor, name="陈志明", phone="13907150216",
                        address="汉阳区江城大道88号")
    other = app.household(c.households[1])
    workmate = list(other.residents.values())[1]
    app.record_exposure(case.id, NOW - timedelta(hours=30), "workplace", "超市",
                        "face_to_face", by=c.doctor, via=close.person_id, hid=other.id,
                        rid=workmate.resident_id)
    app.open_case("WH-0221-02", ZONES[0], "密接转确诊", by=c.doctor, source_case=case.id,
                  source_person=close.person_id)
    app.close()
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_the_cases_of_a_subtree_with_their_counts(store: Path) -> None:
    code, out = run("tracing", "cases")
    assert code == 0, out
    assert "WH-0221-01" in out and "WH-0221-02" in out
    [row] = [line for line in out.splitlines() if "WH-0221-01" in line]
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[1] == "确诊 confirmed" and cells[2] == ZONES[0]
    assert cells[3] == "2020-02-21 10:00"  # Beijing time
    assert cells[4:7] == ["2", "1", "3"]  # close, secondary, under follow-up
    code, out = run("tracing", "cases", "--by", "GW2")
    assert code == 0 and "WH-0221-01" not in out and "no cases" in out
    code, out = run("tracing", "cases", "--scope", ZONES[0], "--by", "GW2")
    assert code == 2 and "outside your jurisdiction" in out


def test_the_chain_as_a_tree_with_names_masked_by_role(store: Path, tmp_path: Path) -> None:
    code, out = run("tracing", "chain", "WH-0221-01")
    assert code == 0, out
    lines = out.splitlines()
    assert "generation +0 case WH-0221-01" in out and "generation +1 case WH-0221-02" in out
    assert "张三" not in out and "李四" not in out and "陈志明" not in out
    assert any("密接 generation +1: 李* " in line and "→ case WH-0221-02" in line
               for line in lines)
    assert any("密接 generation +1: 陈** " in line and "待落地排查 to be located" in line
               for line in lines)
    secondary = [i for i, line in enumerate(lines) if "次密接 generation +2: 李*" in line]
    assert secondary and "李*" in lines[secondary[0] - 1]  # under the close contact it came via
    audit = tmp_path / "audit.jsonl"
    assert not audit.exists()  # nothing whole was shown

    code, out = run("tracing", "chain", "WH-0221-01", "--by", "DOC1")
    assert code == 0 and "index 指示病例 张三" in out and "陈志明" in out and "李四" in out
    fields = {json.loads(line)["field"] for line in audit.read_text().splitlines()}
    assert fields == {"Resident.name", "TracedPerson.name"}

    code, out = run("tracing", "chain", "WH-0221-01", "--by", "GW1")
    assert code == 0 and "张三" in out and "陈** " in out and "陈志明" not in out

    code, out = run("tracing", "chain", "WH-0221-01", "--by", "GW2")
    assert code == 2 and "outside your jurisdiction" in out
    code, out = run("tracing", "chain", "NO-SUCH")
    assert code == 2 and "No case numbered NO-SUCH" in out
