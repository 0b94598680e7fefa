"""Given-helpers: a small community to act on."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from gridcore.application import GridcoreApp, new_member
from gridcore.authority import System
from gridcore.household import Vulnerability
from gridcore.staff import Role

CITY, DISTRICT, STREET, COMMUNITY = "4201", "420102", "420102001", "420102001712"
ZONES = [f"{COMMUNITY}-{i:02d}" for i in (1, 2)]


@dataclass
class Community:
    households: list[UUID]
    worker: UUID
    doctor: UUID
    official: UUID
    volunteer: UUID


def given_community(app: GridcoreApp, households_per_zone: int = 3) -> Community:
    app.establish_city(CITY, "武汉市", by=System.OPERATOR)
    app.create_node(DISTRICT, "江岸区", CITY, by=System.OPERATOR)
    app.create_node(STREET, "后湖街道", DISTRICT, by=System.OPERATOR)
    app.create_node(COMMUNITY, "712社区", STREET, by=System.OPERATOR)
    hids = []
    for z, zone in enumerate(ZONES, start=1):
        app.create_node(zone, f"第{z}片区", COMMUNITY, by=System.OPERATOR)
        for n in range(households_per_zone):
            no = f"712-{z}-{n}"
            members = [new_member(no, 1, "张三", "13812341234", None, 1950,
                                  [Vulnerability.NO_SMARTPHONE] if n == 0 else []),
                       new_member(no, 2, "李四", None, None, 1985)]
            app.register_household(no, zone, f"{z}栋{n + 1}01", members, by=System.OPERATOR)
            hids.append(app.household_by_no(no).id)
    app.enrol_staff("GW1", "王芳", Role.GRID_WORKER, COMMUNITY, 40, "13900001111",
                    by=System.OPERATOR)
    app.enrol_staff("DOC1", "刘医生", Role.FAMILY_DOCTOR, COMMUNITY, 20, by=System.OPERATOR)
    app.enrol_staff("OFF1", "陈书记", Role.OFFICIAL, COMMUNITY, 0, by=System.OPERATOR)
    app.enrol_staff("VOL1", "赵志愿", Role.VOLUNTEER, COMMUNITY, 30, by=System.OPERATOR)
    return Community(hids, app.staff_by_no("GW1").id, app.staff_by_no("DOC1").id,
                     app.staff_by_no("OFF1").id, app.staff_by_no("VOL1").id)
