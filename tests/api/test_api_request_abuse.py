"""Abuse of the residents' requests over a real HTTP server (the hardening issue's findings).

A request's reference was derivable (a uuid5 of its sequential number), so anyone could read,
rate and reopen another community's request, and filing with someone else's client id handed
out their reference; anonymous filing had no limit; request text could carry control
characters and bidirectional overrides. Here: a reference is a random secret shown once; the
request cannot be read, rated or reopened without it (a derived, guessed or id-shaped one
fails, writing nothing); another caller's client id returns nothing of someone else's filing;
anonymous filing beyond its limits per phone and per client address is answered 429 with
``Retry-After``; control and bidirectional characters are refused with nothing written.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from graphql_api.app import create_app
from graphql_api.ratelimit import FilingLimits, Limit, RateLimited, parse_limit
from graphql_api.serving import running
from graphql_api.settings import ApiSettings, Mode, SettingsError, api_settings
from gridcore.base import stable_id
from gridcore.requests import REFERENCE_BYTES, new_reference
from projections import all_projections
from projections.runner import Runner
from tests.api.test_api_access import OTHER_ZONE, SECRET, World, build_world
from tests.scenario import ZONES

FILE = """mutation($input: FileRequestInput!) { fileRequest(input: $input) { __typename
  ... on RequestFiled { reference number status }
  ... on Problem { code problem remedy } } }"""
MINE = """query($ref: String!) { myRequest(reference: $ref) { reference number status rating
  reply } }"""
RATE = """mutation($ref: String!, $n: Int!) { rateRequest(input: { reference: $ref, rating: $n }) {
  __typename ... on RequestUpdated { request { reference status rating } }
  ... on Problem { code problem remedy } } }"""
REOPEN = """mutation($ref: String!) {
  reopenRequest(input: { reference: $ref, reason: "药还没送到" }) {
  __typename ... on RequestUpdated { request { status } } ... on Problem { code problem } } }"""
RESOLVE = """mutation($id: ID!) {
  resolveRequest(input: { id: $id, reply: "已送药上门" }) { __typename
  ... on RequestUpdated { request { reference status } } } }"""
BOARD = "{ requests(first: 100) { id number } }"
UNLIMITED: dict[str, Limit | None] = {"file_limit_per_address": None,
                                      "file_limit_per_phone": None}
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@contextmanager
def serve(folder: Path, mode: Mode = Mode.DEVELOPMENT, **limits: Any) -> Iterator[World]:
    """The tree of tests.api.test_api_access served with the given filing limits."""
    app, clock, parents, households, staff = build_world(folder / "gridcore.sqlite")
    runner = Runner(app, all_projections()).start()
    try:
        settings = ApiSettings(mode=mode, secret=SECRET,
                               audit_file=str(folder / "api-audit.jsonl"), **limits)
        with running(create_app(app, runner, settings)) as base:
            world = World(app, runner, clock, base, parents, households, staff, settings)
            world.caught_up()
            yield world
    finally:
        runner.stop()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve(tmp_path_factory.mktemp("abuse"), **UNLIMITED) as w:
        yield w


def filing(phone: str = "13800138000", **fields: Any) -> dict[str, Any]:
    return {"category": "MEDICAL", "text": "家里缺降压药", "phone": phone, "address": "1栋101",
            "gridCode": ZONES[0], **fields}


def file(world: World, staff_no: str | None = None, **fields: Any) -> dict[str, Any]:
    return world.ask(FILE, staff_no, {"input": filing(**fields)})["fileRequest"]


def last(world: World) -> int:
    return world.app.recorder.max_notification_id() or 0


def old_reference(number: str) -> str:
    """How references were made before: a uuid5 of the request's number under a fixed
    namespace (what the issue's attacker computed)."""
    seed = stable_id("request-reference", number)
    bits = int.from_bytes(seed.bytes[:8], "big") >> 4
    code = "".join(_ALPHABET[(bits >> (5 * i)) & 31] for i in reversed(range(12)))
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def guesses(number: str, request_id: str) -> list[str]:
    """What an attacker might try instead of the reference: the old derivation, the same done
    in the new format, the id, the number, and references of nothing."""
    derived = stable_id("request-reference", number).bytes
    return [old_reference(number), new_reference(derived[:REFERENCE_BYTES]), request_id,
            number, new_reference(b"\x00" * REFERENCE_BYTES), "00000-00000-00000-00000"]


# ---- references ------------------------------------------------------------------------------

def test_a_request_cannot_be_read_rated_or_reopened_without_its_reference(world: World) -> None:
    filed = file(world, clientId="abuse:read")
    ref, number = filed["reference"], filed["number"]
    [rid] = [r["id"] for r in world.ask(BOARD, "OFF1")["requests"] if r["number"] == number]
    # staff answer it: their screens show the request, never its reference
    resolved = world.ask(RESOLVE, "OFF1", {"id": rid})["resolveRequest"]
    assert resolved == {"__typename": "RequestUpdated",
                        "request": {"reference": None, "status": "RESOLVED"}}
    assert ref not in str(world.ask(BOARD, "OFF1"))

    # the attack: an anonymous caller closing a request staff had just answered
    written = last(world)
    for guess in guesses(number, rid):
        assert world.ask(MINE, None, {"ref": guess})["myRequest"] is None, guess
        rated = world.ask(RATE, None, {"ref": guess, "n": 1})["rateRequest"]
        assert rated["__typename"] in ("NotFoundProblem", "InvalidInputProblem"), guess
        assert ref not in str(rated)
        reopened = world.ask(REOPEN, None, {"ref": guess})["reopenRequest"]
        assert reopened["__typename"] in ("NotFoundProblem", "InvalidInputProblem"), guess
    by_id = world.ask(RATE, None, {"ref": rid, "n": 1})["rateRequest"]
    assert by_id["__typename"] == "InvalidInputProblem" and "reference" in by_id["remedy"]
    assert last(world) == written, "a refused attempt wrote"
    mine = world.ask(MINE, None, {"ref": ref})["myRequest"]
    assert (mine["status"], mine["rating"], mine["reply"]) == ("RESOLVED", None, "已送药上门")

    # the holder rates and reopens it, read the way people type it
    sloppy = ref.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert world.ask(RATE, None, {"ref": sloppy, "n": 4})["rateRequest"] == {
        "__typename": "RequestUpdated",
        "request": {"reference": ref, "status": "CLOSED", "rating": 4}}
    assert world.ask(REOPEN, None, {"ref": ref})["reopenRequest"]["__typename"] == (
        "RequestUpdated")


def test_filings_get_references_with_no_pattern_and_none_derivable(world: World) -> None:
    refs, numbers = [], []
    for n in range(12):
        filed = file(world, phone=f"139{n:08d}", gridCode=(ZONES[0], OTHER_ZONE)[n % 2])
        refs.append(filed["reference"])
        numbers.append(filed["number"])
    assert len(set(refs)) == len(refs)
    assert all(len(r) == 23 and r.count("-") == 3 for r in refs)
    # no character position is the same in all of them (a derivation from a sequence or a
    # community would fix some), and none is what the number would have given
    for position in range(23):
        if refs[0][position] != "-":
            assert len({r[position] for r in refs}) > 1, position
    for ref, number in zip(refs, numbers, strict=True):
        assert ref not in guesses(number, "")


def test_another_callers_client_id_returns_nothing_of_someone_elses_filing(
        world: World) -> None:
    first = file(world, phone="13700000001", clientId="resident-phone:1")
    assert first["__typename"] == "RequestFiled"
    written = last(world)
    for caller, fields in (
            (None, {"phone": "13700000002"}),  # another resident, the same client id
            (None, {"phone": "13700000001", "text": "别的事情"}),  # another filing
            ("GWZ1", {"phone": "13700000001"}),  # staff presenting the id for the same filing
    ):
        other = world.ask(FILE, caller, {"input": filing(**fields,
                                                         clientId="resident-phone:1")})
        answer = other["fileRequest"]
        assert answer["__typename"] == "InvalidInputProblem", (caller, fields)
        assert "already used" in answer["problem"] and "new client id" in answer["remedy"]
        assert first["reference"] not in str(answer) and first["number"] not in str(answer)
    assert last(world) == written
    # the same resident retrying the same filing gets their reference again
    again = file(world, phone="13700000001", clientId="resident-phone:1")
    assert again == first and last(world) == written


def test_staff_filing_for_a_resident_get_the_reference_once_to_give_them(world: World) -> None:
    mine = next(h for h, g in world.households.items() if g == ZONES[0])
    filed = file(world, "GWZ1", householdId=mine, phone=None, address=None, gridCode=None,
                 channel="HOTLINE")
    assert filed["__typename"] == "RequestFiled"
    assert world.ask(MINE, None, {"ref": filed["reference"]})["myRequest"]["number"] == (
        filed["number"])


# ---- text ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("field", "value", "what"), [
    ("text", "退款\u202e0001\u202c元", "bidirectional formatting mark (U+202E)"),
    ("text", "\u2067看这里\u2069 缺药", "bidirectional formatting mark (U+2067)"),
    ("text", "缺药\u200f急", "bidirectional formatting mark (U+200F)"),
    ("text", "缺药\x1b[2J\x1b[H急", "control character (U+001B)"),
    ("text", "缺药\x07\x08急", "control character (U+0007)"),
    ("address", "幸福路\u202e88号", "bidirectional formatting mark (U+202E)"),
    ("address", "1栋\r101", "control character (U+000D)"),
])
def test_control_and_bidirectional_characters_are_refused_with_nothing_written(
        world: World, field: str, value: str, what: str) -> None:
    board = world.ask(BOARD, "OFF1")
    written = last(world)
    refused = file(world, phone="13600000001", **{field: value})
    assert refused["__typename"] == "InvalidInputProblem"
    assert what in refused["problem"] and "newlines and tabs are fine" in refused["remedy"]
    assert value not in refused["problem"]
    assert last(world) == written and world.ask(BOARD, "OFF1") == board
    fine = file(world, phone="13600000001", text="第一行\n第二行\t(急)")
    assert fine["__typename"] == "RequestFiled"


