"""Risk zones as map features (三区划分 on the dashboard map, ``mapLayers``): each zone of a
zoning in force as a GeoJSON Feature whose ``zone`` property is 封控区, 管控区 or 防范区."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gridcore import geo, zoning
from gridcore.zoning_index import RISK_ZONINGS_ID, RiskZonings
from projections import grid_rollup

if TYPE_CHECKING:
    from gridcore.application import GridcoreApp
    from projections.base import ReadViews

ZONE_NAMES = {zoning.Zone.SEALED: "封控区", zoning.Zone.CONTROLLED: "管控区",
              zoning.Zone.PRECAUTION: "防范区"}
"""The zones' Chinese names (the ``zone`` property of a map feature reads these)."""


def zone_feature(z: zoning.RiskZoning, zone: zoning.Zone, crs: geo.Crs) -> dict[str, Any]:
    """A zone's area as a GeoJSON Feature (properties layer=risk_zone, zone 封控区/管控区/防范区,
    kind, label, zoningId, community, households (its count), crs)."""
    area = z.areas.get(zone)
    geometry = (area.to_geojson(crs) if area is not None and area.polygons
                else {"type": "MultiPolygon", "coordinates": []})
    return {"type": "Feature", "geometry": geometry, "properties": {
        "layer": "risk_zone", "zone": ZONE_NAMES[zone], "kind": zone.value,
        "label": zone.label, "zoningId": str(z.id), "community": z.community,
        "households": len(z.households.get(zone, ())), "crs": crs.value}}


def zone_features(app: GridcoreApp, views: ReadViews, code: str,
                  crs: geo.Crs) -> list[dict[str, Any]]:
    """The zones in force of the communities in ``code``'s subtree, or of the community above
    it (a micro-grid's map shows its community's zones); the widest zone first, so the sealed
    zone is drawn on top (read from the event store: call off the loop)."""
    index = app._find(RiskZonings, RISK_ZONINGS_ID, for_reading=True)
    if index is None or not index.in_force:
        return []
    near = set(grid_rollup.subtree_codes(views, code)) | set(app.ancestry(code))
    out: list[dict[str, Any]] = []
    for community in sorted(set(index.by_community) & near):
        for zid in index.of(community):
            if zid not in index.in_force:
                continue
            z = app.risk_zoning(zid)
            out += [zone_feature(z, zone, crs) for zone in reversed(zoning.Zone)]
    return out
