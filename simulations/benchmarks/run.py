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


def main() -> None:
    households = int(os.environ.get("GRIDCORE_BENCH_HOUSEHOLDS", "100000"))
    _, body = register.run(households)
    print(body)
    write_section("register", body)
    events, pg_events = projection_bench.sizes()
    _, body = projection_bench.run(events, pg_events)
    print(body)
    write_section("projections", body)


if __name__ == "__main__":
    main()
