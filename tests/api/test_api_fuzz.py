"""Property-based fuzzing of the GraphQL API over a real HTTP server (schemathesis's GraphQL
support, which draws documents with hypothesis-graphql from the committed ``schema.graphql``).

For each mode (production masks resolver errors; development shows them) the server runs over
the small tree of ``tests.api.test_api_access`` with a street official's token, and every query and
mutation field of the schema gets its share of at least 1,000 generated documents. No answer
may be a 5xx, and no error (a GraphQL error, or a typed problem a mutation returns) may carry
a Python traceback, SQL text or an internal path. Malformed bodies (random bytes, bad UTF-8,
JSON of any shape or 6,000 deep, several operations, bodies over the size limit) get a 4xx
or a GraphQL refusal, never a 5xx (the server's memory under many distinct documents is
measured in ``tests.api.test_api_limits``). Reproducible: hypothesis is derandomised.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
import schemathesis
from graphql import (
    BooleanValueNode,
    FloatValueNode,
    IntValueNode,
    ListValueNode,
    NameNode,
    NullValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    StringValueNode,
    ValueNode,
    Visitor,
    parse,
    print_ast,
    visit,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from graphql_api.serving import running
from graphql_api.settings import Mode
from tests.api.test_api_access import World, serve_world

ROOT = Path(__file__).resolve().parents[2]
MIN_QUERIES = 1000
"""generated documents per mode, at least"""
CALLER = "STR1"
"""a street official: the widest jurisdiction in the test tree"""



def json_node(value: Any) -> ValueNode:
    """A JSON value as a GraphQL literal (what the JSON scalar parses back)."""
    if isinstance(value, dict):
        return ObjectValueNode(fields=tuple(
            ObjectFieldNode(name=NameNode(value=k), value=json_node(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ListValueNode(values=tuple(json_node(v) for v in value))
    if isinstance(value, bool):
        return BooleanValueNode(value=value)
    if isinstance(value, int):
        return IntValueNode(value=str(value))
    if isinstance(value, float):
        return FloatValueNode(value=repr(value))
    if isinstance(value, str):
        return StringValueNode(value=value)
    return NullValueNode()


_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False,
                                                                  allow_infinity=False) | st.text()
_KEYS = st.sampled_from(["type", "features", "geometry", "properties", "code", "coordinates"])
_POSITION = st.lists(st.floats(-200, 200), min_size=0, max_size=3)
_GEOMETRY = st.fixed_dictionaries({
    "type": st.sampled_from(["Polygon", "MultiPolygon", "Point"]),
    "coordinates": st.lists(st.lists(_POSITION, max_size=6), max_size=2)})
_FEATURES = st.fixed_dictionaries({"type": st.just("FeatureCollection"), "features": st.lists(
    st.fixed_dictionaries({"type": st.just("Feature"), "geometry": _GEOMETRY,
                           "properties": st.fixed_dictionaries({"code": st.sampled_from(
                               ["420102001712-01", "420102001712", "x"]) | st.text()})}),
    max_size=3)})
_JSON = _FEATURES | st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=3)
                                 | st.dictionaries(_KEYS, inner, max_size=3), max_leaves=8)
schemathesis.graphql.scalar("JSON", _JSON.map(json_node))
"""``drawBoundaries``'s GeoJSON: FeatureCollections of odd rings and codes, and any JSON."""

LEAKS: dict[str, re.Pattern[str]] = {
    "a traceback": re.compile(r'Traceback|File "'),
    "SQL text": re.compile(r"\b(?:SELECT|INSERT|UPDATE|DELETE)\b|sqlite3|psycopg|syntax error"),
    "an internal path": re.compile(r"/work\b|site-packages"),
}


def leaks(text: str, sent: str) -> list[str]:
    """What ``text`` (from the server) gives away: a marker counts unless the client's own
    document carried it (a message may quote the input back, e.g. an unknown id)."""
    found = []
    for what, pattern in LEAKS.items():
        if any(m.group(0) not in sent for m in pattern.finditer(text)):
            found.append(what)
    return found


