"""``gridcore notices print``: 居家隔离告知书 in bulk over the SQLite store of the 712 community
(tests.scenario): three residents under home quarantine, one under home observation, one
quarantined outside the scope. The bundle has one page per resident under the measure in the
scope and none for others; the text read back from the PDF (pypdf) carries the resident's name,
the address, the measure and the until-date in Chinese (the packaged font embeds and maps the
glyphs); a role that may not see names is refused and nothing is written nor audited; the
audit log has one name and one address line per notice; the ZIP holds one PDF per household."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from adapters.cli import cli
from adapters.settings import sqlite_env
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.status import Measure
from tests.conftest import Clock
from tests.scenario import COMMUNITY, ZONES, given_community

NOW = datetime(2020, 2, 21, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    path = tmp_path / "g.sqlite"
    monkeypatch.setenv("GRIDCORE_STORE", "sqlite")
    monkeypatch.setenv("GRIDCORE_SQLITE_PATH", str(path))
    monkeypatch.setenv("GRIDCORE_SCENARIO_CLOCK", (NOW + timedelta(hours=1)).isoformat())
    monkeypatch.setenv("GRIDCORE_API_AUDIT_FILE", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("COLUMNS", "200")
    clock = Clock()
    clock.now = NOW
    app = GridcoreApp(sqlite_env(path), clock=clock)
    c = given_community(app)
    app.assign_responsible_worker(ZONES[0], c.worker, by=System.OPERATOR)
    h0, h1, h2, h4 = (app.household(c.households[i]) for i in (0, 1, 2, 4))
    quarantined = []
    for h, index in ((h0, 0), (h0, 1), (h1, 1)):
        rid = list(h.residents)[index]
        app.change_measure(h.id, rid, Measure.HOME_QUARANTINE, by=c.doctor, reason="密接")
        quarantined.append((h.id, rid))
    observed = next(iter(h2.residents))
    app.change_measure(h2.id, observed, Measure.HOME_OBSERVATION, by=c.doctor, reason="返汉")
    # the other zone: quarantined too, outside the scope ZONES[0]
    app.change_measure(h4.id, next(iter(h4.residents)), Measure.HOME_QUARANTINE, by=c.doctor,
                       reason="密接")
    app.close()
    return {"tmp": tmp_path, "quarantined": quarantined, "observed": observed,
            "addresses": {h0.id: h0.address.text, h1.id: h1.address.text}}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def flat(text: str) -> str:
    """The text without whitespace and NULs: pypdf reads fpdf2's embedded CFF font's
    two-byte codes a byte at a time (the ToUnicode map sends code 0 to U+0000), so each glyph
    comes with a NUL; the glyphs themselves map to the right characters."""
    return re.sub(r"[\s\x00]+", "", text)


def audit(tmp: Path) -> list[dict[str, str]]:
    f = tmp / "audit.jsonl"
    return [json.loads(line) for line in f.read_text().splitlines()] if f.exists() else []


def test_a_bundle_has_a_page_per_resident_under_the_measure(world: dict) -> None:
    tmp: Path = world["tmp"]
    out = tmp / "notices.pdf"
    code, output = run("notices", "print", ZONES[0], "--by", "GW1", "--out", str(out))
    assert code == 0, output
    assert "residents 居民 3" in output and "households 户 2" in output
    pages = [flat(p.extract_text()) for p in PdfReader(out).pages]
    assert len(pages) == 3  # not the observed resident, not the other zone's
    until = (NOW + timedelta(days=14)).astimezone(UTC)  # the default policy: 14 days
    for (hid, _rid), page in zip(sorted(world["quarantined"], key=lambda q: (
            str(q[0]) != str(world["quarantined"][0][0]), str(q[1]))), pages, strict=False):
        assert page.startswith("居家隔离告知书")
        assert "张三：" in page or "李四：" in page
        assert flat(world["addresses"][hid]) in page
        assert "您须接受居家隔离" in page and "足不出户" in page
        assert f"至{until.year}年{until.month}月" in page
        assert "每日两次测温上报（08:00、20:00）" in page
        assert "联系人：王芳" in page and "13900001111" in page
        assert "712社区居民委员会（盖章）" in page
    entries = audit(tmp)
    assert sorted(e["subject"] for e in entries if e["field"] == "Resident.name") == sorted(
        str(rid) for _, rid in world["quarantined"])
    assert len([e for e in entries if e["field"] == "Household.address"]) == 3
    assert {e["reader"] for e in entries} == {entries[0]["reader"]}
    assert {e["role"] for e in entries} == {"grid_worker"}


def test_observation_notices_for_the_community(world: dict) -> None:
    tmp: Path = world["tmp"]
    out = tmp / "obs.pdf"
    code, output = run("notices", "print", COMMUNITY, "--by", "DOC1", "--measure",
                       "home_observation", "--out", str(out))
    assert code == 0, output
    [page] = [flat(p.extract_text()) for p in PdfReader(out).pages]
    assert page.startswith("居家观察告知书") and "您须接受居家观察" in page
    assert "足不出户" not in page


def test_a_role_that_may_not_see_names_is_refused(world: dict) -> None:
    tmp: Path = world["tmp"]
    out, zipped = tmp / "n.pdf", tmp / "n.zip"
    code, output = run("notices", "print", ZONES[0], "--by", "VOL1", "--out", str(out),
                       "--per-household", str(zipped))
    assert code == 2
    assert "may not print notices" in output and "grid_worker" in output
    assert not out.exists() and not zipped.exists()
    assert list(tmp.glob("*.part")) == [] and audit(tmp) == []


def test_refused_outside_the_jurisdiction_or_for_a_measure_without_notice(world: dict) -> None:
    tmp: Path = world["tmp"]
    code, output = run("notices", "print", "420102", "--by", "GW1", "--out", str(tmp / "x.pdf"))
    assert code == 2 and "outside your jurisdiction" in output
    code, output = run("notices", "print", ZONES[0], "--by", "GW1", "--measure", "hospitalized",
                       "--out", str(tmp / "x.pdf"))
    assert code == 2 and "home_quarantine" in output
    assert not (tmp / "x.pdf").exists() and audit(tmp) == []


def test_one_pdf_per_household_in_a_zip(world: dict) -> None:
    tmp: Path = world["tmp"]
    zipped = tmp / "households.zip"
    code, output = run("notices", "print", COMMUNITY, "--by", "OFF1", "--per-household",
                       str(zipped))
    assert code == 0, output
    with zipfile.ZipFile(zipped) as z:
        names = sorted(z.namelist())
        assert names == ["712-1-0.pdf", "712-1-1.pdf", "712-2-1.pdf"]
        counts = {n: len(PdfReader(io.BytesIO(z.read(n))).pages) for n in names}
    assert counts == {"712-1-0.pdf": 2, "712-1-1.pdf": 1, "712-2-1.pdf": 1}
    entries = audit(tmp)
    assert len([e for e in entries if e["field"] == "Resident.name"]) == 4
    assert len([e for e in entries if e["field"] == "Household.householdNo"]) == 3


def test_nothing_to_print_writes_nothing(world: dict) -> None:
    tmp: Path = world["tmp"]
    out = tmp / "none.pdf"
    code, output = run("notices", "print", ZONES[1], "--by", "GW1", "--measure",
                       "home_observation", "--out", str(out))
    assert code == 0 and "nothing written" in output
    assert not out.exists()
