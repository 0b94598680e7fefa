"""Drawing boundaries (边界) through the API: ``drawBoundaries`` takes a GeoJSON
FeatureCollection (the JSON scalar) in the coordinate system given, reads each feature's node
code (property ``code``, ``编码`` or ``网格编码``) and geometry, and draws them all or nothing
(``GridcoreApp.draw_boundaries``). Every bad feature is named by its index before anything is
drawn; a code outside the caller's jurisdiction reads as one that does not exist."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry
from strawberry.scalars import JSON

from graphql_api.context import Context
from graphql_api.enums import Crs
from graphql_api.pipeline import ClientId, Reach
from graphql_api.problems import Problem, invalid, not_found
from graphql_api.scope import node_visible
from gridcore import geo
from gridcore.errors import GridcoreError
from gridcore.grid_commands import BoundaryReport

CODE_PROPERTIES = ("code", "编码", "网格编码")
MAX_FEATURES = 5_000


@strawberry.input(description="A batch of boundaries, drawn all or nothing.")
class DrawBoundariesInput:
    features: JSON = strawberry.field(description=(
        "A GeoJSON FeatureCollection: one Feature per grid node, its code in the property "
        "`code` (or `编码`, `网格编码`), its geometry a Polygon or MultiPolygon."))
    crs: Crs = strawberry.field(description="The system the coordinates are in (高德/腾讯 maps "
                                            "draw in GCJ02, 百度 in BD09, GPS in WGS84).")
    strict: bool | None = strawberry.field(
        default=False, description="Refuse gaps too: each parent covered by its children.")
    client_id: ClientId = None


@strawberry.type(description="未覆盖 part of a node its children leave uncovered.")
class BoundaryGap:
    code: str
    square_metres: float
    longitude: float = strawberry.field(description="A point of the gap (WGS-84).")
    latitude: float


@strawberry.type(description="The boundaries were drawn (or had been, under this clientId).")
class BoundariesDrawn:
    notification_id: int | None
    drawn: list[str] = strawberry.field(description="The codes whose boundary changed.")
    unchanged: list[str] = strawberry.field(description="The codes given the boundary they had.")
    gaps: list[BoundaryGap] = strawberry.field(description="Gaps in parents' cover (allowed "
                                                           "unless strict).")

    @classmethod
    def of(cls, report: BoundaryReport) -> BoundariesDrawn:
        return cls(notification_id=report.notification_id, drawn=list(report.drawn),
                   unchanged=list(report.unchanged),
                   gaps=[BoundaryGap(code=g.code, square_metres=g.square_metres,
                                     longitude=g.at.lng, latitude=g.at.lat)
                         for g in report.gaps])


def read_features(collection: Any, crs: geo.Crs) -> list[tuple[str, geo.Area]] | Problem:
    """The (code, area) of each feature, or a problem naming every bad one by its index."""
    right = ('Send {"type": "FeatureCollection", "features": [{"type": "Feature", '
             '"properties": {"code": ...}, "geometry": {"type": "Polygon", ...}}]}.')
    if not isinstance(collection, Mapping) or collection.get("type") != "FeatureCollection" \
            or not isinstance(collection.get("features"), list) or not collection["features"]:
        return invalid("The features are not a GeoJSON FeatureCollection with features.", right)
    if len(collection["features"]) > MAX_FEATURES:
        return invalid(f"{len(collection['features'])} features are more than one request "
                       f"takes ({MAX_FEATURES}).", "Send them in batches, e.g. one per level.")
    out: list[tuple[str, geo.Area]] = []
    bad: list[str] = []
    for index, feature in enumerate(collection["features"]):
        props = feature.get("properties") if isinstance(feature, Mapping) else None
        raw = next((props[n] for n in CODE_PROPERTIES if isinstance(props, Mapping)
                    and isinstance(props.get(n), (str, int))
                    and not isinstance(props.get(n), bool) and str(props[n]).strip()), None)
        code = str(raw).strip() if raw is not None else ""
        if not code:
            bad.append(f"feature {index}: no node code in the property code, 编码 or 网格编码")
            continue
        try:
            geometry = feature.get("geometry") if isinstance(feature, Mapping) else None
            out.append((code, geo.parse_area(geometry or {}, crs, what=f"boundary of {code}")))
        except GridcoreError as e:
            bad.append(f"feature {index} ({code[:60]}): {e.problem}")
    if bad:
        shown = "; ".join(bad[:20]) + (f"; … {len(bad) - 20} more" if len(bad) > 20 else "")
        return invalid(f"{len(bad)} bad features (要素错误): {shown}. Nothing was drawn.", right)
    return out


def features(input: DrawBoundariesInput) -> Reach:
    """The batch of a ``drawBoundaries`` input, its every code a node of the caller's
    jurisdiction (the others read as nodes that do not exist, named together)."""
    async def reach(ctx: Context) -> list[tuple[str, geo.Area]] | Problem:
        read = read_features(input.features, geo.Crs(input.crs.value))
        if isinstance(read, Problem):
            return read
        missing = [c for c in dict.fromkeys(c for c, _ in read)
                   if not await node_visible(ctx, c)]
        if missing:
            return not_found(f"No grid node with code {', '.join(c[:60] for c in missing[:20])} "
                             "(编码不存在).", "Check the codes (a node outside your jurisdiction "
                             "reads as missing), or create the nodes first; nothing was drawn.")
        return read
    return reach
