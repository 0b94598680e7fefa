"""The intake door for chat check-ins (群内自报): a batch of a micro-grid chat group's messages,
as a chat bot or an export delivers them, each (a) recorded as a chat visit of its household
(``adapters.chat_checkins``), (b) held for the micro-grid's worker with the reason and the text
(``gridcore.chat_review``): unreadable, of no household, or a fever or symptom no member can
be named for (kind ``who``: the worker calls, records the visit and resolves the message), or
(c) set aside as no report (a thank-you, a question, a picture placeholder such as ``[图片]``).
A message of a household with a member under health monitoring (健康监测) carrying a reading,
symptoms or a plain 平安 (``1栋101 张三36.5``, ``1栋101 体温37.9 咳嗽``: a member count is not
needed then) is also that member's monitoring report, by chat and taken when sent
(``adapters.chat_checkins.monitoring_readings``: a finding naming nobody is the only monitored
member's; with several it is held, kind ``who``); with no campaign open it is that alone
(``Fate.MONITORED``, kept as ``Disposition.MONITORED`` so it is taken once).
Taken once per message id: the same batch again is all duplicates and writes nothing.
``take_in`` is handed to the API by the composition root (``adapters.bootstrap.api_app``); the
values it takes and reports are gridcore's.

The export format of ``gridcore checkin FILE`` (``read_export``): JSON lines, one object per
message, ``{"message_id": "...", "sender": "...", "sent_at": "2020-02-17T08:30:00+08:00",
"text": "..."}``; or CSV with the header ``message_id,sender,sent_at,text`` (UTF-8, a BOM
allowed). The bot sends the same four fields through the API (``submitChatMessages``).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from uuid import UUID

import orjson

from adapters.chat_checkins import (
    UnattributedFinding,
    find_household,
    monitored_members,
    monitoring_readings,
    record_parsed,
    record_readings,
)
from adapters.checkin import HINTS, CheckInError, parse_check_in, part_of
from gridcore.application import GridcoreApp
from gridcore.authority import Actor
from gridcore.chat_review import ChatMessage, Disposition, Fate, IntakeReport, MessageOutcome
from gridcore.errors import GridcoreError, InvalidInput, NotFound, NotPermitted

MAX_MESSAGES = 500

_PLACEHOLDER = re.compile(r"(?:\s*\[(?:图片|表情|动画表情|语音|视频|文件|链接|位置|红包|转账|"
                          r"聊天记录|Photo|Image|Sticker|Voice|Video|File|Link)\]\s*)+",
                          re.IGNORECASE)
_REPORT_WORDS = re.compile(r"(?<![+＋])[\d０-９]|[号栋幢室]|单元|"
                           r"[\d０-９一二两三四五六七八九十]\s*[人口]|平安|正常|体温|发热|发烧|咳嗽|乏力|腹泻|访客|亲戚|电话")
_THANKS = re.compile(r"谢谢|感谢|多谢|辛苦|收到|好的|明白|了解|👍|🙏|ok|OK|嗯")
_QUESTION = re.compile(r"[?？]|吗|请问|怎么|什么时候|哪里|能不能|可以不")


def _quote(words: str, longest: int = 60) -> str:
    """``words`` in quotes, shortened, a run of 7 digits or more (a phone, an ID number)
    masked."""
    words = re.sub(r"\d{7,}", lambda m: m[0][:3] + "*" * (len(m[0]) - 3), " ".join(
        words.split()))
    return f"“{words[:longest]}{'…' if len(words) > longest else ''}”"


def not_a_report(text: str) -> tuple[str, str] | None:
    """(kind, reason) when a message is no check-in at all: a picture or other placeholder,
    or words with nothing a report has (no number, no door, no health word): a thank-you, a
    question, a chat. None when it may be a report."""
    if not text.strip() or _PLACEHOLDER.fullmatch(text):
        return "placeholder", f"非自报 not a report: a placeholder {_quote(text)}"
    if _REPORT_WORDS.search(text):
        return None
    kind = "thanks" if _THANKS.search(text) else "question" if _QUESTION.search(text) \
        else "chat"
    what = {"thanks": "a thank-you", "question": "a question", "chat": "no report"}[kind]
    return kind, f"非自报 not a report ({what}): {_quote(text)}"


def unreadable_reason(text: str, e: CheckInError) -> str:
    """Why a report was not understood, quoting its words (the part named, or the message)."""
    hint = HINTS.get(e.part, "")
    if e.place is not None:
        label = {"unknown": "未能识别地名 not a known place",
                 "ambiguous": "地名有歧义 ambiguous place",
                 "overseas": "境外 from abroad, to be checked"}[e.place.why]
        return f"{label}: {_quote(e.place.word)} — {e.problem} {hint}".strip()
    words = part_of(text, e.position)
    quoted = _quote(words) if words else _quote(text)
    return f"未能识别 not understood: {quoted} — {e.problem} {hint}".strip()


def unattributed_reason(e: UnattributedFinding) -> str:
    """Why a report with a fever or symptom no member could be named for is held: what was
    reported of whom, quoting the words (``“老公” 发热 37.9 °C``), and that the worker must find
    who (``adapters.chat_checkins.attribute``)."""
    said = "; ".join(" ".join([*([_quote(f.who)] if f.who else []), "、".join(f.symptoms),
                               *([f"{f.temperature} °C"] if f.temperature else [])])
                     for f in e.findings)
    label = "发热未能对应到人 fever" if e.fever else "症状未能对应到人 symptom" if e.abnormal \
        else "体温未能对应到人 reading" if e.findings else "自报未能对应到人 report"
    whose = f", {e.monitored} under health monitoring" if e.monitored > 1 else ""
    said = f" ({said})" if said else ""
    return (f"{label} reported in a household of {e.members}{whose}{said}: find who (请核实) "
            f"— {e.remedy}")


def take_in(app: GridcoreApp, micro_grid: str, messages: Sequence[ChatMessage], *, by: Actor,
            campaign: UUID | None = None) -> IntakeReport:
    """Take in a batch of ``micro_grid``'s chat messages as ``by`` (the staff member who
    forwards them, ``System.FEED`` for the group's bot, ``System.OPERATOR`` for an export
    loaded at the console). ``campaign``: the campaign the check-ins count for (default: the
    open campaign each household is in). A refusal of the actor refuses the batch; every other
    problem is one message's reason."""
    if len(messages) > MAX_MESSAGES:
        raise InvalidInput(f"A batch of {len(messages)} messages is too large.",
                           f"Send at most {MAX_MESSAGES} at a time.")
    app.node(micro_grid)
    report, seen = IntakeReport(), set()
    for m in messages:
        if m.message_id in seen or app.chat_message_taken(micro_grid, m.message_id):
            report.outcomes.append(MessageOutcome(m.message_id, Fate.DUPLICATE,
                                                  "已收到 taken in before"))
            continue
        seen.add(m.message_id)
        try:
            report.outcomes.append(_take_one(app, micro_grid, m, by, campaign))
        except NotPermitted:
            raise
        except GridcoreError as e:
            report.outcomes.append(MessageOutcome(m.message_id, Fate.REJECTED, str(e)))
    return report


