"""The chat corpus (``tests/fixtures/chat_corpus.jsonl``) read as the intake reads a message:
``adapters.chat_intake.not_a_report``, then ``adapters.checkin.parse_check_in`` with the
gazetteer, then the review reason ``unreadable_reason``, then whose fever or symptom it is
(``adapters.chat_checkins.attribute``: held as ``who`` when no member can be named for it); each
reading compared with what a person reads in it. The household is the entry's ``household`` (its
members' registered names) and ``sender`` (the chat's display name) when given, else as many
members as the report counts, none of them named in it: a corpus has no register.
``python -m tests.chat_corpus_report`` prints the share read correctly and every message read
otherwise, with the difference."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.chat_checkins import UnattributedFinding, attribute
from adapters.chat_intake import not_a_report, unattributed_reason, unreadable_reason
from adapters.checkin import CheckIn, CheckInError, normalize_address, parse_check_in

CORPUS = Path(__file__).parent / "fixtures" / "chat_corpus.jsonl"


@dataclass(frozen=True)
class Miss:
    line: int
    text: str
    expected: dict[str, Any]
    got: dict[str, Any]

    def __str__(self) -> str:
        diff = {k: (v, self.got.get(k)) for k, v in self.expected.items()
                if k != "text" and self.got.get(k) != v}
        return f"line {self.line}: {self.text!r}: expected/got {diff}"


def load(path: Path = CORPUS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _recorded(c: CheckIn) -> dict[str, Any]:
    return {"fate": "recorded", "address": normalize_address(c.address), "members": c.members,
            "status": c.status.value, "temperature": c.temperature,
            "symptoms": sorted(c.symptoms),
            "phone": "masked" if c.phone_masked else "real" if c.phone else None,
            "visitors": [v.division.full_name if v.division else v.origin for v in c.visitors],
            "arrivals": [a.division.full_name if a.division else a.origin for a in c.arrivals],
            "remarks": "".join(c.remarks)}


def read(text: str, household: list[str] | None = None,
         sender: str | None = None) -> dict[str, Any]:
    """What the intake makes of ``text`` sent by ``sender`` of a household whose members are
    named ``household`` (default: as many as it counts, unnamed): its fate and, by fate, the
    reading (with, for a named household, whose symptoms are whose), the reason's part and
    words, or the kind of non-report. A fever no member can be named for keeps its reading."""
    if (aside := not_a_report(text)) is not None:
        return {"fate": "ignored", "kind": aside[0], "reason": aside[1]}
    try:
        c = parse_check_in(text)
    except CheckInError as e:
        return {"fate": "review", "part": e.part, "reason": unreadable_reason(text, e)}
    names: list[str | None] = list(household) if household is not None else [None] * c.members
    found = attribute(c, {UUID(int=i): n for i, n in enumerate(names)}, sender)
    if found.unattributed:
        reason = unattributed_reason(UnattributedFinding(found.unattributed, len(names)))
        return {**_recorded(c), "fate": "review", "part": "who", "reason": reason}
    got = _recorded(c)
    if household is not None:
        got["attributed"] = {names[rid.int]: s for rid, s in found.symptoms.items()}
    return got


def expected_reading(e: dict[str, Any]) -> dict[str, Any]:
    """The corpus line as ``read`` would give it (absent fields take their empty value)."""
    if e["fate"] == "ignored":
        return {"fate": "ignored", "kind": e["kind"]}
    if e["fate"] == "review" and e["part"] != "who":
        return {"fate": "review", "part": e["part"]}
    return {"fate": e["fate"], **({"part": "who"} if e["fate"] == "review" else {}),
            **({"attributed": e["attributed"]} if "attributed" in e else {}),
            "address": normalize_address(e["address"]),
            "members": e["members"], "status": e["status"],
            "temperature": e.get("temperature"), "symptoms": sorted(e.get("symptoms", [])),
            "phone": e.get("phone"), "visitors": e.get("visitors", []),
            "arrivals": e.get("arrivals", []), "remarks": "".join(e.get("remarks", []))}


def check(entries: list[dict[str, Any]]) -> tuple[int, list[Miss]]:
    misses = []
    for n, e in enumerate(entries, start=1):
        got, want = read(e["text"], e.get("household"), e.get("sender")), expected_reading(e)
        right = all(got.get(k) == v for k, v in want.items())
        if right and e["fate"] == "review" and e.get("quote"):
            right = f"“{e['quote']}" in got["reason"]  # the reason quotes the words
        if not right:
            misses.append(Miss(n, e["text"], {**want, "quote": e.get("quote")},
                               {**got, "quote": e.get("quote") if right else got.get("reason")}))
    return len(entries) - len(misses), misses


def main() -> None:
    entries = load()
    right, misses = check(entries)
    print(f"chat corpus: {right} of {len(entries)} messages read correctly "
          f"({100 * right / len(entries):.1f}%)")
    for m in misses:
        print(" ", m)


if __name__ == "__main__":
    main()
