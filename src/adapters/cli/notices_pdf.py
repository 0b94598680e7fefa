"""告知书 notices in bulk: a 居家隔离告知书 (home-quarantine notice) or 居家观察告知书
(home-observation notice) for every resident under the measure in a scope, one A4 page each,
as one PDF (a bundle to print) and/or a ZIP of one PDF per household.

A notice carries the resident's name and the household's address, so only a reader whose role
sees both whole may print (``graphql_api.privacy``: ``Resident.name`` and ``Household.address``,
``NAME_ROLES`` ∩ ``PLACE_ROLES``), within their jurisdiction; every notice is an unmasked read,
written to the API's audit log as the API writes it (one ``Resident.name`` and one
``Household.address`` line per notice, a ``StaffMember.phone`` line when the micro-grid's
responsible worker's phone is printed, a ``Household.householdNo`` line per household file of
the ZIP, which is named by it). Erased residents get no notice (their name is gone).

The text is set in Noto Sans SC (SIL Open Font License 1.1), shipped by the PyPI package
``pylopdf-fonts-zh-cn`` (not a system font), embedded as a subset of the glyphs used, with a
ToUnicode map, so any viewer shows and any extractor reads the Chinese text back.

Households are read one at a time (micro-grid by micro-grid) and each household's pages are
written as they come: the ZIP keeps one household in memory at a time; the bundle's pages are
kept by the PDF library until it is written (a few KB a page, compressed).

It lives with the command line (``adapters/cli/``) because it reads through the API's privacy
rules and audit log, which only the entry points and the composition root may import.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID

from gridcore.errors import GridcoreError, InvalidInput, NotPermitted
from gridcore.grid import Level
from gridcore.status import Measure

if TYPE_CHECKING:
    from fpdf import FPDF

    from graphql_api.auth import Caller
    from graphql_api.privacy import AuditLog
    from gridcore.application import GridcoreApp
    from gridcore.household import Household

BEIJING = timezone(timedelta(hours=8))
"""Dates on a notice are Beijing dates (UTC+8)."""

NOTICE_MEASURES = {
    Measure.HOME_QUARANTINE: ("居家隔离告知书", "居家隔离"),
    Measure.HOME_OBSERVATION: ("居家观察告知书", "居家观察"),
}
"""The measures a notice is printed for -> (the notice's title, the measure as it reads)."""

CN_COUNT = {1: "一", 2: "两", 3: "三", 4: "四", 5: "五", 6: "六"}

FONT_NAME = "notosanssc"


def font_path() -> Path:
    """The packaged CJK font (Noto Sans SC Regular, OFL 1.1)."""
    import pylopdf_fonts_zh_cn

    return Path(pylopdf_fonts_zh_cn.sans_path())


def may_print(caller: Caller) -> bool:
    """Whether ``caller``'s role sees both a resident's name and an address whole."""
    from graphql_api.privacy import may_see

    return may_see(caller, "Resident.name") and may_see(caller, "Household.address")


def printing_roles() -> list[str]:
    from graphql_api.privacy import SEES

    return sorted(r.value for r in SEES["Resident.name"] & SEES["Household.address"])


def check_notice_measure(measure: Measure) -> None:
    if measure not in NOTICE_MEASURES:
        raise InvalidInput(
            f"There is no notice for {measure.value} ({measure.label}).",
            "Give --measure home_quarantine (居家隔离) or home_observation (居家观察).")


@dataclass(frozen=True)
class Notice:
    """What one page says (the personal values already read as the reader may see them)."""

    resident_id: UUID
    household_id: UUID
    name: str
    address: str
    measure: Measure
    since: date | None
    until: date | None
    report_times: tuple[str, ...]
    community: str
    worker: str | None
    worker_phone: str | None
    issued: date


@dataclass
class Counts:
    """What a run produced."""

    residents: int = 0
    households: int = 0
    pages: int = 0
    bytes: int = 0
    files: list[tuple[Path, int]] = field(default_factory=list)
    """Each file written, with its size in bytes."""


class NoticeReader:
    """Reads, for an authorised reader, the notices of a scope household by household,
    writing each unmasked value to the audit log as it is read."""

    def __init__(self, app: GridcoreApp, caller: Caller, audit: AuditLog) -> None:
        self.app, self.caller, self.audit = app, caller, audit
        self._community: dict[str, str] = {}
        self._worker: dict[str, tuple[UUID, str, object] | None] = {}

    def check(self, scope: str, measure: Measure) -> None:
        """Refuse before anything is read or written: a measure with no notice, a node
        outside the reader's jurisdiction, a role that may not see names and addresses."""
        from graphql_api.scope import inside

        check_notice_measure(measure)
        if not may_print(self.caller):
            raise NotPermitted(
                f"A {self.caller.role.value} may not print notices: a notice carries the "
                "resident's name and address, which the role sees masked.",
                "Print as a staff member of a role that sees both (" +
                ", ".join(printing_roles()) + ").")
        self.app.node(scope)
        if not inside(self.caller.jurisdictions, self.app.ancestry(scope)):
            raise GridcoreError(f"Node {scope} lies outside your jurisdiction.",
                                "Give a node of your jurisdiction.")

    def household_ids(self, scope: str) -> list[UUID]:
        return [h for g in self.app.micro_grids(scope) for h in g.households]

    def _community_of(self, micro_grid: str) -> str:
        if micro_grid not in self._community:
            name = micro_grid
            for code in self.app.ancestry(micro_grid):
                node = self.app.node(code)
                if node.level is Level.COMMUNITY:
                    name = node.name
                    break
            self._community[micro_grid] = name
        return self._community[micro_grid]

    def _worker_of(self, micro_grid: str) -> tuple[UUID, str, object] | None:
        if micro_grid not in self._worker:
            sid = self.app.node(micro_grid).responsible_worker
            found: tuple[UUID, str, object] | None = None
            if sid is not None:
                try:
                    s = self.app.staff(sid)
                except GridcoreError:
                    s = None
                if s is not None and s.active and not s.identity.erased and s.identity.name:
                    found = (sid, s.identity.name, s.identity.phone)
            self._worker[micro_grid] = found
        return self._worker[micro_grid]

    def notices_of(self, h: Household, measure: Measure, now: datetime) -> list[Notice]:
        from graphql_api.privacy import personal_for, phone_for

        policy = self.app.policy_at(now)
        under = [r for r in h.residents.values() if r.measure is measure and not r.erased]
        out = []
        for r in sorted(under, key=lambda r: str(r.resident_id)):
            name = personal_for(self.caller, self.audit, r.identity.name, "Resident.name",
                                str(r.resident_id), erased=r.erased) or "—"
            address = personal_for(self.caller, self.audit, h.address.text, "Household.address",
                                   str(h.id), erased=h.address.erased) or "—"
            worker = self._worker_of(h.micro_grid)
            phone = None
            if worker is not None and worker[2] is not None:
                phone = phone_for(self.caller, self.audit, worker[2],  # type: ignore[arg-type]
                                  "StaffMember.phone", str(worker[0]))
            ends = h.measure_ends(r.resident_id, policy)
            out.append(Notice(
                resident_id=r.resident_id, household_id=h.id, name=name, address=address,
                measure=measure,
                since=r.measure_since.astimezone(BEIJING).date() if r.measure_since else None,
                until=ends.astimezone(BEIJING).date() if ends else None,
                report_times=tuple(str(t) for t in policy.monitoring_report_times),
                community=self._community_of(h.micro_grid),
                worker=worker[1] if worker else None, worker_phone=phone,
                issued=now.astimezone(BEIJING).date()))
        return out

    def households(self, scope: str) -> Iterator[Household]:
        """The households of the scope, read one at a time."""
        for hid in self.household_ids(scope):
            try:
                yield self.app.household(hid)
            except GridcoreError:
                continue


def _cn_date(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d is not None else "____年__月__日"


def new_pdf() -> FPDF:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_margins(22, 22, 22)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_font(FONT_NAME, fname=str(font_path()))
    pdf.set_title("居家隔离/观察告知书 notices")
    pdf.set_creator("gridcore")
    return pdf


def render(pdf: FPDF, n: Notice) -> None:
    """One notice on a page of its own."""
    title, label = NOTICE_MEASURES[n.measure]
    pdf.add_page()
    pdf.set_font(FONT_NAME, size=22)
    pdf.cell(0, 16, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT_NAME, size=13)
    w = pdf.epw
    pdf.multi_cell(w, 9, f"{n.name}：", new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(w, 9, f"住址：{n.address}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    period = f"自{_cn_date(n.since)}起至{_cn_date(n.until)}止"
    pdf.multi_cell(w, 9, f"　　根据疫情防控工作要求，您须接受{label}，{period}。"
                         "期间请遵守以下规定：", new_x="LMARGIN", new_y="NEXT")
    times = "、".join(n.report_times)
    count = CN_COUNT.get(len(n.report_times), str(len(n.report_times)))
    rules = [
        "足不出户，不得外出，谢绝访客；生活物资由社区协助配送。" if n.measure is
        Measure.HOME_QUARANTINE else "尽量减少外出，不参加聚集活动，外出须佩戴口罩。",
        f"每日{count}次测温上报（{times}），如实报告体温和症状。",
        "如有发热、咳嗽、乏力等症状，请及时报告社区，不得自行就医。",
        "期满经社区确认后解除，解除前请勿擅自离开。",
    ]
    for i, rule in enumerate(rules, start=1):
        pdf.multi_cell(w, 9, f"　　{i}. {rule}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    contact = f"联系人：{n.worker}" if n.worker else "联系人：社区办公室"
    if n.worker_phone:
        contact += f"　电话：{n.worker_phone}"
    pdf.multi_cell(w, 9, f"{n.community}　{contact}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(16)
    pdf.multi_cell(w, 9, f"{n.community}居民委员会（盖章）", align="R",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(w, 9, _cn_date(n.issued), align="R", new_x="LMARGIN", new_y="NEXT")


def _atomic(target: Path, write: Callable[[Path], None]) -> int:
    """Write ``target`` through a temporary file beside it (nothing half-written is left)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target.stat().st_size


def print_notices(reader: NoticeReader, scope: str, measure: Measure, now: datetime, *,
                  out: Path | None = None, per_household: Path | None = None,
                  on_household: Callable[[Counts], None] | None = None) -> Counts:
    """Write the notices of ``scope`` for ``measure``: a bundle PDF at ``out`` and/or a ZIP
    of one PDF per household at ``per_household``; ``on_household`` is called after each
    household read (a progress bar). Refused (``NoticeReader.check``) before anything is
    read or written."""
    if out is None and per_household is None:
        raise InvalidInput("Nowhere to write the notices.",
                           "Give --out FILE.pdf, --per-household FILE.zip, or both.")
    reader.check(scope, measure)
    counts = Counts()
    bundle = new_pdf() if out is not None else None
    zip_tmp: Path | None = None
    archive: zipfile.ZipFile | None = None
    if per_household is not None:
        per_household.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=per_household.parent,
                                    prefix=f".{per_household.name}.", suffix=".part")
        os.close(fd)
        zip_tmp = Path(name)
        archive = zipfile.ZipFile(zip_tmp, "w", zipfile.ZIP_STORED)
    from graphql_api.privacy import personal_for

    try:
        for h in reader.households(scope):
            notices = reader.notices_of(h, measure, now)
            if notices:
                counts.households += 1
                counts.residents += len(notices)
                counts.pages += len(notices)
                if bundle is not None:
                    for n in notices:
                        render(bundle, n)
                if archive is not None:
                    own = new_pdf()
                    for n in notices:
                        render(own, n)
                    no = personal_for(reader.caller, reader.audit, h.household_no,
                                      "Household.householdNo", str(h.id)) or str(h.id)
                    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in no)
                    archive.writestr(f"{safe}.pdf", bytes(own.output()))
            if on_household is not None:
                on_household(counts)
        if counts.pages == 0:
            return counts  # nothing to print: no file is written
        if archive is not None and zip_tmp is not None and per_household is not None:
            archive.close()
            archive = None
            os.replace(zip_tmp, per_household)
            size = per_household.stat().st_size
            counts.bytes += size
            counts.files.append((per_household, size))
        if bundle is not None and out is not None:
            b = bundle
            size = _atomic(out, lambda p: b.output(str(p)))
            counts.bytes += size
            counts.files.append((out, size))
    finally:
        if archive is not None:
            archive.close()
        if zip_tmp is not None and zip_tmp.exists():
            zip_tmp.unlink()
    return counts
