"""Assistance lists (协查名单): receive a list pushed by a municipal or provincial system (rows
inline; every person matched to the register or routed by address, in one save; one unreadable
row refuses the whole list, naming the row), and the community's report or forwarding of a
listed person. Each acts as the signed-in staff member on a node or a person of their
jurisdiction (one elsewhere is answered as if it did not exist), is applied once per
``clientId``, and answers as the assistance board read model shows it, or typed problems. Who
may do what is the domain's rule (``gridcore.authority``: city and district officials receive
a list; the community's staff who locate people report and forward)."""

from __future__ import annotations

import asyncio
from typing import Any

import strawberry

from graphql_api.assistance.types import (
    AssistanceList,
    AssistanceOutcome,
    AssistanceRowInput,
    AssistanceSource,
    ListedPerson,
    load_lists,
)
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import not_found, result
from graphql_api.reach import located, nodes
from gridcore import errors
from gridcore.assistance import AssistanceRow, assistance_list_id
from gridcore.assistance_commands import AssistanceReceipt
from gridcore.push_commands import check_sender
from projections import assistance_board as ab


@strawberry.type(description="The list was received (or had been, under this clientId): how "
                             "many persons, matched in the register, routed to a community by "
                             "address, and left at a district or the scope (无法落地).")
class AssistanceListReceived:
    notification_id: int | None
    list_id: strawberry.ID
    items: int
    matched: int
    routed: int
    unrouted: int
    list: AssistanceList | None


ReceiveResult = result("ReceiveAssistanceListResult", AssistanceListReceived)


@strawberry.type(description="The person as the assistance board shows them after the change.")
class AssistanceItemUpdated:
    notification_id: int | None
    item: ListedPerson | None


ItemResult = result("AssistanceItemResult", AssistanceItemUpdated)


@strawberry.input(description="协查名单 a list pushed by a system (接口): its persons inline, "
                              "received for the city or a district of your jurisdiction.")
class ReceiveAssistanceListInput:
    source: AssistanceSource
    source_name: str = strawberry.field(default="", description="The sender, e.g. 湖北省大数据"
                                                                "平台 (default: the source's "
                                                                "label).")
    reference: str = strawberry.field(description="The sender's reference (协查函编号), used "
                                                  "once.")
    scope: str = strawberry.field(description="The city or district receiving it.")
    rows: list[AssistanceRowInput]
    client_id: ClientId = None
    sender: str | None = strawberry.field(
        default=None, description="The sending system (without ':'); with senderListId the "
                                  "list is applied once however often it is pushed "
                                  "(answered with the list received).")
    sender_list_id: str | None = strawberry.field(
        default=None, description="The sender's own id of this list (with sender).")


@strawberry.input(description="核查结果 report a listed person: found (with the measure taken), "
                              "not found, or wrong data.")
class ReportAssistanceItemInput:
    reference: str
    item_no: int
    outcome: AssistanceOutcome
    measure: str | None = strawberry.field(default=None, description="采取措施 for a person "
                                                                     "found, e.g. 居家隔离14天.")
    note: str | None = None
    client_id: ClientId = None


@strawberry.input(description="已迁出 forward a listed person who moved away: to the community "
                              "(or micro-grid) of the city that must locate them now, or to "
                              "another city (named); a district routes a person it could not "
                              "route the same way.")
class ForwardAssistanceItemInput:
    reference: str
    item_no: int
    to_community: str | None = None
    to_city: str | None = None
    note: str | None = None
    client_id: ClientId = None


def listed(reference: str, no: int) -> Reach:
    """A listed person to be located in the caller's jurisdiction, as their list's id."""
    def place(ctx: Any, key: str) -> Any:
        def read() -> str | None:
            try:
                return ctx.app.assistance_list(key).item(no).place  # type: ignore[no-any-return]
            except errors.GridcoreError:
                return None
        return asyncio.to_thread(read)
    return located(reference, not_found(
        f"No person {no} on a list {reference.strip()[:60]}.",
        "Check the list's reference and the person's number (assistanceList)."),
        place, key=lambda r: r.strip() or None, as_id=assistance_list_id)


