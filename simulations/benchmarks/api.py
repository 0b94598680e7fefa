"""Benchmark: the GraphQL API over a generated city, against plain JSON routes serving the same
answers from the same read models, under the same uvicorn server.

The city (``simulations.city``: at least ``households`` households in communities of 1,000,
ten micro-grids each, ten communities per street, up to twenty streets per district, with
their staff) is built once through the application's commands, its read models brought up
to date, the households the benchmark asks about given a short history (ill, well again,
tagged), and the SQLite file kept under ``var/bench/api-<households>-<seed>/`` for the next
run (``ready`` and ``history`` files mark the steps done; an interrupted build resumes).
A city official (``BENCH-CITY-OF``) asks the questions.

One server in a child process (``graphql_api.serving.running``, so the load's CPU never
shares its interpreter) serves ``/graphql`` and, mounted for the benchmark only, the plain
routes of ``api_plain``. For each of

(a) a district's rollup with its streets' rollups (the dashboard's node query),
(b) a page of 50 households of a community with each one's micro-grid and residents' status,
    and the community's staff,
(c) one household's timeline,

requests over varied keys (every district, 200 communities, 200 households) go to both
sides in alternating one-second slices (a change of the machine's load falls on both): one
client for latency (median, p95) and requests/s, then ``CLIENTS`` concurrent clients for
requests/s. The ratio of the p95s (GraphQL over plain) is what the GraphQL layer costs;
targets: at most 3x for (a) and (c), 5x for (b).

``GRIDCORE_BENCH_API_HOUSEHOLDS`` (default 1,000,000) sizes the city;
``GRIDCORE_BENCH_API_SECONDS`` (default 20) the measuring time per side and load. Alone:
``python -m simulations.benchmarks.api`` (``... api build [N]`` only builds the city).
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
import random
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import orjson

from adapters.settings import sqlite_env
from graphql_api.app import create_app
from graphql_api.auth import issue_token
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.errors import NotFound
from gridcore.staff import Role
from gridcore.status import Health, Tag, TagKind
from projections import all_projections
from projections.runner import Runner
from simulations.benchmarks import api_plain
from simulations.city import CitySpec, build_city

ROOT = Path(__file__).resolve().parents[2]
PER_COMMUNITY = 1_000
COMMUNITIES_PER_STREET = 10
MAX_STREETS_PER_DISTRICT = 20
BENCH_OFFICIAL = "BENCH-CITY-OF"
CLIENTS = 4


def city_spec(households: int, seed: int = 1) -> CitySpec:
    """A city of at least ``households`` households (communities of 1,000)."""
    communities = max(1, math.ceil(households / PER_COMMUNITY))
    per_street = min(COMMUNITIES_PER_STREET, communities)
    streets = math.ceil(communities / per_street)
    per_district = min(MAX_STREETS_PER_DISTRICT, streets)
    return CitySpec(seed=seed, districts=math.ceil(streets / per_district),
                    streets_per_district=per_district, communities_per_street=per_street,
                    grids_per_community=10, households_per_community=PER_COMMUNITY,
                    batch=10_000)


def store_folder(households: int, seed: int) -> Path:
    return ROOT / "var" / "bench" / f"api-{households}-{seed}"


def open_city(spec: CitySpec, folder: Path, progress: bool = False
              ) -> tuple[GridcoreApp, Runner, Keys]:
    """The city of ``spec`` in ``folder``: built (or completed), a sample of its households
    given a history, read models caught up, and the keys to ask about. A finished city is
    reused (the ``ready`` and ``history`` files mark the steps done)."""
    app = GridcoreApp(sqlite_env(folder / "gridcore.sqlite"))
    runner = Runner(app, all_projections())
    ready, history = folder / "ready", folder / "history"
    if not ready.exists():
        started = time.perf_counter()
        build_city(app, spec, progress=progress)
        try:
            app.staff_by_no(BENCH_OFFICIAL)
        except NotFound:
            app.enrol_staff(BENCH_OFFICIAL, "基准市领导", Role.OFFICIAL, spec.city_code, 10,
                            client_id=f"bench-api:{BENCH_OFFICIAL}", by=System.OPERATOR)
        built = time.perf_counter()
        runner.catch_up()
        ready.write_text(f"built in {built - started:.0f} s, read models in "
                         f"{time.perf_counter() - built:.0f} s\n")
    runner.catch_up()  # nothing, unless a read model's version changed since
    keys = sample_keys(runner, spec)
    if not history.exists():
        give_history(app, spec, keys.households)
        runner.catch_up()
        history.write_text(f"{len(keys.households)} households\n")
    return app, runner, keys


def bench_city(households: int, seed: int = 1, progress: bool = False
               ) -> tuple[GridcoreApp, Runner, Keys, CitySpec]:
    """The benchmark's city of at least ``households`` households under ``var/bench``."""
    spec = city_spec(households, seed)
    return (*open_city(spec, store_folder(households, seed), progress), spec)


