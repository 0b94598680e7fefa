"""Locations (位置): the WGS-84 point a building, a household, a camera, a checkpoint, a
quarantine site, a sampling site or an enterprise stands at, and the rules between points and
a micro-grid's boundary (pure functions).

Each of those aggregates carries an optional point, set by its own ``Located`` event (the
point in WGS-84, the system the coordinates were given in, who gave them); the same point
again writes nothing. A household's point is its own when one is set, else its building's
(``household_point``). A building's point is no personal data; a household's own point
locates one door as its address does, so it is kept as the address is: sealed with the
household's key (``household.HouseholdPlace``), masked like the address, and shredded with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import UUID

from gridcore.base import Aggregate, Event
from gridcore.errors import InvalidInput
from gridcore.geo import Area, Crs, Point


class Locatable(Aggregate):
    """An aggregate that stands at a point (a building, a camera, a checkpoint, a quarantine
    site, an enterprise): its own nested ``Located`` event, a ``Placed``, sets it."""

    point: Point | None = None
    """where it stands (WGS-84), when located"""
    Located: ClassVar[type[Placed]]

    def locate(self, point: Point | None, crs: Crs, by: UUID | None, at: datetime) -> bool:
        """Set (or withdraw) the point; the same point again writes nothing."""
        if point == self.point:
            return False
        self._trigger(self.Located, at, point=point, crs=crs, by=by)
        return True


class Placed(Event):
    """The shape of each ``Located`` event: the point (None: withdrawn) in WGS-84, ``crs`` the
    system it was given in, who gave it."""

    point: Point | None
    crs: Crs = Crs.WGS84
    by: UUID | None = None

    def apply(self, x: Locatable) -> None:
        x.point = self.point


def located_point(lng: float | None, lat: float | None, crs: Crs = Crs.WGS84,
                  *, what: str = "location") -> Point | None:
    """The point given as (``lng``, ``lat``) in ``crs``, in WGS-84; both None: no point (the
    location is withdrawn). One without the other, a value that is no number or out of range
    is refused, saying what a coordinate is."""
    if lng is None and lat is None:
        return None
    if lng is None or lat is None:
        raise InvalidInput(f"The {what} has a {'latitude' if lng is None else 'longitude'} "
                           "but no " + ("longitude." if lng is None else "latitude."),
                           "Give both (decimal degrees, longitude first), or neither to "
                           "withdraw the location.")
    for name, value in (("longitude", lng), ("latitude", lat)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise InvalidInput(f"The {what}'s {name} {value!r} is not a number.",
                               f"Give the {name} in decimal degrees, e.g. 114.2981.")
    if not isinstance(crs, Crs):
        raise InvalidInput(f"Unknown coordinate system {crs!r}.",
                           "Say which system the coordinates are in: wgs84, gcj02 or bd09.")
    return Point.given(lng, lat, crs)


class _Placed(Protocol):
    @property
    def point(self) -> Point | None: ...


def household_point(own: Point | None, building: _Placed | None) -> Point | None:
    """A household's location: its own point when one is set, else its building's (None when
    neither is known)."""
    if own is not None:
        return own
    return building.point if building is not None else None


def containing(point: Point, areas: Iterable[tuple[str, Area | None]]) -> str | None:
    """The first code (in the order given) whose area contains ``point`` (edges included);
    None when none does or no area is drawn."""
    for code, area in areas:
        if area is not None and area.contains(point):
            return code
    return None


def outside(point: Point | None, boundary: Area | None) -> bool:
    """Whether a located household lies outside its micro-grid's drawn boundary (no point or
    no boundary: nothing to say, False)."""
    return point is not None and boundary is not None and not boundary.contains(point)


MISPLACED_LABEL = "位置不在所属网格内 location outside its micro-grid"