# ---- rate limits -----------------------------------------------------------------------------

def post_file(world: World, fields: dict[str, Any], client: httpx.Client | None = None,
              staff_no: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world.token(staff_no)}"} if staff_no else {}
    body = {"query": FILE, "variables": {"input": fields}}
    if client is not None:
        return client.post(world.base + "/graphql", json=body, headers=headers)
    return httpx.post(world.base + "/graphql", json=body, headers=headers, timeout=30)


def assert_limited(world: World, response: httpx.Response, whom: str) -> int:
    assert response.status_code == 429, response.text
    wait = int(response.headers["Retry-After"])
    body = response.json()
    assert body["data"] is None
    [error] = body["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": wait}
    assert whom in error["message"] and "nothing was filed" in error["message"]
    assert f"Try again in {wait} seconds" in error["message"]
    return wait


def test_anonymous_filing_beyond_the_limits_is_answered_429_with_retry_after(
        tmp_path: Path) -> None:
    limits = {"file_limit_per_address": Limit(5, 3600), "file_limit_per_phone": Limit(2, 600)}
    with serve(tmp_path, Mode.PRODUCTION, **limits) as world:  # production masks errors
        for n in range(2):
            accepted = post_file(world, filing("13500000001", text=f"第{n}次 缺药"))
            assert accepted.status_code == 200
            assert accepted.json()["data"]["fileRequest"]["__typename"] == "RequestFiled"
        written, board = last(world), world.ask(BOARD, "OFF1")
        # the same phone, however it is written
        for phone in ("13500000001", "+86 135 0000 0001"):
            wait = assert_limited(world, post_file(world, filing(phone)), "this phone number")
            assert 590 <= wait <= 600
        assert last(world) == written and world.ask(BOARD, "OFF1") == board
        # other phones from the same address, up to the address's limit (refusals above
        # counted nothing)
        for n in range(3):
            assert post_file(world, filing(f"1350000010{n}")).status_code == 200
        written = last(world)
        wait = assert_limited(world, post_file(world, filing("13500000200")), "your address")
        assert 3590 <= wait <= 3600 and last(world) == written
        # another client address is counted on its own
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"),
                          timeout=30) as elsewhere:
            assert post_file(world, filing("13500000300"), elsewhere).status_code == 200
        # staff filing for a household of their jurisdiction are not limited
        mine = next(h for h, g in world.households.items() if g == ZONES[0])
        staff = post_file(world, {"category": "SUPPLIES", "text": "热线代为登记",
                                  "householdId": mine}, staff_no="GWZ1")
        assert staff.status_code == 200
        assert staff.json()["data"]["fileRequest"]["__typename"] == "RequestFiled"
        # and following a request needs no filing: not limited either
        assert world.ask(MINE, None, {"ref": "00000-00000-00000-00000"})["myRequest"] is None


