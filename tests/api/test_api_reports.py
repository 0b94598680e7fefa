"""Daily reports up the levels (日报 / 信息报送) over a real HTTP server, the issue's journey:
community 712's official submits its report for a day (figures gathered server-side from the
read models as of the day's end), the street returns it with a reason, it is corrected (a new
version, the first still answerable) and approved; community 714 submits a zero report
(零报告); 713 never reports (missing, then overdue); the street submits its sum, the district
and the city approve up to the city. The figures equal the read models' as of the day's end,
and the street's .xlsx export reads back with a row per community and a total."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from adapters.cli.reports import write_export
from gridcore.authority import System
from gridcore.daily_report import FIGURE_LABELS
from gridcore.household import household_id, resident_id
from gridcore.staff import Role
from gridcore.status import Measure
from tests.api.test_api_access import OTHER_COMMUNITY, World, serve_world
from tests.scenario import CITY, COMMUNITY, DISTRICT, STREET

OP = System.OPERATOR
EMPTY = "420102001714"
DAY = date(2020, 2, 17)
END = datetime(2020, 2, 17, 16, 0, tzinfo=UTC)  # midnight Beijing: the day's end

FIGURES = " ".join(n.split("_")[0] + "".join(p.title() for p in n.split("_")[1:])
                   for n in FIGURE_LABELS)
VERSION = f"number figures {{ {FIGURES} }} filled {{ name text }} note zero reason " \
          "submittedAt included { code version } missing"
REPORT = (f"code period level status statusLabel current {{ {VERSION} }} "
          f"versions {{ {VERSION} }} returns {{ version reason }} approvedVersion")
RESULT = ("__typename ... on DailyReportChanged { notificationId report { " + REPORT + " } } "
          "... on Problem { code problem remedy }")
SUBMIT = ("mutation($i: SubmitDailyReportInput!) { submitDailyReport(input: $i) { "
          + RESULT + " } }")
CORRECT = ("mutation($i: CorrectDailyReportInput!) { correctDailyReport(input: $i) { "
           + RESULT + " } }")
RETURN = ("mutation($i: ReturnDailyReportInput!) { returnDailyReport(input: $i) { "
          + RESULT + " } }")
APPROVE = ("mutation($i: ApproveDailyReportInput!) { approveDailyReport(input: $i) { "
           + RESULT + " } }")
READ = "query($c: String!, $p: Date!) { dailyReport(code: $c, period: $p) { " + REPORT + " } }"
COMPLETE = ("query($c: String!, $p: Date!) { reportCompleteness(code: $c, period: $p) { "
            "code reported missing children { code name status version zero } } }")
ROLLUP = ("query($c: String!, $t: DateTime) { gridNode(code: $c) { rollup(asOf: $t) { "
          "households residents byMeasure { measure count } byHealth { health count } } } }")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The API's world plus an empty community 714 (nothing to report: its zero report),
    officials of each community, the district and the city; during the day one resident of
    712 is put under home quarantine; the clock is then 09:00 Beijing the next day."""
    with serve_world(tmp_path_factory.mktemp("api-reports") / "gridcore.sqlite") as w:
        app = w.app
        app.create_node(EMPTY, "714社区", STREET, by=OP)
        for no, node in (("OFF713", OTHER_COMMUNITY), ("OFF714", EMPTY),
                         ("OFFD", DISTRICT), ("OFFC", CITY)):
            app.enrol_staff(no, "干部", Role.OFFICIAL, node, 0, by=OP)
            w.staff[no] = app.staff_by_no(no).id
        app.change_measure(household_id("712-1-0"), resident_id("712-1-0", 1),
                           Measure.HOME_QUARANTINE, by=w.staff["DOC1"], reason="密接")
        w.clock.now = datetime(2020, 2, 18, 1, 0, tzinfo=UTC)
        # after the day's end: not in the day's figures
        app.change_measure(household_id("712-1-1"), resident_id("712-1-1", 1),
                           Measure.HOME_OBSERVATION, by=w.staff["DOC1"], reason="外地返回")
        w.caught_up()
        yield w


def act(w: World, mutation: str, staff_no: str, **values: Any) -> dict[str, Any]:
    data = w.ask(mutation, staff_no, {"i": {"period": DAY.isoformat(), **values}})
    return next(iter(data.values()))