@dataclass(frozen=True)
class Keys:
    """What the requests ask about: varied districts, communities and households."""

    districts: list[str]
    communities: list[str]
    households: list[str]


def sample_keys(runner: Runner, spec: CitySpec, n: int = 200, seed: int = 7) -> Keys:
    """Every district, up to ``n`` communities and a household in a micro-grid of each (the
    same for the same city). 200 communities have about 10,000 staff: they stay in the
    application's aggregate cache (20,000), as a working set of a busy morning would."""
    rng = random.Random(seed)
    communities = spec.communities()
    picked = rng.sample(communities, min(n, len(communities)))
    grids = [spec.grid_code(c, rng.randrange(spec.grids_per_community)) for c in picked]
    households = []
    for g in grids:
        rows = runner.views.query("SELECT household_id FROM gr_households WHERE micro_grid = ? "
                                  "ORDER BY household_id LIMIT 1 OFFSET ?",
                                  (g, rng.randrange(20)))
        households.extend(r[0] for r in rows)
    return Keys([spec.district_code(d) for d in range(spec.districts)], picked, households)


def give_history(app: GridcoreApp, spec: CitySpec, households: list[str]) -> None:
    """A timeline worth reading for each asked household: its first resident falls ill and
    recovers (the community's family doctor), and is tagged a close contact (its grid
    worker); each command with a client id, so a rerun adds nothing."""
    for hid in households:
        h = app.household(UUID(hid))
        community = h.micro_grid.split("-")[0]
        doctor = app.staff_by_no(f"{community}-DOC-01").id
        worker = app.staff_by_no(f"{community}-GW-01").id
        rid = min(h.residents)
        cid = f"bench-api:{spec.seed}:{hid}"
        app.change_health(h.id, rid, Health.SYMPTOMATIC, doctor, "发热 37.8",
                          client_id=f"{cid}:ill")
        app.change_health(h.id, rid, Health.NORMAL, doctor, "复查正常",
                          client_id=f"{cid}:well")
        app.tag_resident(h.id, rid, Tag(kind=TagKind.CLOSE_CONTACT, note="同楼密接"), worker,
                         client_id=f"{cid}:tag")


# ---- the questions, asked both ways ------------------------------------------------------

NODE = "code name level levelLabel"
ROLLUP = ("rollup { households residents staff byHealth { health label count } "
          "byMeasure { measure label count } byTag { tag label count } }")
DISTRICT_QUERY = ("query District($code: String!) { node: gridNode(code: $code) { "
                  f"{NODE} {ROLLUP} children {{ {NODE} {ROLLUP} }} }} }}")
PAGE_QUERY = (
    "query Page($code: String!) { node: gridNode(code: $code) { households(first: 50) { "
    "totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id microGridCode "
    f"microGrid {{ {NODE} }} residents {{ id health measure tags }} }} }} }} }} "
    "staff(scope: $code) { id staffNo role roleLabel jurisdictionCode available "
    "dailyCapacity } }")
TIMELINE_QUERY = ("query Timeline($id: ID!) { household(id: $id) { id microGridCode "
                  "timeline { notificationId at kind label actorId detail } } }")


