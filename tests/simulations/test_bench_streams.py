"""The stream benchmark's floor reads what the worker's benchmark switch writes: with the
store writes switched off, each batch's end, passes and alerts are noted (and nothing is
recorded), and the benchmark's table prints the floor and the target beside the ratio."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from adapters.stream_app import Streams, StreamSettings
from simulations.benchmarks import streams


def test_the_switch_notes_each_batch_and_the_benchmark_reads_it_back(tmp_path: Path) -> None:
    notes = tmp_path / "batches.txt"
    worker = SimpleNamespace(settings=StreamSettings(broker="127.0.0.1:9",
                                                     bench_no_store_writes=str(notes)))
    assert Streams.bench_note(worker, 5000, 12) == []  # type: ignore[arg-type]
    assert Streams.bench_note(worker, 3000, 0) == []  # type: ignore[arg-type]
    got = streams.noted(notes)
    assert [(n, a) for _, n, a in got] == [(5000, 12), (3000, 0)]
    assert got[0][0] <= got[1][0]


def test_no_switch_by_default() -> None:
    assert StreamSettings(broker="127.0.0.1:9").bench_no_store_writes is None


def result(ratio_per_s: float, plain_per_s: float = 100_000.0) -> streams.Result:
    return streams.Result("batch", 10_000, 10_000 / plain_per_s, 9_000 / ratio_per_s, 9_000,
                          1.0, 100, 1000, 10, 0.1)


def test_the_table_prints_the_target_and_the_floor_beside_the_ratio() -> None:
    r = result(10_000.0)
    r.floor = result(30_000.0)
    row = streams.table([r]).splitlines()[2]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[4:8] == ["10.0%", "≥ 25% (not met)",
                          "30,000/s (plain consumer 100,000/s, 100 alerts judged)", "30.0%"]
    met = result(30_000.0)
    assert "≥ 25% (met) |" in streams.table([met]) and "not met" not in streams.table([met])


def test_a_row_of_several_runs_is_their_median_with_their_spread() -> None:
    runs = [result(29_000.0), result(21_000.0), result(27_000.0)]
    chosen = streams.median_run(runs)
    assert chosen is runs[2] and chosen.ratios == [0.29, 0.21, 0.27]
    row = streams.table([chosen]).splitlines()[2]
    assert "| 27.0% (median of 3: 21.0%-29.0%) | ≥ 25% (met) |" in row
    assert streams.median_run([result(20_000.0), result(40_000.0)]).ratio == 0.2  # lower middle
    assert streams.spread(result(1_000.0)) == ""  # one run: no spread
