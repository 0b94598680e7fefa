"""Coverage-guided fuzz target for the chat check-in parser (atheris / libFuzzer).

Run it directly, e.g. ``python tests/fuzz_checkin.py -runs=20000 corpus/``, where ``corpus/``
holds seed reports (``write_corpus`` writes ``SEEDS``). Each input is decoded as UTF-8 (invalid
bytes replaced) and given to ``parse_check_in`` and ``parse_many``: the only exception allowed
out is ``CheckInError``; a check-in must be internally consistent and nothing a parser says may
carry an unmasked phone number. ``tests/application/test_checkin.py`` runs it for a bounded
number of runs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SEEDS = (
    "上疃村187号，5人，电话××××，平安",
    "“上疃村187号，5人，电话××××，平安。”",
    "上疃村187号，5人，平安，哪来的亲戚？云南来的",
    "大山张村12号,3口人,电话138****1234,体温36.5",
    "5栋1单元101；一户5人；电话：13812341234；发热37.8，咳嗽",
    "５栋１单元１０１　两口人　体温３６．８℃　有外地亲戚，湖北来的",
    "地址：上疃村188号，人数：4，电话：无，状态：正常，访客：张某，武汉",
    "上疃村189号一家五口无发热、咳嗽无访客",
    "712-05-1-101，3人，电话0532-86123456，体温36度5",
    "上疃村187号，5人，电话1381234，平安\n哪来的亲戚？\n云南来的。\n等会给你电话。",
)
_RUN_OF_DIGITS = re.compile(r"\d{7,}")


def write_corpus(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(SEEDS):
        (directory / f"seed-{i:02d}.txt").write_bytes(seed.encode())


def check_one(text: str, checkin) -> None:  # type: ignore[no-untyped-def]
    """Parse ``text``; fail (raise AssertionError) on anything but a sound result or error."""
    try:
        c = checkin.parse_check_in(text)
    except checkin.CheckInError as e:
        assert e.part in checkin.HINTS and e.remedy, e
        assert not _RUN_OF_DIGITS.search(str(e)), "an error message repeats a phone number"
    else:
        assert 1 <= c.members <= checkin.MAX_MEMBERS
        assert c.address and c.address in text
        assert not (c.phone_masked and c.phone is not None), "a masked phone got digits"
        assert c.temperature is None or 34.0 <= c.temperature <= 43.0
        assert (c.status is checkin.Status.FEVER) == ("发热" in c.symptoms)
        # a finding to follow up is said of someone or of nobody in particular, never lost
        assert (c.status is not checkin.Status.NORMAL) == any(f.abnormal for f in c.findings)
        assert {s for f in c.findings for s in f.symptoms} == set(c.symptoms)
    batch = checkin.parse_many(text)
    lines = [n for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    assert sorted(n for n, _ in [*batch.check_ins, *batch.errors]) == lines


def main() -> None:
    import atheris

    import gridcore.identity
    import gridcore.status
    import gridcore.sweep  # noqa: F401  (loaded uninstrumented: only the parser is fuzzed)

    with atheris.instrument_imports(include=["adapters.checkin"]):
        from adapters import checkin

    def test_one_input(data: bytes) -> None:
        check_one(data.decode("utf-8", errors="replace"), checkin)

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
