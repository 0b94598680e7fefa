"""The exports benchmark at 2,000 households: the export lists every household the raw
SELECT reads, once, with the household number whole for an official and masked for an
enterprise specialist (its speed is measured by ``make bench BENCH=exports``, never here)."""

from __future__ import annotations

import csv
import io
import uuid
from pathlib import Path

import pytest

from graphql_api.auth import Caller
from graphql_api.exports import ask_of, export
from graphql_api.privacy import AuditLog
from gridcore.staff import Role
from simulations.benchmarks import exports as bench


def test_the_export_lists_every_household_once_masked_by_role(tmp_path: Path) -> None:
    path = tmp_path / "views.sqlite"
    residents = bench.fill(path, 2_000)
    rows, _ = bench.raw_select(path)
    assert rows == 2_000
    views = bench.SQLiteRead(path)
    audit = AuditLog(tmp_path / "audit.jsonl")
    out = {}
    for role in (Role.OFFICIAL, Role.ENTERPRISE_SPECIALIST):
        f = io.BytesIO()
        n = export(bench._Office(), views, Caller(uuid.uuid4(), role, (bench.CITY,)), audit,
                   ask_of("households", (bench.CITY,), {}), "csv", f)
        lines = list(csv.reader(io.StringIO(f.getvalue().decode("utf-8-sig"))))[1:]
        assert n == len(lines) == 2_000
        assert len({r[0] for r in lines}) == 2_000
        assert sum(int(r[4]) for r in lines) == residents
        out[role] = lines
    assert all(r[1] != "****" for r in out[Role.OFFICIAL])
    assert all(r[1] == "****" for r in out[Role.ENTERPRISE_SPECIALIST])
    logged = audit.entries()
    assert [(e["field"], e["count"]) for e in logged] == [("Household.householdNo", 2_000)]


def test_packed_counts_agree_with_the_decoded_residents(tmp_path: Path) -> None:
    import orjson

    from projections.line_lists import packed_counts

    path = tmp_path / "views.sqlite"
    bench.fill(path, 300)
    for (packed,) in bench.SQLiteRead(path).query("SELECT residents FROM gr_households"):
        rs = list(orjson.loads(packed).values())
        health, measure = [r[0] for r in rs], [r[1] for r in rs]
        assert packed_counts(packed) == (
            len(rs), health.count("confirmed"), health.count("suspected"),
            health.count("symptomatic"), len(rs) - measure.count("none"),
            measure.count("home_quarantine"), measure.count("centralized_quarantine"))


def test_a_page_of_columns_is_written_as_csv_writer_writes_it() -> None:
    from graphql_api.exports import ColumnPage, safe_column

    page = ColumnPage([["a1", "b2"], ["712-1-0", "713-1-1"], [3, 0]])
    out = io.StringIO()
    csv.writer(out).writerows(page)
    assert page.csv_text() == out.getvalue() and len(page) == 2
    for awkward in (["x,y", "z"], ['say "hi"', "z"], ["two\nlines", "z"], [None, "z"]):
        assert ColumnPage([awkward, [1, 2]]).csv_text() is None  # writerows writes it
    assert safe_column(["712-1-0", None]) == ["712-1-0", None]
    assert safe_column(["712-1-0", "=1+2", "-3"]) == ["712-1-0", "'=1+2", "-3"]


def test_the_xlsx_step_is_skipped_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDCORE_BENCH_EXPORT_XLSX", raising=False)
    assert bench.with_xlsx()
    monkeypatch.setenv("GRIDCORE_BENCH_EXPORT_XLSX", "0")
    assert not bench.with_xlsx()