@dataclass(frozen=True)
class Case:
    name: str
    label: str
    target: float
    """the largest p95 ratio (GraphQL over plain) the issue accepts"""
    query: str
    variable: str
    plain: Callable[[str], str]

    def graphql_request(self, key: str) -> tuple[str, str, bytes]:
        return "POST", "/graphql", orjson.dumps({"query": self.query,
                                                 "variables": {self.variable: key}})

    def plain_request(self, key: str) -> tuple[str, str, bytes]:
        return "GET", self.plain(key), b""


CASES = (
    Case("a", "(a) a district's rollup with its streets", 3.0, DISTRICT_QUERY, "code",
         api_plain.district_path),
    Case("b", "(b) a page of 50 households with grid and staff", 5.0, PAGE_QUERY, "code",
         api_plain.page_path),
    Case("c", "(c) one household's timeline", 3.0, TIMELINE_QUERY, "id",
         api_plain.timeline_path),
)


def keys_of(case: Case, keys: Keys) -> list[str]:
    return {"a": keys.districts, "b": keys.communities, "c": keys.households}[case.name]


def server_app(app: GridcoreApp, runner: Runner, settings: ApiSettings) -> Any:
    """The API app with the plain routes mounted next to ``/graphql`` (benchmark only)."""
    return create_app(app, runner, settings,
                      extra_routes=api_plain.plain_routes(app, runner.views, settings))


# ---- the server (a child process, so the load's CPU never shares its interpreter) --------

def _serve(households: int, seed: int, secret: str, conn: Connection) -> None:
    app, runner, keys, spec = bench_city(households, seed)
    settings = ApiSettings(mode=Mode.PRODUCTION, secret=secret,
                           audit_file=str(store_folder(households, seed) / "api-audit.jsonl"))
    with running(server_app(app, runner, settings)) as base:
        conn.send((base, str(app.staff_by_no(BENCH_OFFICIAL).id), keys,
                   spec.total_households, app.recorder.max_notification_id() or 0))
        conn.recv()  # until the benchmark is done
    app.close()


@contextmanager
def city_server(households: int, seed: int, secret: str
                ) -> Iterator[tuple[str, str, Keys, int, int]]:
    """(base URL, the official's staff id, keys, households, events) of a server in a child
    process over the city; stopped afterwards."""
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    child = ctx.Process(target=_serve, args=(households, seed, secret, theirs),
                        name="api-bench-server")
    child.start()
    try:
        while not ours.poll(1.0):
            if not child.is_alive():
                raise RuntimeError("the benchmark server stopped while starting")
        yield ours.recv()
        ours.send("stop")
    finally:
        child.join(timeout=30)
        if child.is_alive():
            child.terminate()
            child.join()


# ---- the load --------------------------------------------------------------------------

Request_ = tuple[str, str, bytes]


@dataclass
class Side:
    latencies: list[float] = field(default_factory=list)
    """seconds per request, one client"""
    seconds: float = 0.0
    concurrent_requests: int = 0
    concurrent_seconds: float = 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.latencies, n=20)[-1] * 1000

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.seconds

    @property
    def concurrent_per_s(self) -> float:
        return self.concurrent_requests / self.concurrent_seconds


async def _send(client: httpx.AsyncClient, request: Request_) -> None:
    method, path, body = request
    r = await client.request(method, path, content=body or None)
    if r.status_code != 200 or b'"errors"' in r.content:
        raise RuntimeError(f"{method} {path} answered {r.status_code}: {r.text[:300]}")


async def _run(client: httpx.AsyncClient, requests: list[Request_], seconds: float,
               clients: int, side: Side, start: int) -> None:
    """``clients`` closed loops over ``requests`` for ``seconds``; one client's latencies are
    recorded, several clients' throughput."""
    deadline = time.perf_counter() + seconds
    count = 0

    async def loop(offset: int) -> None:
        nonlocal count
        i = offset
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            await _send(client, requests[i % len(requests)])
            if clients == 1:
                side.latencies.append(time.perf_counter() - began)
            count += 1
            i += clients

    began = time.perf_counter()
    await asyncio.gather(*(loop(start + c) for c in range(clients)))
    spent = time.perf_counter() - began
    if clients == 1:
        side.seconds += spent
    else:
        side.concurrent_requests += count
        side.concurrent_seconds += spent


