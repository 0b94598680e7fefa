"""``make bench``: run every benchmark and write its table into README.md between markers."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from simulations.benchmarks import projections as projection_bench
from simulations.benchmarks import register

README = Path(__file__).resolve().parents[2] / "README.md"


def write_section(name: str, body: str) -> None:
    text = README.read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        print(f"README has no {start} section; table not written", file=sys.stderr)
        return
    README.write_text(pattern.sub(lambda _: f"{start}\n{body}\n{end}", text), encoding="utf-8")


def bench_register() -> str:
    return register.run(int(os.environ.get("GRIDCORE_BENCH_HOUSEHOLDS", "100000")))[1]


def bench_projections() -> str:
    return projection_bench.run(*projection_bench.sizes())[1]


def bench_streams() -> str:
    """The one-worker table (section ``streams``); then the workers table, written to its
    own section ``streams-scale``."""
    from simulations.benchmarks import streams

    body = streams.run(int(os.environ.get("GRIDCORE_BENCH_STREAM_PASSES", "300000")),
                       batch=int(os.environ.get("GRIDCORE_BENCH_STREAM_BATCH", "5000")),
                       runs=int(os.environ.get("GRIDCORE_BENCH_STREAM_RUNS", "3")))[1]
    scale = bench_streams_scale()
    print(scale)
    write_section("streams-scale", scale)
    return body


def bench_streams_scale() -> str:
    """1 then 2 workers in one consumer group over 4 partitions, the same broker and store."""
    from simulations.benchmarks import streams

    passes = os.environ.get("GRIDCORE_BENCH_STREAM_PASSES", "300000")
    return streams.run_scale(
        int(os.environ.get("GRIDCORE_BENCH_STREAM_SCALE_PASSES", passes)),
        batch=int(os.environ.get("GRIDCORE_BENCH_STREAM_BATCH", "5000")))[1]


def bench_api() -> str:
    from simulations.benchmarks import api

    return api.run(int(os.environ.get("GRIDCORE_BENCH_API_HOUSEHOLDS", "1000000")))[1]


def bench_wuhan() -> str:
    from simulations.benchmarks import wuhan

    return wuhan.main_table()


def bench_spatial() -> str:
    from simulations.benchmarks import spatial

    return spatial.run(*spatial.settings())[1]


def bench_exports() -> str:
    from simulations.benchmarks import exports

    return exports.run(exports.size(), exports.with_xlsx())[1]


BENCHMARKS = {"register": bench_register, "projections": bench_projections,
              "streams": bench_streams, "streams-scale": bench_streams_scale,
              "api": bench_api, "wuhan": bench_wuhan, "spatial": bench_spatial,
              "exports": bench_exports}


def main(names: list[str]) -> None:
    """Run the named benchmarks (all when none is named), each writing its README table."""
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        sys.exit(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    # streams-scale runs within streams as well: on its own only when named
    for name in names or [n for n in BENCHMARKS if n != "streams-scale"]:
        body = BENCHMARKS[name]()
        print(body)
        write_section(name, body)


if __name__ == "__main__":
    main(sys.argv[1:])