def problem_texts(data: Any) -> Iterator[str]:
    """The ``problem`` and ``remedy`` strings of the typed errors anywhere in ``data``."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in ("problem", "remedy") and isinstance(value, str):
                yield value
            else:
                yield from problem_texts(value)
    elif isinstance(data, list):
        for item in data:
            yield from problem_texts(item)


def check_answer(response: httpx.Response, document: str) -> list[str]:
    """The rule's breaches in one answer (empty when it holds)."""
    breaches = []
    if response.status_code >= 500:
        breaches.append(f"status {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):  # not a GraphQL answer: the whole text is the message
        texts = [response.text]
    else:
        texts = [repr(e) for e in body.get("errors") or []]
        texts += list(problem_texts(body.get("data")))
    for text in texts:
        breaches += [f"{what} in {text[:300]!r}" for what in leaks(text, document)]
    return breaches


@dataclass
class Tally:
    sent: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)
    breaches: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Known:
    """Identifiers of records that exist, to put into generated documents (random strings alone
    would hardly ever reach past the "not found" answers)."""

    codes: tuple[str, ...]
    households: tuple[str, ...]
    residents: tuple[str, ...]
    staff: tuple[str, ...]

    @classmethod
    def of(cls, world: World) -> Known:
        residents = [str(r) for h in world.households
                     for r in world.app.repository.get(UUID(h)).residents]
        return cls(tuple(world.parents), tuple(world.households), tuple(residents),
                   tuple(str(s) for s in world.staff.values()))

    def for_argument(self, name: str) -> tuple[str, ...]:
        if name in ("scope", "campaignScope", "code", "gridCode", "siteCode"):
            return self.codes
        if name == "householdId":
            return self.households
        if name == "residentId":
            return self.residents
        if name == "staffId":
            return self.staff
        if name == "id":
            return self.codes + self.households + self.residents + self.staff
        return ()


def with_known_ids(document: str, known: Known, rnd: random.Random) -> str:
    """``document`` with (about two thirds of) its identifier arguments set to real ones."""
    class Substitute(Visitor):
        def enter_argument(self, node: Any, *_: Any) -> Any:
            return self.replace(node)

        def enter_object_field(self, node: Any, *_: Any) -> Any:
            return self.replace(node)

        def replace(self, node: Any) -> Any:
            pool = known.for_argument(node.name.value)
            if not pool or isinstance(node.value, (ListValueNode, ObjectValueNode)) \
                    or rnd.random() < 1 / 3:
                return None
            return node.__class__(name=node.name, value=StringValueNode(value=rnd.choice(pool)))

    return print_ast(visit(parse(document), Substitute()))


def fuzz(world: World, per_operation: int, tally: Tally) -> None:
    schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")
    operations = [result.ok() for result in schema.get_all_operations()]
    known = Known.of(world)
    headers = {"Authorization": f"Bearer {world.token(CALLER, hours=2)}"}
    with httpx.Client(base_url=world.base, headers=headers, timeout=30) as client:
        for operation in operations:
            fuzz_operation(operation, per_operation, client, known, tally)


def fuzz_operation(operation: Any, per_operation: int, client: httpx.Client, known: Known,
                   tally: Tally) -> None:
    label = operation.label

    @settings(max_examples=per_operation, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                          operation.as_strategy(GenerationMode.NEGATIVE)),
           rnd=st.randoms(use_true_random=False), real_ids=st.booleans())
    def run(case: schemathesis.Case, rnd: random.Random, real_ids: bool) -> None:
        document = case.body["query"] if isinstance(case.body, dict) else str(case.body)
        if real_ids and case.meta is not None \
                and case.meta.generation.mode is GenerationMode.POSITIVE:
            document = with_known_ids(document, known, rnd)
        response = client.post("/graphql", json={"query": document})
        tally.sent += 1
        tally.by_operation[label] = tally.by_operation.get(label, 0) + 1
        tally.breaches += [f"{label}: {b}\n  {document[:400]}"
                           for b in check_answer(response, document)]

    run()


@pytest.mark.slow
@pytest.mark.parametrize("mode", [Mode.PRODUCTION, Mode.DEVELOPMENT])
def test_generated_documents_leak_nothing(mode: Mode, tmp_path: Path) -> None:
    schema = schemathesis.graphql.from_path(ROOT / "schema.graphql")
    n_operations = sum(1 for _ in schema.get_all_operations())
    per_operation = math.ceil(MIN_QUERIES * 1.05 / n_operations)
    tally = Tally()
    started = time.monotonic()
    with serve_world(tmp_path / "gridcore.sqlite", mode) as world:
        fuzz(world, per_operation, tally)
    took = time.monotonic() - started
    print(f"{mode.value}: {tally.sent} documents over {len(tally.by_operation)} operations "
          f"in {took:.1f} s")
    assert not tally.breaches, "\n".join(tally.breaches[:20])
    assert len(tally.by_operation) == n_operations
    assert tally.sent >= MIN_QUERIES


def test_the_leak_check_catches_internals() -> None:
    """The check itself: each kind of leak is caught, an echo of the client's input is not."""
    def answer(status: int, message: str) -> httpx.Response:
        return httpx.Response(status, json={"data": None, "errors": [{"message": message}]})

    assert check_answer(answer(200, "No household abc."), "{ household(id: \"abc\") { id } }") \
        == []
    assert check_answer(answer(500, "Internal Server Error"), "{ me { role } }") == ["status 500"]
    for message in ('Traceback (most recent call last):\n  File "x.py"',
                    "sqlite3.OperationalError: near \"x\": syntax error",
                    "SELECT id FROM households", "/work/main/src/graphql_api/app.py",
                    "/usr/lib/python3/site-packages/strawberry"):
        assert check_answer(answer(200, message), "{ me { role } }"), message
    echoed = "SELECT"
    assert check_answer(answer(200, f"No household {echoed}."),
                        f'{{ household(id: "{echoed}") {{ id }} }}') == []
    problem = httpx.Response(200, json={"data": {"x": {"problem": "psycopg.errors.Foo",
                                                       "remedy": "ok"}}})
    assert check_answer(problem, "mutation { x }") == ["SQL text in 'psycopg.errors.Foo'"]
    assert check_answer(httpx.Response(502, text="File \"/work/x\""), "{ a }")