async def _measure(base: str, token: str, sides: dict[str, list[Request_]], seconds: float,
                   clients: int, slice_s: float = 1.0) -> dict[str, Side]:
    """Each side's requests in alternating slices (so a change of the machine's load falls
    on both), ``seconds`` per side with one client and again with ``clients``."""
    out = {name: Side() for name in sides}
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=60) as client:
        for requests in sides.values():  # warm-up: every key once
            for r in requests:
                await _send(client, r)
        for n in (1, clients):
            done = 0.0
            while done < seconds:
                for name, requests in sides.items():
                    await _run(client, requests, slice_s, n, out[name], int(done * 997))
                done += slice_s
    return out


# ---- the run -----------------------------------------------------------------------------

@dataclass
class Result:
    case: Case
    graphql: Side
    plain: Side

    @property
    def ratio(self) -> float:
        return self.graphql.p95_ms / self.plain.p95_ms

    @property
    def met(self) -> bool:
        return self.ratio <= self.case.target


@dataclass
class Run:
    households: int
    events: int
    clients: int
    seconds: float
    results: list[Result]


def table(run_: Run) -> str:
    lines = [f"{run_.households:,} households, {run_.events:,} events (SQLite); one uvicorn "
             f"server, loopback; latency with one client, requests/s with one and with "
             f"{run_.clients} concurrent clients; {run_.seconds:.0f} s per side and load.", "",
             f"| question | served by | median ms | p95 ms | req/s (1 client) | "
             f"req/s ({run_.clients} clients) | p95 ratio | target |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in run_.results:
        for label, side in (("GraphQL", r.graphql), ("plain route", r.plain)):
            ratio = (f"**{r.ratio:.2f}x** {'met' if r.met else 'not met'}"
                     if side is r.graphql else "")
            target = f"≤ {r.case.target:.0f}x" if side is r.graphql else ""
            lines.append(f"| {r.case.label} | {label} | {side.median_ms:.2f} | "
                         f"{side.p95_ms:.2f} | {side.per_s:,.0f} | "
                         f"{side.concurrent_per_s:,.0f} | {ratio} | {target} |")
    return "\n".join(lines)


def run(households: int = 1_000_000, seconds: float = 20.0, clients: int = CLIENTS,
        seed: int = 1) -> tuple[Run, str]:
    """Build or reuse the city, serve it, ask (a)(b)(c) both ways; the figures and the
    README table."""
    secret = secrets.token_urlsafe(48)
    with city_server(households, seed, secret) as (base, official, keys, total, events):
        token = issue_token(secret, UUID(official), hours=6)
        results = []
        for case in CASES:
            asked = keys_of(case, keys)
            sides = asyncio.run(_measure(base, token, {
                "graphql": [case.graphql_request(k) for k in asked],
                "plain": [case.plain_request(k) for k in asked]}, seconds, clients))
            results.append(Result(case, sides["graphql"], sides["plain"]))
    out = Run(total, events, clients, seconds, results)
    return out, table(out)


def households_from_env() -> int:
    return int(os.environ.get("GRIDCORE_BENCH_API_HOUSEHOLDS", "1000000"))


def build_only(households: int) -> dict[str, Any]:
    app, _, _, spec = bench_city(households, progress=True)
    out = {"households": spec.total_households,
           "events": app.recorder.max_notification_id() or 0}
    app.close()
    return out


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["build"]:
        print(build_only(int(sys.argv[2]) if len(sys.argv) > 2 else households_from_env()))
    else:
        print(run(households_from_env(),
                  float(os.environ.get("GRIDCORE_BENCH_API_SECONDS", "20")))[1])