def _take_one(app: GridcoreApp, micro_grid: str, m: ChatMessage, by: Actor,
              campaign: UUID | None) -> MessageOutcome:
    if (aside := not_a_report(m.text)) is not None:
        kind, reason = aside
        return _set_aside(app, micro_grid, m, by, Disposition.IGNORED, kind, reason)
    try:
        ci, uncounted = parse_check_in(m.text), None
    except CheckInError as e:
        if e.part != "members":
            return _set_aside(app, micro_grid, m, by, Disposition.HELD, e.part,
                              unreadable_reason(m.text, e))
        # no member count: no check-in, but a monitored member's daily report (体温37.9)
        ci, uncounted = parse_check_in(m.text, members_required=False), e
    monitoring, stage = 0, "household"
    try:
        h = find_household(app, micro_grid, ci.address)
        monitored = monitored_members(app, h)
        if uncounted is not None and not monitored:
            return _set_aside(app, micro_grid, m, by, Disposition.HELD, uncounted.part,
                              unreadable_reason(m.text, uncounted))
        readings = monitoring_readings(ci, h, monitored, m.sender)
        cid = None if uncounted is not None else campaign or app.open_campaign_of(h.id)
        if cid is None and not readings:
            raise NotFound("The household is in no open campaign.",
                           "Launch the round's campaign, or give the campaign.")
        # the monitoring reports first: a message counts as taken once its visit or its mark
        # is written, and a rerun after a failure in between records each report once
        stage = "monitoring"
        monitoring = record_readings(app, micro_grid, m.message_id, h, readings, m.sent_at,
                                     by)
        stage = "visit"
        if cid is None:
            app.take_chat_message(micro_grid, m.message_id, m.sent_at, Disposition.MONITORED,
                                  "monitoring", "", m.sender, m.text, by=by)
            return MessageOutcome(m.message_id, Fate.MONITORED, _monitored(monitoring),
                                  household_id=h.id, monitoring=monitoring)
        recorded = record_parsed(app, cid, micro_grid, ci, h, by, m.message_id, m.sent_at,
                                 m.sender, monitored)
    except NotPermitted:
        raise
    except UnattributedFinding as e:
        return _set_aside(app, micro_grid, m, by, Disposition.HELD, "who",
                          unattributed_reason(e))
    except GridcoreError as e:
        kind = stage if stage == "monitoring" else \
            "household" if isinstance(e, NotFound | InvalidInput) else "visit"
        done = f" ({_monitored(monitoring)})" if monitoring else ""
        reason = (f"未能记录 not recorded{done}: {_quote(ci.address)} — {e.problem} "
                  f"{e.remedy}")
        return _set_aside(app, micro_grid, m, by, Disposition.HELD, kind, reason.strip())
    return MessageOutcome(m.message_id, Fate.RECORDED,
                          _monitored(monitoring) if monitoring else "",
                          household_id=recorded.household_id, monitoring=monitoring)