def test_the_test_server_answers_kept_alive_requests_without_delay() -> None:
    """Regression (found by this fuzz run taking 45 ms a request): ``running`` must serve with
    TCP_NODELAY, or each response's body waits out the client's delayed ACK (40 ms on Linux).
    Ten requests on one kept-alive connection took over 400 ms before the fix."""
    async def ok(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    with running(ok) as base, httpx.Client(base_url=base) as client:
        client.get("/healthz")
        started = time.monotonic()
        for _ in range(10):
            assert client.get("/healthz").text == "ok"
        assert time.monotonic() - started < 0.3


# ---- malformed bodies ------------------------------------------------------------------------

BODY_LIMIT = 64 * 1024
"""the default body limit (``GRIDCORE_API_MAX_BODY_BYTES``)"""
DOCUMENTS = ("{ me { role } }", "query A { me { role } }", "mutation M { tick { ran } }",
             "subscription S { alertRaised { id } }", "{ gridNode(code: \"x\") { code } }")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@st.composite
def malformed_bodies(draw: st.DrawFn) -> bytes:
    """A request body a client might send by mistake or on purpose: random bytes, JSON of any
    shape, a request's fields of the wrong types, a valid body with bytes flipped (often
    breaking its UTF-8), nesting up to 6,000 deep, several operations without a name, or a
    body around the size limit."""
    kind = draw(st.sampled_from(["bytes", "json", "fields", "flipped", "deep", "operations",
                                 "size"]))
    if kind == "bytes":
        return draw(st.binary(max_size=512))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "fields":
        return json.dumps({
            "query": draw(st.sampled_from(DOCUMENTS) | json_values),
            "variables": draw(json_values),
            "operationName": draw(st.none() | st.sampled_from(["A", "M", "S", "Z"])
                                  | json_values)}).encode()
    if kind == "flipped":
        body = bytearray(json.dumps({"query": draw(st.sampled_from(DOCUMENTS)),
                                     "variables": {"a": "é"}}).encode())
        for _ in range(draw(st.integers(1, 4))):
            body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
        return bytes(body)
    if kind == "deep":
        depth = draw(st.integers(1, 6000))
        return (b'{"query": "query($v: [ID!]) { me { role } }", "variables": {"v": '
                + b"[" * depth + b"]" * depth + b"}}")
    if kind == "operations":
        count = draw(st.integers(2, 4))
        document = " ".join(f"query Q{i} {{ me {{ role }} }}" for i in range(count))
        return json.dumps({"query": document}).encode()
    size = draw(st.sampled_from([BODY_LIMIT - 64, BODY_LIMIT + 1, 20 * BODY_LIMIT]))
    return json.dumps({"query": "#" + "x" * size + "\n{ me { role } }"}).encode()


@pytest.mark.parametrize("mode", [Mode.PRODUCTION, Mode.DEVELOPMENT])
def test_malformed_bodies_get_a_4xx_or_an_answer_never_a_5xx(mode: Mode, tmp_path: Path) -> None:
    """Whatever the body, the answer is not a 5xx and gives nothing away; a refusal (4xx, or
    GraphQL errors with no data) carries a message."""
    breaches: list[str] = []
    with serve_world(tmp_path / "gridcore.sqlite", mode) as world, \
            httpx.Client(base_url=world.base, timeout=30) as client:
        token = world.token(CALLER, hours=2)

        @settings(max_examples=300, deadline=None, derandomize=True, database=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(body=malformed_bodies(), signed_in=st.booleans())
        def run(body: bytes, signed_in: bool) -> None:
            headers = {"Content-Type": "application/json"}
            if signed_in:
                headers["Authorization"] = f"Bearer {token}"
            r = client.post("/graphql", content=body, headers=headers)
            sent = body.decode("utf-8", "replace")
            breaches.extend(f"{b}: {body[:200]!r}" for b in check_answer(r, sent))
            if 400 <= r.status_code < 500:
                if not r.text.strip():
                    breaches.append(f"an empty {r.status_code}: {body[:200]!r}")
            elif r.json().get("data") is None and not r.json().get("errors"):
                breaches.append(f"no data and no error: {body[:200]!r}")

        run()
        assert client.get("/healthz").status_code == 200
    assert not breaches, "\n".join(breaches[:20])
