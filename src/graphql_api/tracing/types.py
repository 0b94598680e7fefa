"""Contact tracing (流调): cases with their contacts by generation and their chain, and the
contacts under follow-up per grid node, from the contact follow-up read model
(``projections.contact_followup``: ids and statuses only). Names and the rest of what is known
of a person are opened at read time and masked by role (``graphql_api.privacy``): a contact
matched to a resident reads as the resident (``Resident.*``), a person outside the register
as a traced person (``TracedPerson.*``: whole for those who trace contacts, audited)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.types import Info

from graphql_api.context import Context
from graphql_api.enums import Measure, TagKind, _mirrors
from graphql_api.households.types import AtHousehold
from graphql_api.privacy import personal_for
from graphql_api.scope import node_visible
from gridcore import status, tracing
from gridcore.tracing import TracedIdentity
from projections import contact_followup


@strawberry.enum(description="病例状态 a case's status")
class CaseStatus(Enum):
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    RULED_OUT = "ruled_out"


@strawberry.enum(description="暴露场所 where an exposure happened")
class ExposureSetting(Enum):
    HOUSEHOLD = "household"
    WORKPLACE = "workplace"
    GATHERING = "gathering"
    TRANSPORT = "transport"


@strawberry.enum(description="接触程度 how close an exposure was")
class Closeness(Enum):
    SHARED_LIVING = "shared_living"
    FACE_TO_FACE = "face_to_face"
    SAME_SPACE = "same_space"


@strawberry.enum(description="随访状态 a contact's follow-up at the time asked: under "
                             "follow-up, its measure ended, or released (its index ruled out)")
class FollowUpStatus(Enum):
    FOLLOWING = "following"
    ENDED = "ended"
    RELEASED = "released"


for _copy, _source in ((CaseStatus, tracing.CaseStatus), (ExposureSetting, tracing.Setting),
                       (Closeness, tracing.Closeness)):
    _mirrors(_copy, _source)


async def kept_case(ctx: Context, case_id: str) -> tracing.Case | None:
    """The case aggregate, read from the event store off the loop once per request (the
    request's ``case_kept`` loader); None when there is no such case."""
    found: tracing.Case | None = await ctx.loaders.case_kept.load(case_id)
    return found


async def kept_contact(ctx: Context, case_id: str, person_id: str) -> tracing.Contact | None:
    case = await kept_case(ctx, case_id)
    return None if case is None else case.contacts.get(UUID(person_id))


async def traced_identity(ctx: Context, case_id: str, person_id: str) -> TracedIdentity | None:
    """What the case knows of a traced person (the index when ``person_id`` is the index's);
    None when nothing is known."""
    case = await kept_case(ctx, case_id)
    if case is None:
        return None
    if str(case.index_person_id) == person_id:
        return case.index_identity
    found = case.contacts.get(UUID(person_id))
    return found.identity if found else None


async def person_field(info: Info[Context, None], case_id: str, person_id: str,
                       household_id: str | None, resident_id: str | None,
                       name: str) -> str | None:
    """A person's ``name`` (``name``, ``phone``, ``idNumber``, ``address``) as the caller may
    see it: a resident's from the register, else what the case knows of them."""
    ctx = info.context
    if ctx.caller is None:
        return None
    if household_id is not None and resident_id is not None:
        if name == "address":
            return None  # a resident's address is the household's (household.address)
        identities = await ctx.loaders.identities.load(household_id)
        identity = identities.get(resident_id)
        if identity is None:
            return None
        field = {"name": "Resident.name", "phone": "Resident.phone",
                 "idNumber": "Resident.idNumber"}[name]
        value = {"name": identity.name, "phone": identity.phone,
                 "idNumber": identity.id_number}[name]
        return personal_for(ctx.caller, ctx.audit, value, field, resident_id,
                            erased=bool(identity.erased))
    known = await traced_identity(ctx, case_id, person_id)
    if known is None:
        return None
    value = {"name": known.name, "phone": known.phone, "idNumber": known.id_number,
             "address": known.address}[name]
    return personal_for(ctx.caller, ctx.audit, value, f"TracedPerson.{name}", person_id,
                        erased=known.erased)


PERSON_NOTE = ("a resident's as the register has it (whole for roles that deal with residents "
               "as people, audited; masked for others), else what the investigation found "
               "(whole for those who trace contacts: family doctors, community police, "
               "officials, audited; masked for others); '已删除 erased' once erased")


@strawberry.type(description="密接/次密接 a contact of a case as it was at the time asked: where "
                             "it is followed up, its generation, measure and end date.")
class TracedContact(AtHousehold):
    person_id: strawberry.ID
    case_id: strawberry.ID
    case_no: str
    grid_code: str = strawberry.field(description="Where it is followed up: its household's "
                                                  "micro-grid, or the case's node while it is "
                                                  "to be located.")
    generation: int = strawberry.field(description="1: exposed to the index (密接); 2: to a "
                                                   "close contact (次密接).")
    kind: TagKind = strawberry.field(description="close_contact or secondary_contact (a "
                                                 "secondary contact promoted is close).")
    kind_label: str
    measure: Measure
    measure_label: str
    until: datetime = strawberry.field(description="When the measure ends (from the last "
                                                   "exposure, for the policy's length).")
    last_exposure: datetime
    status: FollowUpStatus
    to_locate: bool = strawberry.field(description="待落地排查 outside the register, not "
                                                   "matched yet.")
    resident_id: strawberry.ID | None
    became_case_id: strawberry.ID | None
    household_id: strawberry.Private[str | None]

    @classmethod
    def from_row(cls, r: contact_followup.FollowUpRow) -> TracedContact:
        return cls(person_id=strawberry.ID(r.person_id), case_id=strawberry.ID(r.case_id),
                   case_no=r.case_no, grid_code=r.grid, generation=r.generation,
                   kind=TagKind(r.kind), kind_label=status.TagKind(r.kind).label,
                   measure=Measure(r.measure), measure_label=status.Measure(r.measure).label,
                   until=r.until, last_exposure=r.last_exposure,
                   status=FollowUpStatus(r.status), to_locate=r.to_locate,
                   resident_id=strawberry.ID(r.resident_id) if r.resident_id else None,
                   became_case_id=strawberry.ID(r.became_case) if r.became_case else None,
                   household_id=r.household_id)

    @strawberry.field(description=f"姓名 the name: {PERSON_NOTE}.")
    async def name(self, info: Info[Context, None]) -> str | None:
        return await person_field(info, str(self.case_id), str(self.person_id),
                                  self.household_id, _opt(self.resident_id), "name")

    @strawberry.field(description=f"手机号 the phone: {PERSON_NOTE}.")
    async def phone(self, info: Info[Context, None]) -> str | None:
        return await person_field(info, str(self.case_id), str(self.person_id),
                                  self.household_id, _opt(self.resident_id), "phone")

    @strawberry.field(description=f"身份证号 the ID number: {PERSON_NOTE}.")
    async def id_number(self, info: Info[Context, None]) -> str | None:
        return await person_field(info, str(self.case_id), str(self.person_id),
                                  self.household_id, _opt(self.resident_id), "idNumber")

    @strawberry.field(description="链 the contact this one was exposed to: a close contact's "
                                  "person id for a secondary contact (次密接); null for a "
                                  "contact exposed to the index.")
    async def via_person_id(self, info: Info[Context, None]) -> strawberry.ID | None:
        found = await kept_contact(info.context, str(self.case_id), str(self.person_id))
        return None if found is None or found.via is None else strawberry.ID(str(found.via))

    @strawberry.field(description="待确认匹配 whether an uncertain match to a resident is "
                                  "proposed and waits for a person to confirm or reject it.")
    async def match_proposed(self, info: Info[Context, None]) -> bool:
        found = await kept_contact(info.context, str(self.case_id), str(self.person_id))
        return found is not None and found.proposal is not None

    @strawberry.field(description="The address the investigation found for a person outside "
                                  "the register (whole for those who trace contacts, audited; "
                                  "'****' for others); null for a resident (see address).")
    async def found_address(self, info: Info[Context, None]) -> str | None:
        return await person_field(info, str(self.case_id), str(self.person_id),
                                  self.household_id, _opt(self.resident_id), "address")


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


@strawberry.type(description="链 a case of the chain around a case: generation relative to it "
                             "(negative: the cases it came from; positive: the cases its "
                             "contacts became).")
class ChainLink:
    case_id: strawberry.ID
    case_no: str
    generation: int
    status: CaseStatus


@strawberry.type(description="病例 an index case as it was at the time asked, with its contacts "
                             "per generation and its cluster (cases connected through the "
                             "cases they came from).")
class TracingCase:
    id: strawberry.ID
    case_no: str
    scope_code: str = strawberry.field(description="The grid node that follows it up.")
    status: CaseStatus
    status_label: str
    source_case_id: strawberry.ID | None
    root_case_id: strawberry.ID = strawberry.field(description="The first case of its cluster.")
    opened_at: datetime
    close_contacts: int = strawberry.field(description="Contacts of generation 1 (密接).")
    secondary_contacts: int = strawberry.field(description="Contacts of generation 2 (次密接).")
    following: int = strawberry.field(description="Contacts under follow-up then.")
    cluster_cases: int
    cluster_size: int = strawberry.field(description="People of the cluster: each case's index "
                                                     "and each contact that did not become a "
                                                     "case.")
    as_of: strawberry.Private[datetime | None] = None

    @classmethod
    def from_row(cls, r: contact_followup.CaseRow, as_of: datetime | None) -> TracingCase:
        return cls(id=strawberry.ID(r.case_id), case_no=r.case_no, scope_code=r.scope,
                   status=CaseStatus(r.status),
                   status_label=tracing.CaseStatus(r.status).label,
                   source_case_id=strawberry.ID(r.source_case_id) if r.source_case_id else None,
                   root_case_id=strawberry.ID(r.root_case_id), opened_at=r.opened_at,
                   close_contacts=r.close, secondary_contacts=r.secondary,
                   following=r.following, cluster_cases=r.cluster_cases,
                   cluster_size=r.cluster_size, as_of=as_of)

    @strawberry.field(description="Its contacts then (every status), by generation; only "
                                  "those of one generation when given.")
    async def contacts(self, info: Info[Context, None],
                       generation: int | None = None) -> list[TracedContact]:
        ctx = info.context
        rows = await asyncio.to_thread(contact_followup.contacts_of_case, ctx.views,
                                       str(self.id), ctx.app.clock(), self.as_of)
        return [TracedContact.from_row(r) for r in rows
                if generation is None or r.generation == generation]

    @strawberry.field(description="指示病例 the index's name: " + PERSON_NOTE + ".")
    async def index_name(self, info: Info[Context, None]) -> str | None:
        ctx = info.context
        if ctx.caller is None:
            return None
        case = await kept_case(ctx, str(self.id))
        if case is None:
            return None
        return await person_field(info, str(self.id), str(case.index_person_id),
                                  _opt(case.index_household_id),
                                  _opt(case.index_resident_id), "name")

    @strawberry.field(description="链 the chain around the case by generation, now: the cases "
                                  "it came from, itself (0), and the cases its contacts became "
                                  "(those of your jurisdiction).")
    async def chain(self, info: Info[Context, None]) -> list[ChainLink]:
        ctx = info.context
        links = await asyncio.to_thread(ctx.app.chain, UUID(str(self.id)))
        out = []
        for link in links:
            found = await kept_case(ctx, str(link.case_id))
            if found is not None and await node_visible(ctx, found.scope):
                out.append(ChainLink(case_id=strawberry.ID(str(link.case_id)),
                                     case_no=link.case_no, generation=link.generation,
                                     status=CaseStatus(link.status)))
        return out


@strawberry.type(description="A grid node's contacts under follow-up at the time asked, its "
                             "own and its subtree's.")
class NodeFollowUp:
    code: str
    close_contacts: int
    secondary_contacts: int
    to_locate: int
    cases: int


@strawberry.input(description="What is known of a person outside the register (at least a "
                              "name, a phone or an ID number).")
class TracedPersonInput:
    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None