def _monitored(n: int) -> str:
    return f"健康监测 {n} monitoring report{'s' if n > 1 else ''} recorded"


def _set_aside(app: GridcoreApp, micro_grid: str, m: ChatMessage, by: Actor,
               disposition: Disposition, kind: str, reason: str) -> MessageOutcome:
    app.take_chat_message(micro_grid, m.message_id, m.sent_at, disposition, kind, reason,
                          m.sender, m.text, by=by)
    fate = Fate.REVIEW if disposition is Disposition.HELD else Fate.IGNORED
    return MessageOutcome(m.message_id, fate, reason)


# ---- the export file ----------------------------------------------------------------------------

FIELDS = ("message_id", "sender", "sent_at", "text")


def _message(row: dict[str, object], where: str) -> ChatMessage:
    missing = [f for f in FIELDS if not isinstance(row.get(f), str) or not row.get(f)]
    if missing:
        raise InvalidInput(f"{where}: {', '.join(missing)} missing.",
                           f"Give {', '.join(FIELDS)} for every message.")
    try:
        sent_at = datetime.fromisoformat(str(row["sent_at"]))
    except ValueError:
        raise InvalidInput(f"{where}: sent_at is not an ISO time.",
                           "Write it as 2020-02-17T08:30:00+08:00.") from None
    if sent_at.tzinfo is None:
        raise InvalidInput(f"{where}: sent_at has no offset.",
                           "Write it as 2020-02-17T08:30:00+08:00.")
    return ChatMessage(str(row["message_id"]), str(row["sender"]), sent_at, str(row["text"]))


def read_export(data: bytes) -> list[ChatMessage]:
    """The messages of an exported chat: JSON lines, or CSV with the header
    ``message_id,sender,sent_at,text`` (see the module's docstring)."""
    text = data.decode("utf-8-sig")
    first = next((line for line in text.splitlines() if line.strip()), "")
    rows: Iterable[tuple[int, dict[str, object]]]
    if first.lstrip().startswith("{"):
        rows = []
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise InvalidInput(f"Line {n} is not JSON.",
                                   "Write one JSON object per line.") from None
            if not isinstance(row, dict):
                raise InvalidInput(f"Line {n} is not a JSON object.",
                                   "Write one JSON object per line.")
            rows.append((n, row))
    else:
        reader = csv.DictReader(io.StringIO(text))
        if tuple(reader.fieldnames or ()) != FIELDS:
            raise InvalidInput("The CSV header is not message_id,sender,sent_at,text.",
                               "Export the chat with those four columns.")
        rows = ((reader.line_num, dict(r)) for r in reader)
    return [_message(row, f"Line {n}") for n, row in rows]
