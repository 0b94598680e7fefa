"""What keeps anonymous callers from exhausting the API server, over a real HTTP server: the body
limit (413 before parsing), the document limit, the cost limit, malformed bodies (a 4xx that
says what is wrong, never a 5xx), documents of several operations, production messages without
the submitted values, and the parsed-document cache bounded in memory (measured on a server in
its own process).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from graphql import parse, validate

from graphql_api.execution import DocumentCache
from graphql_api.limits import cost_message, query_cost_rule
from graphql_api.redact import VALUE, without_values
from graphql_api.schema import build_schema
from graphql_api.settings import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_COST,
    DEFAULT_MAX_STAFF_BODY_BYTES,
    Mode,
    SettingsError,
    api_settings,
)
from tests.api.test_api_access import World, serve_world
from tests.scenario import COMMUNITY

ROOT = Path(__file__).resolve().parents[2]
MARKER = "SECRETMARK7731"

HOUSEHOLD_PAGE = ("households(first: 100) { totalCount edges { node { id "
                  "residents { id health measure tags } timeline { at kind label detail } "
                  'status(asOf: "2020-02-01T00:00:00Z") { microGridCode } } } }')
THIRTY_PAGES = ("{ gridNode(code: \"" + COMMUNITY + "\") { "
                + " ".join(f"a{i}: {HOUSEHOLD_PAGE}" for i in range(30)) + " } }")
"""the issue's example: 30 aliases of a full page of households with their residents,
timelines and status (4.2 s on the production server, /healthz blocked for 3.2 s)"""


# ---- the cost estimate --------------------------------------------------------------------

SCHEMA = build_schema()._schema


def cost(document: str) -> int:
    """The estimated cost of ``document`` (0 for a document the rule does not reach)."""
    errors = validate(SCHEMA, parse(document), [query_cost_rule(0, 100)])
    found = [re.search(r"costs (\d+);", e.message) for e in errors]
    return max((int(m.group(1)) for m in found if m), default=0)


def dashboard_documents() -> dict[str, str]:
    """The documents the dashboard sends (``web/src``), with their ``${...}`` parts filled."""
    consts: dict[str, str] = {}
    for name in ("api.ts", "boards.tsx", "feeds.tsx"):
        text = (ROOT / "web" / "src" / name).read_text()
        for m in re.finditer(r'const (\w+) = (`[^`]*`|"[^"]*");', text):
            consts[m.group(1)] = re.sub(r"\$\{(\w+)\}",
                                        lambda k: consts.get(k.group(1), k.group(0)),
                                        m.group(2)[1:-1])
    return {k: v for k, v in consts.items()
            if re.match(r"\s*(query|mutation|subscription)\b", v)}


def test_every_dashboard_document_is_within_the_cost_limit() -> None:
    documents = dashboard_documents()
    assert {"NODE", "UNCOVERED", "HOUSEHOLDS", "HOUSEHOLD", "ALERTS"} <= set(documents)
    costs = {name: cost(doc) for name, doc in documents.items()}
    assert all(c > 0 for c in costs.values()), costs
    assert max(costs.values()) <= DEFAULT_MAX_COST, costs


def test_the_cost_grows_with_pages_and_nested_lists() -> None:
    one = cost('{ gridNode(code: "x") { households(first: 10) { edges { node { id } } } } }')
    ten = cost('{ gridNode(code: "x") { households(first: 100) { edges { node { id } } } } }')
    assert ten > 9 * one
    # a page asked through a variable may be any page: it counts as the largest
    assert cost('query($n: Int!) { gridNode(code: "x") { households(first: $n) '
                "{ edges { node { id } } } } }") == ten
    # beyond the largest page the server answers no more, so it costs no more
    assert cost('{ gridNode(code: "x") { households(first: 100000) '
                "{ edges { node { id } } } } }") == ten
    flat = cost('{ household(id: "x") { id } }')
    nested = cost('{ household(id: "x") { residents { id } } }')
    assert nested > flat
    # aliases count, and so do fragments, as often as they are spread
    single = cost('{ gridNode(code: "x") { children { code } } }')
    assert cost('{ a: gridNode(code: "x") { children { code } } '
                'b: gridNode(code: "y") { children { code } } }') == 2 * single
    assert cost('fragment F on GridNode { children { code } } '
                '{ a: gridNode(code: "x") { ...F } b: gridNode(code: "y") { ...F } }') \
        == 2 * single
    assert cost("{ __schema { types { fields { args { name } } } } }") == 0


def test_the_issue_s_thirty_pages_cost_more_than_the_limit() -> None:
    assert cost(THIRTY_PAGES) > DEFAULT_MAX_COST
    assert cost("{ gridNode(code: \"x\") { " + HOUSEHOLD_PAGE + " } }") <= DEFAULT_MAX_COST


# ---- the document cache --------------------------------------------------------------------

def test_the_document_cache_is_bounded_in_bytes_and_keeps_the_recent_ones() -> None:
    budget = 2_000_000
    cache = DocumentCache((), None, maxsize=512, max_bytes=budget)
    texts = [f"{{ q{i}: me {{ " + " ".join(["role"] * 40) + " } }" for i in range(150)]
    for text in texts:
        cache.put(text, parse(text), [])
        assert cache.size <= budget
    assert 20 < len(cache) < 150
    assert cache.get(texts[-1]) is not None and cache.get(texts[0]) is None
    # asking keeps a document: the least recently used goes first
    oldest = next(t for t in texts if cache.get(t) is not None)
    cache.put("{ x }", parse("{ x }"), [])
    cache.put(texts[0], parse(texts[0]), [])
    assert cache.get(oldest) is not None
    # a document weighing more than a sixteenth of the budget is not kept at all
    big = "{ me { " + " ".join(["role"] * 250) + " } }"
    cache.put(big, parse(big), [])
    assert cache.get(big) is None
    assert cache.size <= budget


# ---- production messages -------------------------------------------------------------------

@pytest.mark.parametrize(("message", "kept"), [
    (f"Variable '$n' has invalid value: Int cannot represent non-integer value: '{MARKER}'",
     f"Variable '$n' has invalid value: Int cannot represent non-integer value: {VALUE}"),
    (f"Variable '$n' has invalid value: Value '{MARKER}' does not exist in 'Health' enum.",
     f"Variable '$n' has invalid value: Value {VALUE} does not exist in 'Health' enum."),
    (f"String cannot represent a non string value: {{ a: \"{MARKER}\" }}",
     f"String cannot represent a non string value: {VALUE}"),
    (f"Value cannot represent a DateTime: \"{MARKER}\". Expected 4 digits, got 'SECR'",
     f"Value cannot represent a DateTime: {VALUE}"),
    (f"Expected value of type 'Int!', found \"{MARKER}\"; more",
     f"Expected value of type 'Int!', found {VALUE}; more"),
    (f"Syntax Error: Expected Name, found String \"{MARKER}\".",
     f"Syntax Error: Expected Name, found {VALUE}."),
])
def test_a_message_keeps_its_words_and_drops_the_value(message: str, kept: str) -> None:
    assert without_values(message, [MARKER]) == kept


def test_the_net_catches_a_value_anywhere_but_leaves_words_alone() -> None:
    assert without_values(f"No such thing as {MARKER} here.", [MARKER]) \
        == f"No such thing as {VALUE} here."
    assert without_values("Cannot query field 'role' on type 'Me'.", ["ro", "1"]) \
        == "Cannot query field 'role' on type 'Me'."


# ---- over a real server ----------------------------------------------------------------------

@pytest.fixture(scope="module", params=[Mode.PRODUCTION, Mode.DEVELOPMENT])
def world(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_world(tmp_path_factory.mktemp("api-limits") / "gridcore.sqlite",
                     request.param) as w:
        yield w


def production(world: World) -> bool:
    return world.settings is not None and world.settings.production


def post(world: World, body: bytes, staff_no: str | None = None,
         headers: dict[str, str] | None = None) -> httpx.Response:
    sent = {"Content-Type": "application/json", **(headers or {})}
    if staff_no:
        sent["Authorization"] = f"Bearer {world.token(staff_no)}"
    return httpx.post(world.base + "/graphql", content=body, headers=sent, timeout=30)


def test_an_oversize_body_is_refused_with_413_before_it_is_read(world: World) -> None:
    comment = b"#" + b"x" * (20 * 1024 * 1024) + b"\n{ me { role } }"
    body = json.dumps({"query": "QUERY"}).encode().replace(b"QUERY", comment)
    for staff_no in (None, "OFF1"):  # a token does not lift the limit that far
        r = post(world, body, staff_no)
        assert r.status_code == 413
        message = r.json()["errors"][0]["message"]
        assert f"{len(body)} bytes" in message and "the limit is" in message

    def streamed() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for i in range(0, len(body), 1 << 16):
            yield body[i:i + (1 << 16)]

    r = httpx.post(world.base + "/graphql", content=streamed(),
                   headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 413
    assert r.json()["errors"][0]["message"].startswith(
        f"The request body is larger than the limit of {DEFAULT_MAX_BODY_BYTES} bytes")


def test_a_signed_in_device_may_send_a_larger_offline_batch(world: World) -> None:
    visit = {"clientId": "", "campaignScope": COMMUNITY, "round": 1,
             "householdId": "no-such-household", "baseVersion": 0, "method": "DOOR",
             "visitedAt": "2020-02-01T08:00:00Z", "note": "x" * 120}
    visits = [{**visit, "clientId": f"c{i}"} for i in range(600)]
    document = ("mutation($v: [SyncVisitInput!]) { syncFieldRecords(input: { visits: $v }) "
                "{ clientId status } }")
    body = json.dumps({"query": document, "variables": {"v": visits}}).encode()
    assert DEFAULT_MAX_BODY_BYTES < len(body) < DEFAULT_MAX_STAFF_BODY_BYTES
    refused = post(world, body)
    assert refused.status_code == 413
    assert "signed-in staff may send up to" in refused.json()["errors"][0]["message"]
    assert post(world, body, headers={"Authorization": "Bearer forged.token.x"}).status_code \
        == 413
    r = post(world, body, "GWZ1")
    assert r.status_code == 200, r.text[:300]
    results = r.json()["data"]["syncFieldRecords"]
    assert len(results) == 600 and {x["status"] for x in results} == {"REJECTED"}


MALFORMED: list[tuple[str, bytes, str]] = [
    ("invalid UTF-8", b'{"query": "{ me { role } }", "x": "\xff\xfe"}', "not valid UTF-8"),
    ("a lone surrogate", b'{"query": "\\ud800{ me { role } }"}', ""),
    ("variables 5,000 deep", b'{"query": "query($v: [ID!]) { me { role } }", "variables": '
                            b'{"v": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
     "nested more than 1,024 levels deep"),
    ("a 5,000-digit number", b'{"query": "{ me { role } }", "variables": {"a": 1'
                             + b"0" * 5000 + b"}}", "number out of range"),
    ("a number beyond a double", b'{"query": "{ me { role } }", "variables": {"a": 1e999}}',
     "number out of range"),
    ("not JSON", b"{nope", "not valid JSON"),
    ("an empty body", b"", "not valid JSON"),
    ("a string", b'"{ me { role } }"', "must be a JSON object"),
    ("null", b"null", "must be a JSON object"),
    ("a number", b"5", "must be a JSON object"),
    ("variables not an object", b'{"query": "{ me { role } }", "variables": [1]}',
     "`variables` must be an object"),
    ("query not a string", b'{"query": 5}', "`query` must be a string"),
    ("no query", b'{"variables": {}}', ""),
    ("operationName not a string", b'{"query": "{ me { role } }", "operationName": 5}', ""),
    ("a batch", b'[{"query": "{ me { role } }"}, {"query": "{ me { role } }"}]', "atching"),
]


def assert_refusal(r: httpx.Response, code: str | None = None) -> str:
    """Every 4xx of the API: JSON ``errors[0]`` with a message and a code; the message."""
    assert 400 <= r.status_code < 500, (r.status_code, r.text[:200])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    [error] = r.json()["errors"]
    assert error["message"].strip() and error["extensions"]["code"], error
    if code is not None:
        assert error["extensions"]["code"] == code, error
    return error["message"]


@pytest.mark.parametrize(("what", "body", "words"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_body_gets_a_4xx_that_says_what_is_wrong(world: World, what: str,
                                                              body: bytes, words: str) -> None:
    for staff_no in (None, "OFF1"):
        r = post(world, body, staff_no)
        assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:200])
        assert words in assert_refusal(r)
        assert "Traceback" not in r.text and "/work" not in r.text


REFUSED: list[tuple[str, bytes, dict[str, str], int, str, str]] = [
    ("a batch", b'[{"query": "{ me { role } }"}]', {}, 400, "BATCH_NOT_SUPPORTED",
     "batching is not supported, a request runs one operation"),
    ("no query", b'{"variables": {}}', {}, 400, "NO_QUERY", "Send a JSON object with a `query`"),
    ("not JSON", b"{nope", {}, 400, "BAD_JSON", "not valid JSON"),
    ("a string", b'"x"', {}, 400, "BAD_REQUEST", "must be a JSON object"),
    ("plain text", b"{ me { role } }", {"Content-Type": "text/plain"}, 415,
     "UNSUPPORTED_CONTENT_TYPE", "Content-Type is 'text/plain'; send the GraphQL request as "
     "a JSON object with `Content-Type: application/json`"),
    ("a forged token", b'{"query": "{ me { role } }"}', {"Authorization": "Bearer x.y.z"}, 401,
     "UNAUTHENTICATED", "The token is not valid"),
    ("not a bearer", b'{"query": "{ me { role } }"}', {"Authorization": "Basic abc"}, 401,
     "UNAUTHENTICATED", "must be `Bearer <token>`"),
]


@pytest.mark.parametrize(("what", "body", "headers", "status", "code", "words"), REFUSED,
                         ids=[r[0] for r in REFUSED])
def test_every_refusal_is_json_with_a_message_and_a_code(
        world: World, what: str, body: bytes, headers: dict[str, str], status: int, code: str,
        words: str) -> None:
    r = post(world, body, headers=headers)
    assert r.status_code == status, (what, r.text[:200])
    assert words in assert_refusal(r, code)


def test_other_methods_and_a_missing_content_type_are_json_refusals(world: World) -> None:
    r = httpx.put(world.base + "/graphql", content=b"{}", timeout=30)
    assert r.status_code == 405 and r.headers["allow"] == "GET, POST"
    assert "POST" in assert_refusal(r, "METHOD_NOT_ALLOWED")
    r = httpx.post(world.base + "/graphql", content=b'{"query": "{ me { role } }"}',
                   headers={"Content-Type": ""}, timeout=30)
    assert r.status_code == 415
    assert "has no Content-Type" in assert_refusal(r, "UNSUPPORTED_CONTENT_TYPE")
    big = b"#" * (DEFAULT_MAX_BODY_BYTES + 1)
    assert assert_refusal(post(world, big), "BODY_TOO_LARGE").startswith(
        f"The request body is {len(big)} bytes; the limit is {DEFAULT_MAX_BODY_BYTES} bytes")


def test_variables_nested_within_the_json_limit_are_refused_by_their_type(world: World) -> None:
    deep = "[" * 1000 + "]" * 1000
    body = ('{"query": "query($v: [ID!]) { gridNode(code: \\"x\\") { households(first: 1) '
            '{ totalCount } } h: household(id: \\"x\\") { id } }", "variables": {"v": '
            + deep + "}}").encode()
    r = post(world, body, "OFF1")
    assert r.status_code in (200, 400)
    assert "cannot represent" in r.text or "never used" in r.text


def test_a_long_document_is_refused_unparsed_and_the_limits_still_name_tokens(
        world: World) -> None:
    padded = "#" + "x" * 40_000 + "\n{ me { role } }"
    body = world.post(padded, "OFF1").json()
    assert body["data"] is None
    assert "characters long; the limit is 32768" in body["errors"][0]["message"]
    many = "{ me { " + " ".join(["role"] * 2100) + " } }"
    assert "more than 2000 tokens" in world.post(many, "OFF1").json()["errors"][0]["message"]


def test_the_thirty_pages_are_refused_with_their_cost(world: World) -> None:
    body = world.post(THIRTY_PAGES, "STR1").json()
    assert body["data"] is None
    message = body["errors"][0]["message"]
    assert message == cost_message(cost(THIRTY_PAGES), DEFAULT_MAX_COST)
    page = "{ gridNode(code: \"" + COMMUNITY + "\") { " + HOUSEHOLD_PAGE + " } }"
    assert world.ask(page, "STR1")["gridNode"]["households"]["totalCount"] > 0


def test_several_operations_need_an_operation_name(world: World) -> None:
    document = "query A { me { role } } query B { me { staffNumber: id } }"
    body = world.post(document, "OFF1").json()
    assert body["data"] is None
    assert body["errors"][0]["message"] == ("This document has several operations; name the "
                                            "one to run in operationName.")
    named = httpx.post(world.base + "/graphql", json={"query": document, "operationName": "B"},
                       headers={"Authorization": f"Bearer {world.token('OFF1')}"}).json()
    assert set(named["data"]["me"]) == {"staffNumber"}
    # the refusal is not remembered for the text: asked again without a name, still refused
    assert world.post(document, "OFF1").json()["data"] is None


BAD_VALUES: list[tuple[str, dict[str, Any]]] = [
    ('query($n: Int!) { gridNode(code: "x") { households(first: $n) { totalCount } } }',
     {"n": MARKER}),
    ('query($n: Int!) { gridNode(code: "x") { households(first: $n) { totalCount } } }',
     {"n": {"k": MARKER}}),
    ('query($h: Health) { gridNode(code: "x") { households(health: $h) { totalCount } } }',
     {"h": MARKER}),
    ("query($c: String!) { gridNode(code: $c) { code } }", {"c": [MARKER]}),
    ("query($i: ID!) { household(id: $i) { id } }", {"i": {"x": MARKER}}),
    ('query($t: DateTime!) { household(id: "x") { status(asOf: $t) { microGridCode } } }',
     {"t": MARKER}),
    ('{ gridNode(code: "x") { households(first: "' + MARKER + '") { totalCount } } }', {}),
    ('{ gridNode(code: "x") { households(health: ' + MARKER + ") { totalCount } } }", {}),
    ('{ gridNode(code: ["' + MARKER + '"]) { code } }', {}),
    ('{ household(id: "x") { status(asOf: "' + MARKER + '") { microGridCode } } }', {}),
    ('{ gridNode(code: "x") { code } } ' + MARKER + " x", {}),
]


def test_production_messages_name_the_fault_without_the_value(world: World) -> None:
    for document, variables in BAD_VALUES:
        r = world.post(document, "OFF1", variables)
        assert r.status_code < 500
        messages = [e["message"] for e in r.json()["errors"]]
        assert messages and all(messages), document
        if production(world):
            assert MARKER not in r.text and "SECR" not in r.text, r.text
            assert any(VALUE in m for m in messages), messages
        else:  # development shows the value (which is what makes the check above bite)
            assert MARKER[:4] in r.text, r.text


def test_an_unknown_operation_name_is_refused_without_echoing_it(world: World) -> None:
    r = httpx.post(world.base + "/graphql", json={"query": "query A { me { role } }",
                                                  "operationName": MARKER}, timeout=30)
    assert r.status_code == 400 and "Unknown operation named" in r.text
    assert (MARKER in r.text) is not production(world)


def test_a_get_query_string_over_the_limit_is_refused(world: World) -> None:
    query = "{ me { role } }" + "#" + "x" * DEFAULT_MAX_BODY_BYTES
    # (httpx refuses to send so long a URL, http.client does not)
    connection = http.client.HTTPConnection(world.base.removeprefix("http://"), timeout=30)
    try:
        connection.request("GET", "/graphql?" + urlencode({"query": query}))
        r = connection.getresponse()
        status, body = r.status, json.loads(r.read())
    finally:
        connection.close()
    assert status == 414
    assert "send the document in a POST body" in body["errors"][0]["message"]


def test_healthz_answers_while_a_request_body_is_still_arriving(world: World) -> None:
    """A client sending its body slowly holds only its own request: the server answers
    others meanwhile (the body limit's buffering waits without blocking the loop)."""
    page = "{ gridNode(code: \"" + COMMUNITY + "\") { " + HOUSEHOLD_PAGE + " } }"
    body = json.dumps({"query": page}).encode()
    half = threading.Event()
    healthy = threading.Event()
    answer: dict[str, httpx.Response] = {}

    def slow_body() -> Iterator[bytes]:
        yield body[:len(body) // 2]
        half.set()
        assert healthy.wait(30)
        yield body[len(body) // 2:]

    def send() -> None:
        answer["r"] = httpx.post(
            world.base + "/graphql", content=slow_body(), timeout=60,
            headers={"Content-Type": "application/json",
                     "Authorization": f"Bearer {world.token('STR1')}"})

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert half.wait(30)
        health = httpx.get(world.base + "/healthz", timeout=30)
        assert health.status_code == 200 and health.json()["ok"] is True
        assert "r" not in answer  # the slow request is still in flight
    finally:
        healthy.set()
        sender.join(60)
    assert answer["r"].status_code == 200
    assert answer["r"].json()["data"]["gridNode"]["households"]["totalCount"] > 0


def test_the_limits_come_from_the_environment(tmp_path: Path) -> None:
    env = {"GRIDCORE_API_SECRET_FILE": str(tmp_path / "secret"),
           "GRIDCORE_API_MAX_BODY_BYTES": "4096", "GRIDCORE_API_MAX_COST": "50_000",
           "GRIDCORE_API_MAX_STAFF_BODY_BYTES": "8192",
           "GRIDCORE_API_DOCUMENT_CACHE_BYTES": "1048576"}
    s = api_settings(env)
    assert (s.max_body_bytes, s.max_cost, s.max_staff_body_bytes, s.document_cache_bytes) \
        == (4096, 50_000, 8192, 1_048_576)
    defaults = api_settings({"GRIDCORE_API_SECRET_FILE": str(tmp_path / "secret")})
    assert (defaults.max_body_bytes, defaults.max_cost) == (DEFAULT_MAX_BODY_BYTES,
                                                            DEFAULT_MAX_COST)
    for bad in ("0", "-1", "lots", "1.5"):
        with pytest.raises(SettingsError, match="GRIDCORE_API_MAX_COST must be a positive"):
            api_settings({**env, "GRIDCORE_API_MAX_COST": bad})


# ---- memory, on a server in its own process ------------------------------------------------

SERVER = """
import sys
from pathlib import Path
from graphql_api.app import create_app
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode
from projections import all_projections
from projections.runner import Runner
from tests.api.test_api_access import SECRET, build_world

app, *_ = build_world(Path(sys.argv[1]))
runner = Runner(app, all_projections()).start()
settings = ApiSettings(mode=Mode.PRODUCTION, secret=SECRET, audit_file=sys.argv[2],
                       document_cache_bytes=int(sys.argv[3]))
with running(create_app(app, runner, settings)) as base:
    print(base, flush=True)
    sys.stdin.read()
runner.stop()
"""


def rss(pid: int) -> int:
    """The resident memory of process ``pid`` in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_distinct_documents_do_not_grow_the_server_beyond_the_cache_budget(
        tmp_path: Path) -> None:
    """100 distinct documents of about 1,900 tokens (each about 1 MB once parsed: about 85 MB
    grown, measured, when the budget lets every one stay) leave the server's memory within
    the cache's budget (24 MiB, about 20 of them) and a margin for the allocator, and the
    server still answers."""
    budget = 24 * 1024 * 1024
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(tmp_path / "g.sqlite"), str(tmp_path / "audit"),
         str(budget)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env,
        cwd=tmp_path)
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip()
        assert base.startswith("http://"), base
        with httpx.Client(base_url=base, timeout=60) as client:
            def send(i: int) -> httpx.Response:
                values = ", ".join(["LIVES_ALONE"] * 1900)
                document = (f'{{ q{i}: gridNode(code: "x") {{ households(vulnerability: '
                            f"[{values}]) {{ totalCount }} }} }}")
                return client.post("/graphql", json={"query": document})

            for i in range(10):  # the server's own warm-up (imports, first allocations)
                assert send(i).status_code == 200
            before = rss(server.pid)
            for i in range(10, 110):
                r = send(i)
                assert r.status_code == 200 and "errors" not in r.json(), r.text[:300]
            grown = rss(server.pid) - before
            assert client.get("/healthz").status_code == 200
        assert grown < budget + 16 * 1024 * 1024, f"grew {grown / 2**20:.0f} MiB"
    finally:
        if server.stdin is not None:
            server.stdin.close()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