def report(w: World, code: str, staff_no: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = w.ask(READ, staff_no, {"c": code, "p": DAY.isoformat()})[
        "dailyReport"]
    return found


def test_a_daily_report_up_to_the_city_with_a_zero_report(world: World, tmp_path: Path) -> None:
    w = world
    # 712 submits: figures gathered server-side as of the day's end
    out = act(w, SUBMIT, "OFF1", code=COMMUNITY, note="正常",
              filled=[{"name": "物资储备", "text": "充足"}])
    assert out["__typename"] == "DailyReportChanged", out
    first = out["report"]["current"]
    rollup = w.ask(ROLLUP, "OFF1", {"c": COMMUNITY, "t": END.isoformat()})["gridNode"]["rollup"]
    measures = {m["measure"]: m["count"] for m in rollup["byMeasure"]}
    figures = first["figures"]
    assert (figures["households"], figures["residents"]) == (rollup["households"],
                                                           rollup["residents"]) == (6, 12)
    assert figures["homeQuarantine"] == measures["HOME_QUARANTINE"] == 1
    assert figures["homeObservation"] == measures["HOME_OBSERVATION"] == 0  # after the end
    assert first["filled"] == [{"name": "物资储备", "text": "充足"}] and not first["zero"]

    # nobody but the level above reviews it; its submitter's community may not approve
    refused = act(w, APPROVE, "OFF1", code=COMMUNITY)
    assert refused["__typename"] == "NotPermittedProblem", refused
    refused = act(w, SUBMIT, "OFF1", code=COMMUNITY)
    assert refused["__typename"] == "NotPermittedProblem" and "correct" in refused["remedy"].lower()

    # the street returns it with a reason; 712 corrects it: a new version with a reason
    out = act(w, RETURN, "STR1", code=COMMUNITY, reason="物资储备需写明天数")
    assert out["report"]["status"] == "returned"
    assert out["report"]["returns"] == [{"version": 1, "reason": "物资储备需写明天数"}]
    out = act(w, CORRECT, "OFF1", code=COMMUNITY, reason="补写天数", note="正常",
              filled=[{"name": "物资储备", "text": "充足，7天"}])
    assert out["__typename"] == "DailyReportChanged", out
    versions = out["report"]["versions"]
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[0] == first  # the first, as submitted, still answerable
    assert versions[1]["reason"] == "补写天数"
    assert versions[1]["filled"] == [{"name": "物资储备", "text": "充足，7天"}]
    assert versions[1]["figures"] == first["figures"]  # gathered again as of the day's end

    out = act(w, APPROVE, "STR1", code=COMMUNITY)
    assert out["report"]["status"] == "approved" and out["report"]["approvedVersion"] == 2

    # 714: a zero report (零报告); an unmarked all-zero report is refused
    refused = act(w, SUBMIT, "OFF714", code=EMPTY)
    assert refused["__typename"] == "InvalidInputProblem" and "零报告" in refused["remedy"]
    out = act(w, SUBMIT, "OFF714", code=EMPTY, zero=True, note="零报告")
    assert out["report"]["current"]["zero"] is True
    assert act(w, APPROVE, "STR1", code=EMPTY)["report"]["status"] == "approved"

    # completeness: 713 has not reported (overdue from 10:00 Beijing)
    done = w.ask(COMPLETE, "STR1", {"c": STREET, "p": DAY.isoformat()})["reportCompleteness"]
    assert {c["code"]: c["status"] for c in done["children"]} == {
        COMMUNITY: "approved", OTHER_COMMUNITY: "missing", EMPTY: "approved"}
    assert done["reported"] == 2 and done["missing"] == [OTHER_COMMUNITY]
    w.clock.now = datetime(2020, 2, 18, 2, 30, tzinfo=UTC)  # 10:30 Beijing
    assert w.app.tick()["reports"] == 1  # 713 escalated to the street, once
    assert w.app.tick()["reports"] == 0
    done = w.ask(COMPLETE, "STR1", {"c": STREET, "p": DAY.isoformat()})["reportCompleteness"]
    assert {c["code"]: c["status"] for c in done["children"]}[OTHER_COMMUNITY] == "overdue"

    # the street's sum of its approved reports, 713 listed missing; up to the city
    out = act(w, SUBMIT, "STR1", code=STREET, note="街道汇总")
    street = out["report"]["current"]
    assert street["figures"] == first["figures"]  # 712's, plus the zero report's nothing
    assert street["included"] == [{"code": COMMUNITY, "version": 2},
                                  {"code": EMPTY, "version": 1}]
    assert street["missing"] == [OTHER_COMMUNITY]
    assert act(w, APPROVE, "OFFD", code=STREET)["report"]["status"] == "approved"
    assert act(w, SUBMIT, "OFFD", code=DISTRICT)["report"]["current"]["figures"] == \
        first["figures"]
    assert act(w, APPROVE, "OFFC", code=DISTRICT)["report"]["status"] == "approved"
    city = act(w, SUBMIT, "OFFC", code=CITY)["report"]
    assert city["current"]["figures"] == first["figures"] and city["level"] == "city"
    assert act(w, APPROVE, "OFFC", code=CITY)["__typename"] == "NotPermittedProblem"

    # outside the jurisdiction: missing
    assert report(w, COMMUNITY, "OFF714") is None
    assert act(w, APPROVE, "OFF714", code=COMMUNITY)["__typename"] == "NotFoundProblem"
    assert report(w, COMMUNITY, "OFFC")["versions"][0] == first

    # the street's export, in the layout the district receives
    path = tmp_path / "street.xlsx"
    assert write_export(w.app, STREET, DAY, path) == 3
    rows = [list(r) for r in openpyxl.load_workbook(path).active.iter_rows(values_only=True)]
    heading = rows[1]
    col = {name: i for i, name in enumerate(heading)}
    body = {r[1]: r for r in rows[2:-1]}
    assert set(body) == {COMMUNITY, OTHER_COMMUNITY, EMPTY}
    assert body[COMMUNITY][col["状态 status"]] == "已审核 approved"
    assert body[COMMUNITY][col["版本 version"]] == 2
    assert body[COMMUNITY][col["户数 households"]] == 6
    assert body[COMMUNITY][col["居家隔离 home quarantine"]] == 1
    assert body[COMMUNITY][col["物资储备"]] == "充足，7天"
    assert body[EMPTY][col["零报告 zero"]] == "是 yes"
    assert body[EMPTY][col["人数 residents"]] == 0
    assert body[OTHER_COMMUNITY][col["状态 status"]] == "逾期未报 overdue"
    assert body[OTHER_COMMUNITY][col["户数 households"]] in (None, "")
    total = rows[-1]
    assert total[0] == "合计 total" and total[col["户数 households"]] == 6
    assert total[col["备注 note"]] == "街道汇总"
    assert total[col["居家隔离 home quarantine"]] == 1