def test_the_sliding_window_counts_only_admitted_filings_and_says_when_the_next_is() -> None:
    now = [1000.0]
    limits = FilingLimits(Limit(3, 100), Limit(2, 60), clock=lambda: now[0])
    limits.admit("10.0.0.1", "13800000001")
    now[0] += 10
    limits.admit("10.0.0.1", "138 0000 0001")
    with pytest.raises(RateLimited) as info:
        limits.admit("10.0.0.1", "+8613800000001")
    assert (info.value.what, info.value.retry_after) == ("phone", 50)
    now[0] += 49.5
    with pytest.raises(RateLimited) as info:
        limits.admit("10.0.0.1", "13800000001")
    assert info.value.retry_after == 1  # whole seconds, rounded up
    now[0] += 0.5  # the first filing leaves the window
    limits.admit("10.0.0.1", "13800000001")
    with pytest.raises(RateLimited) as info:  # the address had its three
        limits.admit("10.0.0.1", "13900000009")
    assert (info.value.what, info.value.retry_after) == ("address", 40)
    limits.admit("10.0.0.2", "13900000009")
    unlimited = FilingLimits(None, None)
    for _ in range(100):
        unlimited.admit("10.0.0.1", "13800000001")


@pytest.mark.parametrize(("raw", "limit"), [
    ("5/hour", Limit(5, 3600)), ("30/15min", Limit(30, 900)), ("100/day", Limit(100, 86400)),
    (" 2 / 30 s ", Limit(2, 30)), ("off", None), ("0", None)])
