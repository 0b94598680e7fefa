"""A plausible, deterministic geography (地理布局) for a grid that has none drawn: the demo's
712 community and the generated cities lay out their districts, streets, communities and
micro-grids as rectangles and their buildings, gates and sites as points.

Pure computation (no I/O, no application): the layout of a tree is a function of the tree and
of the origin alone. Each node's rectangle is cut among its children in proportion to their
households, splitting the children into two groups of about equal weight and cutting the
longer side of the rectangle between them, then again inside each part (a balanced treemap):
shapes stay compact whatever the number of children. Every cut is one rounded coordinate
shared by both sides, so siblings meet on exact edges, children cover their parent with no gap
and lie within it, as the boundary rules of ``gridcore.geo`` ask. Buildings stand at the
centres of the cells of a near-square grid laid over their micro-grid (or their community).

Sizes: about ``M2_PER_HOUSEHOLD`` of land per household (Wuhan's 7-storey estates of the 712
community: 946 households on about 5 hectares), so a node's area follows its households.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from gridcore.geo import M_PER_DEG_LAT, Area, Point

M2_PER_HOUSEHOLD = 50.0
"""Land per household, square metres (buildings, yards, lanes)."""
JIANG_AN = Point(lng=114.30, lat=30.60)
"""The default origin (south-west corner of the city): 江岸区, Wuhan."""
_DIGITS = 7


@dataclass(frozen=True)
class Rect:
    """An axis-aligned rectangle in WGS-84 degrees (west, south, east, north)."""

    west: float
    south: float
    east: float
    north: float

    def area(self) -> Area:
        w, s, e, n = self.west, self.south, self.east, self.north
        return Area(polygons=((((w, s), (e, s), (e, n), (w, n), (w, s)),),))

    def at(self, fx: float, fy: float) -> Point:
        """The point at fractions ``fx`` of the width (from the west) and ``fy`` of the
        height (from the south)."""
        return Point(lng=round(self.west + (self.east - self.west) * fx, _DIGITS),
                     lat=round(self.south + (self.north - self.south) * fy, _DIGITS))

    def centre(self) -> Point:
        return self.at(0.5, 0.5)

    def on_edge(self, t: float) -> Point:
        """The point a fraction ``t`` (0-1) of the way round the boundary, counter-clockwise
        from the south-west corner (south edge first)."""
        t = (t % 1.0) * 4
        side, f = min(3, int(t)), t - min(3, int(t))
        return self.at(*((f, 0.0), (1.0, f), (1.0 - f, 1.0), (0.0, 1.0 - f))[side])

    def cut(self, share: float) -> tuple[Rect, Rect]:
        """Two rectangles splitting this one across its longer side (in metres), the first
        (west or south) taking ``share`` of it; the cut is one rounded coordinate."""
        width_m = (self.east - self.west) * _m_per_deg_lng(self.south)
        height_m = (self.north - self.south) * M_PER_DEG_LAT
        if width_m >= height_m:
            x = round(self.west + (self.east - self.west) * share, _DIGITS)
            return (Rect(self.west, self.south, x, self.north),
                    Rect(x, self.south, self.east, self.north))
        y = round(self.south + (self.north - self.south) * share, _DIGITS)
        return (Rect(self.west, self.south, self.east, y),
                Rect(self.west, y, self.east, self.north))


def _m_per_deg_lng(lat: float) -> float:
    return M_PER_DEG_LAT * math.cos(math.radians(lat))


@dataclass(frozen=True)
class Node:
    """A node of the tree to lay out: its code, its households (a leaf's; a parent's are its
    children's sum when left 0), its children, and the buildings standing in it (their
    numbers, each with its community's code)."""

    code: str
    households: int = 0
    children: tuple[Node, ...] = ()
    buildings: tuple[tuple[str, str], ...] = ()

    def weight(self) -> float:
        """Households, at least 1 (an empty micro-grid still gets a plot)."""
        own = self.households or sum(c.weight() for c in self.children)
        return max(1.0, float(own))

    def walk(self) -> Iterator[Node]:
        yield self
        for c in self.children:
            yield from c.walk()


@dataclass(frozen=True)
class Layout:
    """Where everything of a tree lies: ``rects`` each node's rectangle (root first, then
    depth first, children in order), ``buildings`` each building's point by (community,
    number)."""

    rects: dict[str, Rect] = field(default_factory=dict)
    buildings: dict[tuple[str, str], Point] = field(default_factory=dict)

    def boundaries(self) -> list[tuple[str, Area]]:
        """(code, area) of every node, parents before children (a ``draw_boundaries``
        batch)."""
        return [(code, r.area()) for code, r in self.rects.items()]

    def gates(self, code: str, n: int) -> list[Point]:
        """``n`` points spread evenly on the node's boundary (a community's gates, where its
        checkpoints 卡口 stand), the first in the middle of the south edge."""
        r = self.rects[code]
        return [r.on_edge(0.125 + k / max(1, n)) for k in range(n)]

    def inside(self, code: str, k: int, n: int) -> Point:
        """The ``k``-th of ``n`` points well inside the node (a site, a camera), on a
        diagonal from the south-west to the north-east, clear of the edges."""
        f = (k + 1) / (n + 1)
        return self.rects[code].at(0.15 + 0.7 * f, 0.85 - 0.7 * f)


def root_rect(origin: Point, households: float) -> Rect:
    """A square of ``households`` x ``M2_PER_HOUSEHOLD`` whose south-west corner is
    ``origin``."""
    side = math.sqrt(max(1.0, households) * M2_PER_HOUSEHOLD)
    return Rect(origin.lng, origin.lat,
                round(origin.lng + side / _m_per_deg_lng(origin.lat), _DIGITS),
                round(origin.lat + side / M_PER_DEG_LAT, _DIGITS))


def _split(rect: Rect, nodes: Sequence[Node], out: dict[str, Rect]) -> None:
    """Lay ``nodes`` (in order) over ``rect``: halve them by weight, cut, recurse."""
    if len(nodes) == 1:
        out[nodes[0].code] = rect
        return
    weights = [n.weight() for n in nodes]
    total, prefix, run, k, best = sum(weights), 0.0, 0.0, 1, math.inf
    for i in range(1, len(nodes)):  # the split nearest half the weight
        prefix += weights[i - 1]
        if abs(prefix - total / 2) < best:
            best, run, k = abs(prefix - total / 2), prefix, i
    first, second = rect.cut(run / total)
    _split(first, nodes[:k], out)
    _split(second, nodes[k:], out)


def _place_buildings(rect: Rect, buildings: Sequence[tuple[str, str]],
                     out: dict[tuple[str, str], Point]) -> None:
    """The centres of a near-square grid of cells over ``rect``, one per building, row by
    row from the south-west."""
    n = len(buildings)
    if not n:
        return
    width_m = (rect.east - rect.west) * _m_per_deg_lng(rect.south)
    height_m = (rect.north - rect.south) * M_PER_DEG_LAT
    cols = max(1, min(n, round(math.sqrt(n * width_m / max(height_m, 1e-9)))))
    rows = math.ceil(n / cols)
    for i, b in enumerate(buildings):
        row, col = divmod(i, cols)
        out[b] = rect.at((col + 0.5) / cols, (row + 0.5) / rows)


def lay_out(root: Node, origin: Point = JIANG_AN, rect: Rect | None = None) -> Layout:
    """The layout of ``root``'s tree from ``origin`` (the south-west corner of a square of
    the tree's households), or over ``rect`` when given. The same tree and origin give the
    same layout."""
    rects: dict[str, Rect] = {}
    points: dict[tuple[str, str], Point] = {}
    stack = [(root, rect or root_rect(origin, root.weight()))]
    rects[root.code] = stack[0][1]
    while stack:
        node, r = stack.pop()
        if node.children:
            placed: dict[str, Rect] = {}
            _split(r, node.children, placed)
            rects.update(placed)
            stack.extend((child, placed[child.code]) for child in reversed(node.children))
        _place_buildings(r, node.buildings, points)
    return Layout(rects={n.code: rects[n.code] for n in root.walk()}, buildings=points)
