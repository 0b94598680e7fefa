"""The register (户籍台账): buildings, households and their members, vulnerabilities, test
results and erasure.

Each acts as the signed-in staff member on a community, micro-grid or household of their
jurisdiction (one elsewhere is answered as if it did not exist), accepts a ``clientId`` so a
retry is applied once, and returns the household read back (read your own writes) or typed
problems. The domain names no actor for these commands, so the roles below decide who may.
Names, phones, ID numbers and addresses sent are never quoted back: the household's fields
mask them by role.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import strawberry

from graphql_api.enums import Crs, Vulnerability
from graphql_api.households.types import Household
from graphql_api.pipeline import Call, ClientId, Reach, mutation
from graphql_api.problems import result
from graphql_api.reach import an_id, household, listed_once, nodes
from gridcore import geo
from gridcore import household as household_domain
from gridcore.application import new_member
from gridcore.building import BuildingRow, building_id
from gridcore.household import household_id

T = TypeVar("T")

@strawberry.type(description="The register was changed (or had been, under this clientId).")
class HouseholdChanged:
    notification_id: int | None
    household: Household | None


@strawberry.type(description="The building was registered (or had been, under this clientId).")
class BuildingRegistered:
    notification_id: int | None
    id: strawberry.ID
    community_code: str
    number: str


HouseholdAdminResult = result("HouseholdAdminResult", HouseholdChanged)
BuildingResult = result("BuildingResult", BuildingRegistered)


@strawberry.type(description="The buildings registered (or those a retried clientId "
                             "registered).")
class BuildingsRegistered:
    notification_id: int | None
    community_code: str
    buildings: list[BuildingRegistered]


BuildingsResult = result("BuildingsResult", BuildingsRegistered)


@strawberry.input(description="A member as registered; the name, phone and ID number are "
                              "sealed (encrypted per resident).")
class MemberInput:
    name: str
    phone: str | None = None
    id_number: str | None = None
    birth_year: int | None = None
    vulnerabilities: list[Vulnerability] = strawberry.field(default_factory=list)
    member_no: int | None = strawberry.field(
        default=None, description="The member's number in the household (default: the next "
                                  "free one); the resident id derives from it.")


@strawberry.input
class RegisterBuildingInput:
    community_code: str
    number: str
    name: str = ""
    floors: int = 6
    client_id: ClientId = None


@strawberry.input(description="A building of the list: its number, name (default <number>栋), "
                              "floors, and its point if known (longitude and latitude, both).")
class BuildingOf:
    number: str
    name: str = ""
    floors: int = 6
    lng: float | None = None
    lat: float | None = None


@strawberry.input
class RegisterBuildingsInput:
    community_code: str
    buildings: list[BuildingOf] = strawberry.field(
        description="The community's buildings (at most 20,000), each number once.")
    crs: Crs = strawberry.field(default=Crs.WGS84, description="The system the points are "
                                "in: WGS84 (GPS, 天地图), GCJ02 (高德, 腾讯) or BD09 (百度).")
    client_id: ClientId = None


@strawberry.input
class RegisterHouseholdInput:
    household_no: str
    micro_grid_code: str
    address: str
    members: list[MemberInput]
    building_id: strawberry.ID | None = None
    client_id: ClientId = None


@strawberry.input
class MoveHouseholdInput:
    household_id: strawberry.ID
    micro_grid_code: str
    building_id: strawberry.ID | None = None
    address: str | None = None
    client_id: ClientId = None


@strawberry.input
class AddMemberInput:
    household_id: strawberry.ID
    member: MemberInput
    client_id: ClientId = None


@strawberry.input
class RemoveMemberInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    reason: str
    client_id: ClientId = None


@strawberry.input
class MarkVulnerabilityInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    vulnerability: Vulnerability
    present: bool = True
    client_id: ClientId = None


@strawberry.input
class EraseResidentInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    reason: str = strawberry.field(description="The legal reason (e.g. 防控目的已完成).")
    client_id: ClientId = None


@strawberry.input
class RecordTestInput:
    household_id: strawberry.ID
    resident_id: strawberry.ID
    negative: bool
    taken_at: datetime | None = strawberry.field(
        default=None, description="When the sample was taken (default: now); never later.")
    client_id: ClientId = None


async def household_after(success: type[T], c: Call, nid: int | None,
                          hid: Any = None) -> T:
    """``success`` with the household (the command's target by default) read back."""
    row = await c.ctx.loaders.household.load(str(hid or c.target))
    return success(notification_id=nid,  # type: ignore[call-arg]
                   household=Household.from_row(row) if row else None)


async def _changed(c: Call, nid: int | None) -> HouseholdChanged:
    return await household_after(HouseholdChanged, c, nid)


def _personal(member: MemberInput) -> list[str | None]:
    return [member.name, member.phone, member.id_number]


def _member(household_no: str, number: int, m: MemberInput) -> household_domain.Member:
    return new_member(household_no, number, m.name, m.phone, m.id_number, m.birth_year,
                      [household_domain.Vulnerability(v.value) for v in m.vulnerabilities])


def of_resident(input: Any) -> list[Reach]:
    """A household of the caller's jurisdiction, and a resident's (well-formed) id: what a
    command on a resident acts on (``householdId``, ``residentId``)."""
    return [household(input.household_id), an_id(input.resident_id, "resident")]


def _register(c: Call, i: RegisterHouseholdInput) -> int | None:
    members = [_member(i.household_no, m.member_no or n, m)
               for n, m in enumerate(i.members, start=1)]
    return c.app.register_household(i.household_no, i.micro_grid_code, i.address, members,
                                    c.targets[1], client_id=i.client_id, by=c.by)


def _add(c: Call, i: AddMemberInput) -> int | None:
    h = c.app.household(c.target)
    number = i.member.member_no or household_domain.next_member_no(h)
    return c.app.add_member(c.target, _member(h.household_no, number, i.member),
                            client_id=i.client_id, by=c.by)


def _building(c: Call, nid: int | None) -> BuildingRegistered:
    i = c.input
    return BuildingRegistered(notification_id=nid, community_code=i.community_code,
                              number=i.number,
                              id=strawberry.ID(str(building_id(i.community_code, i.number))))


def _buildings(c: Call, nid: int | None) -> BuildingsRegistered:
    i = c.input
    return BuildingsRegistered(notification_id=nid, community_code=i.community_code, buildings=[
        BuildingRegistered(notification_id=nid, community_code=i.community_code,
                           number=b.number,
                           id=strawberry.ID(str(building_id(i.community_code, b.number))))
        for b in i.buildings])


_changes = partial(mutation, result=HouseholdAdminResult, success=_changed)
"""A change of a household's register, answering the household read back."""


@strawberry.type
class RegisterMutation:
    register_building = mutation(
        "登记楼栋 register a building of a community.", RegisterBuildingInput,
        lambda c, i: c.app.register_building(i.community_code, i.number, i.name, i.floors,
                                             client_id=i.client_id, by=c.by),
        result=BuildingResult, success=_building, on=lambda i: [nodes(i.community_code)])

    register_buildings = mutation(
        "登记楼栋 register a community's buildings at once, each at its point if given, in one "
        "transaction: each checked as registerBuilding checks it, one refused refuses them "
        "all.", RegisterBuildingsInput,
        lambda c, i: c.app.register_buildings(
            i.community_code, [BuildingRow(b.number, b.name, b.floors, b.lng, b.lat)
                               for b in i.buildings], geo.Crs(i.crs.value),
            client_id=i.client_id, by=c.by),
        result=BuildingsResult, success=_buildings,
        on=lambda i: [nodes(i.community_code),
                      listed_once([b.number for b in i.buildings], "Building")])

    register_household = _changes(
        "登记住户 register a household and its members in a micro-grid of your jurisdiction.",
        RegisterHouseholdInput, _register, success=lambda c, nid: household_after(
            HouseholdChanged, c, nid, household_id(c.input.household_no)),
        on=lambda i: [nodes(i.micro_grid_code), an_id(i.building_id, "building")],
        personal=lambda i: [i.address, *(v for m in i.members for v in _personal(m))])

    move_household = _changes(
        "迁移住户 move a household to another micro-grid, building or address of your "
        "jurisdiction.", MoveHouseholdInput, lambda c, i: c.app.move_household(
            c.target, i.micro_grid_code, c.targets[1], i.address, client_id=i.client_id, by=c.by),
        on=lambda i: [household(i.household_id), an_id(i.building_id, "building"),
                      nodes(i.micro_grid_code)], personal=lambda i: [i.address])

    add_member = _changes(
        "添加成员 add a member to a household.", AddMemberInput, _add,
        on=lambda i: [household(i.household_id)],
        personal=lambda i: _personal(i.member))

    remove_member = _changes(
        "减少成员 remove a member (moved out, deceased...).", RemoveMemberInput,
        lambda c, i: c.app.remove_member(c.target, c.targets[1], i.reason,
                                         client_id=i.client_id, by=c.by),
        on=of_resident)

    mark_vulnerability = _changes(
        "标注脆弱人群 declare (or withdraw) a member's vulnerability; vulnerable households get "
        "door visits.", MarkVulnerabilityInput, lambda c, i: c.app.mark_vulnerability(
            c.target, c.targets[1], household_domain.Vulnerability(i.vulnerability.value),
            i.present, client_id=i.client_id, by=c.by),
        on=of_resident)

    erase_resident = _changes(
        "删除个人信息 erase a person's identifying data for good (their key is destroyed); "
        "counts and statuses stay.", EraseResidentInput, lambda c, i: c.app.erase_resident(
            c.target, c.targets[1], i.reason, client_id=i.client_id, by=c.by),
        on=of_resident)

    record_test = _changes(
        "核酸结果 record a test result (a negative one counts towards release).",
        RecordTestInput, lambda c, i: c.app.record_test(
            c.target, c.targets[1], i.negative, i.taken_at, client_id=i.client_id, by=c.by),
        on=of_resident)
