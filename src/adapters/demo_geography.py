"""The 712 demo's geography (地理布局): the boundaries of 武汉市 → 江岸区 → 后湖街道 → the 712
community and its 11 zones, and the points of its buildings, its quarantine site and its
sampling sites, laid out by ``adapters.layout`` from the demo's own tree (households per zone,
buildings per zone) at 江岸区, Wuhan (114.30 E, 30.60 N).

The demo lays out only the one community; the street is laid out as if its other communities
(not in the demo, not drawn) stood beside it, so it is about 2 km across and a risk zoning has
room for its precaution zone (the street's cover leaves a gap there, which is allowed); the
city and the district share the street's rectangle. Drawing the same areas and locating the
same points again writes nothing, and every command carries a client id.

At the story's end (29 Feb 09:30) the street's command draws the three zones (三区划分) around
case 核酸-HB712-R-02 of the testing round, under a policy that sets the controlled zone's
radius to 100 m for the compound: the households of each zone are listed; the measures are
left to the officials (``apply_zone_measures``), so the monitoring story stays as told.
"""

from __future__ import annotations

from functools import cache
from uuid import UUID

from adapters import demo
from adapters.layout import JIANG_AN, Layout, Node, lay_out
from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.building import building_id
from gridcore.geo import Crs
from gridcore.grid import Level
from gridcore.zoning import Zone

SOURCE = "712社区示意布局 demo layout (adapters.layout)"
REST_OF_STREET = f"{demo.STREET}-rest-"
"""The street's other communities (codes with this prefix), laid out for room but never
drawn: 80 of the 712 community's size, so the street is a grid of 81 compact cells."""
REST_COMMUNITIES = 80
ZONING_REASON = "核酸检测阳性病例 核酸-HB712-R-02 住址周边三区划分"
CONTROLLED_RADIUS_M = 100


def cid(what: str) -> str:
    return f"demo712:geo:{what}"


def zone_of(building: int) -> int:
    """The zone a building stands in (as ``demo.household_rows`` puts its households)."""
    return min(demo.ZONES, 1 + (building - 1) * demo.ZONES // demo.BUILDINGS)


def households_in(building: int) -> int:
    share, rest = divmod(demo.HOUSEHOLDS, demo.BUILDINGS)
    return share + (1 if building - 1 < rest else 0)


@cache
def layout() -> Layout:
    """The demo's layout: the same on every run."""
    zones = tuple(
        Node(demo.zone_code(z),
             sum(households_in(b) for b in range(1, demo.BUILDINGS + 1) if zone_of(b) == z),
             buildings=tuple((demo.COMMUNITY, str(b)) for b in range(1, demo.BUILDINGS + 1)
                             if zone_of(b) == z))
        for z in range(1, demo.ZONES + 1))
    tree = Node(demo.CITY, children=(Node(demo.DISTRICT, children=(Node(demo.STREET, children=(
        Node(demo.COMMUNITY, children=zones),
        *(Node(f"{REST_OF_STREET}{k}", demo.HOUSEHOLDS) for k in range(REST_COMMUNITIES)))),)),))
    return lay_out(tree, JIANG_AN)


def draw(app: GridcoreApp) -> None:
    """Draw the boundaries (all in one batch) and locate the buildings."""
    drawn = [(code, area) for code, area in layout().boundaries()
             if not code.startswith(REST_OF_STREET)]
    app.draw_boundaries(drawn, Crs.WGS84, SOURCE, client_id=cid("boundaries"),
                        by=System.OPERATOR)
    for (community, number), p in layout().buildings.items():
        app.locate_building(community, number, p.lng, p.lat, client_id=cid(f"b{number}"),
                            by=System.OPERATOR)


def locate_quarantine_site(app: GridcoreApp, site_code: str) -> None:
    """The quarantine site (a hotel) at the street's edge: the middle of its east side."""
    p = layout().rects[demo.STREET].on_edge(0.375)
    app.locate_quarantine_site(site_code, p.lng, p.lat, client_id=cid(f"site-{site_code}"),
                               by=System.OPERATOR)


def locate_sampling_sites(app: GridcoreApp, testing_id: UUID, site_ids: list[str]) -> None:
    """The sampling sites inside the community, clear of its edges (the square, the service
    centre)."""
    for k, site in enumerate(site_ids):
        p = layout().inside(demo.COMMUNITY, k, len(site_ids))
        app.locate_sampling_site(testing_id, site, p.lng, p.lat,
                                 client_id=cid(f"sampling-{testing_id}-{site}"),
                                 by=System.OPERATOR)


def summary(app: GridcoreApp) -> str:
    """One line: the boundaries drawn and the buildings located."""
    nodes = app.boundaries_under(demo.CITY)
    zones = sum(1 for n, _ in nodes if n.level is Level.MICRO_GRID)
    located = sum(1 for b in range(1, demo.BUILDINGS + 1)
                  if app.building(building_id(demo.COMMUNITY, str(b))).point is not None)
    community = app.boundary_at(demo.COMMUNITY)
    hectares = community.square_metres() / 10_000 if community is not None else 0.0
    return (f"地理 geography: {len(nodes)} boundaries 边界 (city → district → street → "
            f"community {hectares:.1f} ha, {zones} zones 片区), {located}/{demo.BUILDINGS} "
            f"buildings located 楼栋定位 at 江岸区 (114.30 E, 30.60 N)")


def draw_zones(app: GridcoreApp, case_no: str, official: str) -> None:
    """三区划分 around the case's address, by the district's official: the policy's controlled
    radius set to the compound's 100 m first (effective at once)."""
    at = app.clock()
    _, policy, _ = app.policy_version(at)
    if policy.zoning_controlled_radius_m != CONTROLLED_RADIUS_M:
        app.adopt_policy(policy.with_changes(zoning_controlled_radius_m=CONTROLLED_RADIUS_M),
                         at, "三区划分：管控区为病例住址周边100米", client_id=cid("policy-zoning"),
                         by=System.OPERATOR)
    by = app.staff_by_no(official).id
    app.draw_risk_zones(demo.COMMUNITY, [app.case_by_no(case_no).id], reason=ZONING_REASON,
                        client_id=cid("zoning"), by=by)


def zones_summary(app: GridcoreApp) -> str:
    """One line: the zones in force at the story's end and the community's households in each."""
    zonings = app.risk_zones_at(demo.COMMUNITY, app.clock())
    if not zonings:
        return "三区划分 risk zones: none"
    z = zonings[-1]
    counts = ", ".join(f"{zone.label.split(' ')[0]} {len(z.households.get(zone, []))}"
                       for zone in Zone)
    return (f"三区划分 risk zones ({ZONING_REASON}): households 户 {counts}; measures left to "
            "the officials (apply_zone_measures)")
