"""The README's walkthrough, run as a new user runs it: `gridcore demo` builds the 712
community and prints the tokens, `gridcore serve` serves it on the scenario clock, and every
GraphQL document of the walkthrough section is sent in order with the token it names. The
documents are read from the README itself, so the README cannot drift from what works."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_api_cli import start_serving

README = Path(__file__).parents[2] / "README.md"
SECTION = "## Walkthrough: a morning at the 712 grid office"


def documents() -> list[tuple[str, str]]:
    """(staff number, document) of each ```graphql block of the section, in order."""
    text = README.read_text()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    found = re.findall(r"```graphql\n# as (\S+)\n(.*?)```", text[start:end], re.S)
    return [(who, doc) for who, doc in found]


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The demo built by `gridcore demo` (its printed tokens) and served by `gridcore serve`
    on the scenario clock, as the README says."""
    folder = tmp_path_factory.mktemp("walkthrough")
    env = {"GRIDCORE_STORE": "sqlite", "GRIDCORE_SQLITE_PATH": str(folder / "gridcore.sqlite"),
           "GRIDCORE_API_SECRET_FILE": str(folder / "api-secret"),
           "GRIDCORE_API_AUDIT_FILE": str(folder / "audit.jsonl"),
           "GRIDCORE_API_MODE": "development", "COLUMNS": "400"}
    gridcore = Path(sys.executable).with_name("gridcore")
    built = subprocess.run([str(gridcore), "demo", "--no-serve"], env={**os.environ, **env},
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    tokens = dict(re.findall(r"\((712-[A-Z]+(?:-\d+)?)\): (\S+)", built.stdout))
    assert set(tokens) == {"712-DIR", "712-GW-1"}, built.stdout[-2000:]
    proc, base, output = start_serving({**env, "GRIDCORE_SCENARIO_CLOCK": "last-event"})
    assert proc is not None, output
    try:
        yield base, tokens
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def send(base: str, token: str, document: str) -> dict[str, Any]:
    r = httpx.post(base + "/graphql", json={"query": document},
                   headers={"Authorization": f"Bearer {token}"}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert "errors" not in body, body["errors"]
    return dict(body["data"])


def test_every_document_of_the_walkthrough_does_what_the_readme_says(
        office: tuple[str, dict[str, str]]) -> None:
    base, tokens = office
    steps = documents()
    assert [who for who, _ in steps] == ["712-DIR", "712-GW-1", "712-GW-1", "712-DIR",
                                         "712-DIR"]
    answers = [send(base, tokens[who], doc) for who, doc in steps[:1]]

    launched = answers[0]["launchCampaign"]
    assert launched == {"__typename": "CampaignLaunched", "assigned": 946, "uncovered": 0}

    me = send(base, tokens["712-GW-1"], steps[1][1])["me"]
    assert me["jurisdictionCodes"] == ["420102014712-01", "420102014712-05",
                                       "420102014712-09"]
    first = me["workList"][0]
    assert (first["householdNo"], first["buildingNo"], first["address"], first["covered"]) \
        == ("712-02-1-202", "2", "2栋1单元202", False)
    assert first["household"]["microGridCode"] == "420102014712-01"
    assert len(first["household"]["residents"]) == 2
    assert all(r["name"] and "*" not in r["name"] for r in first["household"]["residents"])
    assert {i["household"]["microGridCode"] for i in me["workList"]} <= set(
        me["jurisdictionCodes"])

    taken = send(base, tokens["712-GW-1"], steps[2][1])["submitChatMessages"]
    assert (taken["__typename"], taken["recorded"], taken["review"], taken["ignored"]) == \
        ("ChatMessagesTaken", 1, 0, 1)
    assert [o["fate"] for o in taken["outcomes"]] == ["RECORDED", "IGNORED"]
    again = send(base, tokens["712-GW-1"], steps[1][1])["me"]["workList"]
    assert [i["covered"] for i in again if i["address"] == "2栋1单元202"] == [True]

    open_requests = send(base, tokens["712-DIR"], steps[3][1])["requests"]
    [complaint] = [r for r in open_requests if r["text"] == "楼道消毒不及时"]
    assert "<the id from step 4>" in steps[4][1]  # what the reader pastes

    answer = steps[4][1].replace("<the id from step 4>", complaint["id"])
    resolved = send(base, tokens["712-DIR"], answer)["resolveRequest"]
    assert resolved["__typename"] == "RequestUpdated"
    assert resolved["request"]["reply"] == "已安排物业今天下午对各楼道消毒，并每日两次巡查"
    assert resolved["request"]["statusLabel"] == "已答复 answered"
    left = send(base, tokens["712-DIR"], steps[3][1])["requests"]
    assert complaint["id"] not in {r["id"] for r in left}