def test_limits_are_read_as_count_per_window(raw: str, limit: Limit | None) -> None:
    assert parse_limit(raw) == limit


def test_the_limits_come_from_the_environment_with_defaults() -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = {"GRIDCORE_API_SECRET": SECRET, "GRIDCORE_API_AUDIT_FILE": f"{folder}/a.jsonl"}
        default = api_settings(base)
        assert (default.file_limit_per_address, default.file_limit_per_phone) == (
            Limit(30, 3600), Limit(5, 3600))
        set_ = api_settings({**base, "GRIDCORE_API_FILE_LIMIT_ADDRESS": "off",
                             "GRIDCORE_API_FILE_LIMIT_PHONE": "3/10min"})
        assert (set_.file_limit_per_address, set_.file_limit_per_phone) == (None,
                                                                            Limit(3, 600))
        for bad in ("lots", "5/fortnight", "-1/hour", "5/0s"):
            with pytest.raises(SettingsError, match="GRIDCORE_API_FILE_LIMIT_PHONE"):
                api_settings({**base, "GRIDCORE_API_FILE_LIMIT_PHONE": bad})


def test_the_read_model_never_carries_a_reference(world: World) -> None:
    filed = file(world, phone="13300000001", clientId="abuse:log")
    rows = world.runner.views.query("SELECT * FROM req_requests", ())
    compact = filed["reference"].replace("-", "")
    assert any(filed["number"] in map(str, r) for r in rows)
    assert not any(filed["reference"] in str(r) or compact in str(r) for r in rows)
