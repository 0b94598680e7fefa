"""The city-scale stress mode (压力测试): the whole stack at a chosen size, under load.

One process puts together what ``gridcore serve`` runs: the application writing (the city
generator registering every household, then every community's sweep recording one visit per
household in batches), the projections runner following the log in its own thread (as the
server keeps its read models), and the GraphQL API under uvicorn on a loopback port, asked by
a city official's token for the city's rollup again and again while the writes go on.

Sampled over time: events written (the log's last notification id) and the position of the
slowest read model, so the projection lag (events written but not yet in every read model);
and each API request's latency, status and the households the API could see. After the
writes the run waits until the lag is 0 (the read models caught up). The report gives events/s
written, the lag over time, and the API latency under load; ``lag.csv``, ``api.csv`` and
``stress.png`` go into the output folder.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from adapters.bootstrap import bootstrap
from adapters.settings import scratch_schema, sqlite_env
from adapters.spreadsheet import csv_writer
from gridcore.authority import System
from gridcore.staff import Role
from simulations.city import build_city
from simulations.citywide import city_spec, sweep_city
from simulations.sweep import SimClock

CITY_QUERY = ("query($code: String!) { gridNode(code: $code) { rollup { households residents } } "
              "}")
PG_DSN = os.environ.get("GRIDCORE_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


@dataclass(frozen=True)
class Sample:
    at: float  # seconds since the writes started
    written: int  # the log's last notification id
    projected: int  # the slowest read model's position

    @property
    def lag(self) -> int:
        return max(0, self.written - self.projected)


@dataclass(frozen=True)
class Request:
    at: float
    ms: float
    status: int  # HTTP status, 0 when the request failed outright
    households: int | None  # what the API's city rollup showed (None: no answer, errors)

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.households is not None


@dataclass
class StressReport:
    households: int
    store: str
    events: int  # events in the store at the end
    events_before: int  # events written before the timed writes (the city's root, a token)
    write_seconds: float
    catch_up_seconds: float  # after the writes, until the lag was 0
    phases: dict[str, float]
    samples: list[Sample]
    requests: list[Request]
    files: list[Path] = field(default_factory=list)

    @property
    def written(self) -> int:
        return self.events - self.events_before

    @property
    def events_per_s(self) -> float:
        return self.written / self.write_seconds if self.write_seconds else 0.0

    @property
    def max_lag(self) -> int:
        return max((s.lag for s in self.samples), default=0)

    @property
    def final_lag(self) -> int:
        return self.samples[-1].lag if self.samples else -1

    def latencies(self, during_writes: bool = True) -> list[float]:
        return [r.ms for r in self.requests if r.ok
                and (not during_writes or r.at <= self.write_seconds)]

    def percentile(self, q: float) -> float:
        ms = sorted(self.latencies())
        if not ms:
            return float("nan")
        return ms[min(len(ms) - 1, round(q * (len(ms) - 1)))]

    @property
    def answered(self) -> int:
        return sum(1 for r in self.requests if r.ok)

    @property
    def failed(self) -> int:
        return sum(1 for r in self.requests if not r.ok)


class _Sampler:
    """Calls ``sample()`` every ``every`` seconds in a thread until stopped."""

    def __init__(self, sample: Callable[[], None], every: float) -> None:
        self.sample, self.every = sample, every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="stress-sampler")

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@contextmanager
def _store(store: str, sqlite_path: Path | None = None) -> Iterator[dict[str, str]]:
    """A fresh store: a temporary SQLite file (or a new one at ``sqlite_path``, kept), or a
    PostgreSQL schema dropped afterwards."""
    if store == "sqlite" and sqlite_path is not None:
        if sqlite_path.exists():
            raise FileExistsError(f"{sqlite_path} exists; the stress run needs a fresh store")
        yield sqlite_env(sqlite_path)
        return
    if store == "sqlite":
        with tempfile.TemporaryDirectory(prefix="gridcore-stress-") as tmp:
            yield sqlite_env(Path(tmp) / "stress.sqlite")
        return
    with scratch_schema(PG_DSN, "stress") as (_, env):
        yield env


def run_stress(households: int, out: Path, store: str = "sqlite", sample_every: float = 0.1,
               catch_up_timeout: float = 3600.0, sqlite_path: Path | None = None,
               say: Callable[[str], None] = lambda _: None) -> StressReport:
    """Write a city of about ``households`` households and sweep it, with the read models
    following and the API answering; return the report and write its files into ``out``.
    The store is fresh and temporary, unless ``sqlite_path`` names a new file to keep."""
    from graphql_api.app import create_app
    from graphql_api.auth import issue_token
    from graphql_api.serving import running
    from graphql_api.settings import ApiSettings, Mode
    from projections import all_projections
    from projections.runner import Runner

    if store not in ("sqlite", "postgres"):
        raise ValueError(f"stress runs on sqlite or postgres, not {store!r}")
    spec = city_spec(households)
    out.mkdir(parents=True, exist_ok=True)
    with _store(store, sqlite_path) as env:
        clock = SimClock()
        writer = bootstrap(env, clock=clock).app
        server_app = bootstrap(env).app  # the server's own application, as `gridcore serve`
        # The city's root (the generator's own client id: it skips it) and an official of it.
        writer.establish_city(spec.city_code, spec.city_name,
                              client_id=f"city:{spec.city_code}:{spec.seed}:{spec.city_code}",
                              by=System.OPERATOR)
        writer.enrol_staff(f"{spec.city_code}-STRESS-OF", "压力测试市级官员", Role.OFFICIAL,
                           spec.city_code, daily_capacity=0, by=System.OPERATOR)
        official = writer.staff_by_no(f"{spec.city_code}-STRESS-OF")
        settings = ApiSettings(mode=Mode.DEVELOPMENT, secret=uuid.uuid4().hex,
                               audit_file=str(out / "api-audit.jsonl"))
        token = issue_token(settings.secret, official.id, 12)
        runner = Runner(server_app, all_projections())
        samples: list[Sample] = []
        requests: list[Request] = []
        before = writer.recorder.max_notification_id() or 0
        t0 = time.perf_counter()

        sampling = threading.Lock()

        def sample() -> None:
            # positions first: read the other way round, writes between the two reads could
            # make the read models look ahead of the log; one sample at a time (the timer's
            # and the writer's), so the samples stay in the order they were read
            with sampling:
                projected = min(runner.views.position(p) for p in runner.projections.values())
                written = server_app.recorder.max_notification_id() or 0
                samples.append(Sample(time.perf_counter() - t0, written, projected))

        try:
            runner.start()
            with running(create_app(server_app, runner, settings)) as base, \
                    httpx.Client(base_url=base, timeout=30.0,
                                 headers={"Authorization": f"Bearer {token}"}) as http:

                def ask() -> None:
                    started = time.perf_counter()
                    try:
                        r = http.post("/graphql", json={"query": CITY_QUERY,
                                                        "variables": {"code": spec.city_code}})
                        status = r.status_code
                        node = (r.json().get("data") or {}).get("gridNode") if status == 200 \
                            else None
                        seen = node["rollup"]["households"] if node else None
                    except httpx.HTTPError:
                        status, seen = 0, None
                    requests.append(Request(started - t0,
                                            (time.perf_counter() - started) * 1000, status,
                                            seen))

                t0 = time.perf_counter()
                with _Sampler(sample, sample_every), _Sampler(ask, sample_every):
                    phases: dict[str, float] = {}
                    started = time.perf_counter()
                    # also sampled after each batch written: the samples follow the writes,
                    # however fast the machine runs them
                    build_city(writer, spec, on_batch=lambda _: sample())
                    phases["generate"] = time.perf_counter() - started
                    say(f"generated {spec.total_households:,} households in "
                        f"{phases['generate']:.1f} s")
                    started = time.perf_counter()
                    sweep_city(writer, clock, spec, on_batch=lambda _: sample())
                    phases["sweep"] = time.perf_counter() - started
                    write_seconds = time.perf_counter() - t0
                    say(f"swept in {phases['sweep']:.1f} s; waiting for the read models")
                    last = writer.recorder.max_notification_id() or 0
                    runner.wait(last, timeout=catch_up_timeout)
                    catch_up = time.perf_counter() - t0 - write_seconds
                sample()  # the end: written and projected after the catch-up
                ask()
        finally:
            runner.stop()
            events = writer.recorder.max_notification_id() or 0
            writer.close()
            server_app.close()
    report = StressReport(spec.total_households, store, events, before, write_seconds,
                          catch_up, phases, samples, requests)
    report.files = write_files(report, out)
    return report


def write_files(report: StressReport, out: Path) -> list[Path]:
    """lag.csv (time, written, projected, lag), api.csv (time, ms, status, households seen),
    stress.png (lag and write progress over time, API latency)."""
    lag, api = out / "lag.csv", out / "api.csv"
    with lag.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(["seconds", "events_written", "events_projected", "lag"])
        w.writerows([round(s.at, 3), s.written, s.projected, s.lag] for s in report.samples)
    with api.open("w", newline="", encoding="utf-8") as f:
        w = csv_writer(f)
        w.writerow(["seconds", "latency_ms", "status", "households_seen"])
        w.writerows([round(r.at, 3), round(r.ms, 2), r.status,
                     "" if r.households is None else r.households] for r in report.requests)
    return [lag, api, plot(report, out / "stress.png")]


def plot(report: StressReport, path: Path) -> Path:
    from simulations.plots import _pyplot, _save

    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
    xs = [s.at for s in report.samples]
    top.plot(xs, [s.written for s in report.samples], label="events written 已写入")
    top.plot(xs, [s.projected for s in report.samples], label="read models 读模型 position")
    top.plot(xs, [s.lag for s in report.samples], label="lag 滞后 (events)", color="red")
    top.axvline(report.write_seconds, color="grey", linestyle="--", label="writes end")
    top.set_ylabel("events")
    top.set_title(f"压力测试 stress: {report.households:,} households on {report.store}, "
                  f"{report.events_per_s:,.0f} events/s written")
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    ok = [r for r in report.requests if r.ok]
    bottom.plot([r.at for r in ok], [r.ms for r in ok], ".", markersize=3,
                label="API city rollup latency (ms)")
    bottom.axvline(report.write_seconds, color="grey", linestyle="--")
    bottom.set_xlabel("seconds since the writes started")
    bottom.set_ylabel("ms")
    bottom.legend(loc="upper left")
    return _save(fig, bottom, path)


def summary(report: StressReport) -> list[tuple[str, str]]:
    """The report's figures as (label, value) rows."""
    during = report.latencies()
    return [
        ("households 户", f"{report.households:,}"),
        ("store", report.store),
        ("events written 写入事件", f"{report.written:,} in {report.write_seconds:.1f} s"),
        ("events/s written", f"{report.events_per_s:,.0f}"),
        ("phases", ", ".join(f"{k} {v:.1f} s" for k, v in report.phases.items())),
        ("projection lag 投影滞后, max", f"{report.max_lag:,} events"),
        ("lag at the end", f"{report.final_lag:,} (caught up "
                           f"{report.catch_up_seconds:.1f} s after the writes)"),
        ("API requests answered / failed", f"{report.answered:,} / {report.failed:,}"),
        ("API latency under load p50 / p95 / max",
         f"{report.percentile(0.5):.0f} / {report.percentile(0.95):.0f} / "
         f"{max(during, default=float('nan')):.0f} ms"
         + (f" (mean {statistics.fmean(during):.0f})" if during else "")),
    ]


def table(report: StressReport) -> Any:
    from rich.table import Table

    t = Table(title="压力测试 city-scale stress run")
    t.add_column("measure")
    t.add_column("value", justify="right")
    for label, value in summary(report):
        t.add_row(label, value)
    return t
