"""接口推送 a register pushed by another system: ``pushHouseholds``.

Each row carries the sender's own id of the household (``senderId``); it is registered under
the client id ``push:{sender}:{senderId}`` (``gridcore.push_commands``), so the same push
again writes nothing and answers ``UNCHANGED``. A row whose senderId was applied before with
different content answers ``CONFLICT`` with the names of the fields that differ (never their
values) and is not applied: the sender's change is made by the staff (moveHousehold,
addMember...). One malformed row (or one at a micro-grid outside the caller's jurisdiction)
refuses the whole push, naming the row; nothing is written. Officials of the scope (and the
operator) may push; the members are given as ``registerHousehold`` takes them.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import strawberry

from graphql_api.context import Context
from graphql_api.households.register import MemberInput, _member, _personal
from graphql_api.ids import canonical
from graphql_api.pipeline import Call, mask_text, mutation
from graphql_api.problems import InvalidInputProblem, Problem, result
from graphql_api.reach import no_node
from graphql_api.scope import node_visible
from gridcore import errors
from gridcore.app_base import HouseholdRow
from gridcore.push_commands import (
    MAX_PUSH_ROWS,
    MAX_SENDER_ID,
    PushedHousehold,
    PushReport,
)
from gridcore.push_commands import PushOutcome as DomainOutcome

MAX_BATCH_ID = 100

PushOutcome = strawberry.enum(DomainOutcome, name="PushOutcome", description=(
    "What became of a pushed household: CREATED (registered now), UNCHANGED (its senderId "
    "was applied before and the register holds what was sent), CONFLICT (its senderId was "
    "applied before with other content: not applied, `differs` names the fields), REFUSED "
    "(not applied: `reason`)."))


@strawberry.input(name="PushedHousehold", description="A household as the sending system "
                  "holds it, under its own id (senderId).")
class PushedHouseholdInput:
    sender_id: str = strawberry.field(description="The sender's own id of the household: "
                                                  "the same id is applied once.")
    household_no: str
    address: str
    members: list[MemberInput]
    micro_grid_code: str | None = strawberry.field(
        default=None, description="Its micro-grid (default: the push's microGrid).")
    building_id: strawberry.ID | None = None


@strawberry.input
class PushHouseholdsInput:
    sender: str = strawberry.field(description="The sending system (e.g. 市大数据平台), "
                                               "without ':'.")
    batch_id: str = strawberry.field(description="The sender's id of this push (answered "
                                                 "back; each row is applied once by its "
                                                 "senderId whatever the batch).")
    rows: list[PushedHouseholdInput] = strawberry.field(
        description=f"At most {MAX_PUSH_ROWS} households.")
    micro_grid: str | None = strawberry.field(
        default=None, description="The micro-grid of the rows that name none.")


@strawberry.type(description="A pushed household's outcome (its senderId, never its data).")
class PushedRowResult:
    index: int = strawberry.field(description="The row's place in the push, from 1.")
    sender_id: str
    outcome: PushOutcome  # type: ignore[valid-type]
    household_id: strawberry.ID | None
    differs: list[str] = strawberry.field(description="CONFLICT: the fields that differ "
                                                      "from the register (names only).")
    reason: str | None = strawberry.field(description="REFUSED: what was wrong and what "
                                                      "would be right.")


@strawberry.type(description="The push was applied: each row created, unchanged, in conflict "
                             "or refused.")
class HouseholdsPushed:
    sender: str
    batch_id: str
    notification_id: int | None
    created: int
    unchanged: int
    conflicts: int
    refused: int
    rows: list[PushedRowResult]


PushHouseholdsResult = result("PushHouseholdsResult", HouseholdsPushed)


def _malformed(problem: str, remedy: str) -> InvalidInputProblem:
    return InvalidInputProblem(code=errors.InvalidInput.code, problem=problem, remedy=remedy)


def _rows(i: PushHouseholdsInput) -> Any:
    """The rows as the domain takes them, each micro-grid in the caller's jurisdiction, or
    the problem of the first bad row (the whole push is refused)."""
    async def reach(ctx: Context) -> list[PushedHousehold] | Problem:
        if not 1 <= len(i.batch_id.strip()) <= MAX_BATCH_ID:
            return _malformed(f"batchId must be 1-{MAX_BATCH_ID} characters.",
                              "Give the sender's id of this push.")
        if len(i.rows) > MAX_PUSH_ROWS:
            return _malformed(f"A push of {len(i.rows)} households is too large.",
                              f"Push at most {MAX_PUSH_ROWS} per batch.")
        out: list[PushedHousehold] = []
        seen: dict[str, bool] = {}
        for n, r in enumerate(i.rows, start=1):
            where = f"Row {n}"
            grid = (r.micro_grid_code or i.micro_grid or "").strip()
            if not grid:
                return _malformed(f"{where}: microGridCode is missing.",
                                  "Give the row's micro-grid, or the push's microGrid.")
            if grid not in seen:
                seen[grid] = await node_visible(ctx, grid)
            if not seen[grid]:
                p = no_node(grid)
                return type(p)(code=p.code, problem=f"{where}: {p.problem}", remedy=p.remedy)
            building = None
            if r.building_id is not None:
                key = canonical(str(r.building_id))
                if key is None:
                    return _malformed(f"{where}: buildingId is not an id.",
                                      "Give a building's id (registerBuilding).")
                building = UUID(key)
            if not 1 <= len(r.sender_id.strip()) <= MAX_SENDER_ID:
                return _malformed(f"{where}: senderId must be 1-{MAX_SENDER_ID} characters.",
                                  "Give the sending system's own id of the household.")
            members = []
            for k, m in enumerate(r.members, start=1):
                try:
                    members.append(_member(r.household_no, m.member_no or k, m))
                except errors.GridcoreError as e:
                    return _malformed(f"{where}, members[{k}]: {e.problem}", e.remedy)
            out.append(PushedHousehold(r.sender_id, HouseholdRow(
                r.household_no, grid, r.address, members, building)))
        return out
    return reach


def _personal_values(i: PushHouseholdsInput) -> list[str | None]:
    return [v for r in i.rows for v in (r.address, *(x for m in r.members
                                                        for x in _personal(m)))]


def _masked(text: str | None, personal: list[str | None]) -> str | None:
    if text is None:
        return None
    for value in sorted((v.strip() for v in personal if v and len(v.strip()) >= 2), key=len,
                        reverse=True):
        text = text.replace(value, mask_text(value))
    return text


def _pushed(c: Call, report: PushReport) -> HouseholdsPushed:
    i: PushHouseholdsInput = c.input
    personal = _personal_values(i)
    return HouseholdsPushed(
        sender=i.sender.strip(), batch_id=i.batch_id.strip(),
        notification_id=report.notification_id,
        created=report.count(DomainOutcome.CREATED),
        unchanged=report.count(DomainOutcome.UNCHANGED),
        conflicts=report.count(DomainOutcome.CONFLICT),
        refused=report.count(DomainOutcome.REFUSED),
        rows=[PushedRowResult(index=r.index, sender_id=r.sender_id, outcome=r.outcome,
                              household_id=strawberry.ID(str(r.household_id))
                              if r.household_id else None,
                              differs=r.differs, reason=_masked(r.reason, personal))
              for r in report.rows])


@strawberry.type
class PushMutation:
    push_households = mutation(
        "接口推送 apply a register pushed by another system (officials of the scope): each "
        "household once by the sender's id (senderId); the same push again writes nothing "
        "(UNCHANGED), a senderId applied before with other content is a CONFLICT naming the "
        "fields (not applied); one malformed row refuses the whole push, naming the row.",
        PushHouseholdsInput,
        lambda c, i: c.app.push_households(i.sender, c.target, by=c.by),
        result=PushHouseholdsResult, success=_pushed, on=lambda i: [_rows(i)],
        personal=_personal_values)