def list_client_id(i: ReceiveAssistanceListInput) -> str | None:
    """The client id a list is received under: the sender's list id when the sender gives
    one (``pushlist:{sender}:{senderListId}``), else the input's clientId."""
    if i.sender is None and i.sender_list_id is None:
        return i.client_id
    if not i.sender or not i.sender_list_id or not 1 <= len(i.sender_list_id.strip()) <= 100:
        raise errors.InvalidInput("sender and senderListId (1-100 characters) go together.",
                                  "Give both, or neither (then clientId makes a retry safe).")
    return f"pushlist:{check_sender(i.sender)}:{i.sender_list_id.strip()}"


def _rows(i: ReceiveAssistanceListInput) -> list[AssistanceRow]:
    return [AssistanceRow(name=r.name, phone=r.phone, id_number=r.id_number, address=r.address,
                          district=r.district, reason=r.reason, row=r.row) for r in i.rows]


def _personal(i: ReceiveAssistanceListInput) -> list[str | None]:
    return [v for r in i.rows for v in (r.name, r.phone, r.id_number, r.address, r.reason)]


async def _received(c: Call, done: AssistanceReceipt) -> AssistanceListReceived:
    row = await asyncio.to_thread(ab.list_by_reference, c.ctx.views, c.input.reference)
    return AssistanceListReceived(
        notification_id=done.notification_id, list_id=strawberry.ID(str(done.list_id)),
        items=done.items, matched=done.matched, routed=done.routed, unrouted=done.unrouted,
        list=AssistanceList.from_row(row, None) if row is not None else None)


async def _item(c: Call, nid: int | None) -> AssistanceItemUpdated:
    """The person as the read model shows them now, with what the list says of them (read
    off the loop)."""
    list_id, no = str(c.target), int(c.input.item_no)
    rows = [r for r in await asyncio.to_thread(ab.items_of_list, c.ctx.views, list_id,
                                               c.app.clock()) if r.no == no]
    found = await load_lists(c.ctx, [list_id]) if rows else {}
    return AssistanceItemUpdated(notification_id=nid,
                                 item=ListedPerson.from_row(rows[0], found) if rows else None)


@strawberry.type
class AssistanceMutation:
    receive_assistance_list = mutation(
        "协查名单 receive a list pushed by a system (接口) for the city or a district of your "
        "jurisdiction (city and district officials): every person matched to the register or "
        "routed by address to the community that must locate them, each with the policy's "
        "deadline; one unreadable row refuses the whole list, naming the row.",
        ReceiveAssistanceListInput,
        lambda c, i: c.app.receive_assistance_list(
            i.source.value, i.reference, _rows(i), c.target, by=c.by,
            source_name=i.source_name, list_format="api", client_id=list_client_id(i)),
        result=ReceiveResult, success=_received, on=lambda i: [nodes(i.scope)],
        personal=_personal)

    report_assistance_item = mutation(
        "核查结果 report a listed person of your jurisdiction: found (with the measure taken), "
        "not found (查无此人) or wrong data (信息有误).", ReportAssistanceItemInput,
        lambda c, i: c.app.report_assistance_item(
            c.target, i.item_no, i.outcome.value, by=c.by, measure=i.measure, note=i.note,
            client_id=i.client_id),
        result=ItemResult, success=_item, on=lambda i: [listed(i.reference, i.item_no)],
        personal=lambda i: [i.note])

    forward_assistance_item = mutation(
        "已迁出 forward a listed person of your jurisdiction who moved away: to the community "
        "that must locate them now (pending there with a new deadline), or to another city.",
        ForwardAssistanceItemInput,
        lambda c, i: c.app.forward_assistance_item(
            c.target, i.item_no, by=c.by, to_community=i.to_community, to_city=i.to_city,
            note=i.note, client_id=i.client_id),
        result=ItemResult, success=_item, on=lambda i: [listed(i.reference, i.item_no)],
        personal=lambda i: [i.note])
