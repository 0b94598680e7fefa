"""The chat corpus (``tests/fixtures/chat_corpus.jsonl``): 361 messages written as residents of a
Wuhan and a Qingdao micro-grid write in their group, each with what a person reads in it, read
through the intake's own classification (``not_a_report``, then ``parse_check_in`` with the
gazetteer, then the review reason, then whose fever or symptom it is: a finding no registered
member can be named for is held as ``who``, its reading still checked). The share read
correctly must stay at or above ``FLOOR``; every message read otherwise is printed with the
difference (``pytest -s``, or ``python -m tests.chat_corpus_report``)."""

from __future__ import annotations

from collections import Counter

from tests.chat_corpus_report import check, load

FLOOR = 0.95


def test_the_corpus_covers_the_styles_of_the_issue() -> None:
    entries = load()
    fates = Counter(e["fate"] for e in entries)
    assert len(entries) >= 300 and min(fates.values()) >= 40, fates
    recorded = [e for e in entries if e["fate"] == "recorded"]
    assert sum(bool(e.get("arrivals")) for e in recorded) >= 20
    assert sum(bool(e.get("visitors")) for e in recorded) >= 20
    assert sum(bool(e.get("remarks")) for e in recorded) >= 20
    whose = [e for e in entries if e.get("part") == "who"]
    assert sum(e["status"] != "normal" for e in [*recorded, *whose]) >= 30
    assert len(whose) >= 20 and sum(bool(e.get("quote")) for e in whose) >= 10
    assert sum(bool(e.get("attributed")) for e in recorded) >= 5  # by name, or 我 the sender
    assert {e.get("part") for e in entries if e["fate"] == "review"} >= {
        "address", "members", "status", "temperature", "phone", "visitor", "place", "text",
        "who"}
    assert len({e["text"] for e in entries}) == len(entries)


def test_at_least_the_floor_of_the_corpus_is_read_as_a_person_reads_it() -> None:
    entries = load()
    right, misses = check(entries)
    share = right / len(entries)
    print(f"\nchat corpus: {right} of {len(entries)} read correctly ({share:.1%})")
    for m in misses:
        print(" ", m)
    assert share >= FLOOR, "\n".join(str(m) for m in misses)


def test_a_review_reason_quotes_the_words_and_masks_a_phone() -> None:
    from tests.chat_corpus_report import read

    got = read("3栋2单元516，3人，电话13805321234，平安，吧啦吧啦")
    assert got["fate"] == "review" and "“吧啦吧啦”" in got["reason"]
    assert "13805321234" not in got["reason"]
    place = read("上疃村126号，3人，平安，有外地亲戚，美国来的")
    assert place["part"] == "place" and "“美国”" in place["reason"] and "境外" in place["reason"]
