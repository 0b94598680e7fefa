"""Places (位置): where households, quarantine sites, cameras, checkpoints, sampling sites and
enterprises stand, and the micro-grids' boundaries, for the spatial questions
(``projections.spatial``).

Points are WGS-84 longitude and latitude stored as plain floats (``DOUBLE PRECISION``), and
boundaries as GeoJSON text, so SQLite and PostgreSQL keep the same rows and give the same
answers: the questions are answered in process with a shapely STRtree built from these rows
(no PostGIS).

A household's own point is sealed personal data (``gridcore.household.HouseholdPlace``); the
projections' decoder opens no sealed value (``projections.decode``: personal values are
``None``), so this read model never holds it. It keeps only that the household was given an
own point (``own``), its micro-grid and its building; the point itself is opened at read
time, through the application, by whoever builds the index (``spatial.Index``), and an own
point that no longer opens (withdrawn, moved door, or shredded) falls back to the building's.
When the household's address is erased (``ResidentErased`` naming the household as a
subject: the point is sealed with the address's key and shredded with it) ``own`` is cleared
and never asked for again.

No personal data: households by id, micro-grid and building id; sites by code and name
(places of the administration, not of persons); camera and checkpoint codes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gridcore.building import Building
from gridcore.camera import Camera
from gridcore.checkpoint import Checkpoint
from gridcore.enterprise import Enterprise
from gridcore.grid import GridNode, Level
from gridcore.household import Household
from gridcore.mass_testing import TestingCampaign
from gridcore.quarantine_site import QuarantineSite
from projections.base import (
    BufferedInserts,
    LeanEvent,
    Notified,
    Projection,
    ReadViews,
    ViewCursor,
    handles,
)

KINDS = ("quarantine_site", "camera", "checkpoint", "sampling_site", "enterprise")
"""The kinds of point layers (a building's point locates its households)."""


def _xy(point: Any) -> tuple[float | None, float | None]:
    if point is None:
        return None, None
    return float(point.lng), float(point.lat)


class Places(Projection):
    name = "places"
    tables = ("pl_households", "pl_points", "pl_boundaries")
    ddl = (
        "CREATE TABLE IF NOT EXISTS pl_households (household_id TEXT PRIMARY KEY, micro_grid "
        "TEXT NOT NULL, building_id TEXT, own BIGINT NOT NULL DEFAULT 0, erased BIGINT NOT NULL "
        "DEFAULT 0)",
        "CREATE INDEX IF NOT EXISTS pl_households_building ON pl_households (building_id)",
        "CREATE INDEX IF NOT EXISTS pl_households_grid ON pl_households (micro_grid)",
        "CREATE TABLE IF NOT EXISTS pl_points (kind TEXT NOT NULL, key TEXT NOT NULL, "
        "code TEXT NOT NULL, label TEXT NOT NULL, node TEXT NOT NULL, lng DOUBLE PRECISION, "
        "lat DOUBLE PRECISION, capacity BIGINT NOT NULL DEFAULT 0, occupied BIGINT NOT NULL "
        "DEFAULT 0, PRIMARY KEY (kind, key))",
        "CREATE TABLE IF NOT EXISTS pl_boundaries (node_id TEXT PRIMARY KEY, code TEXT NOT "
        "NULL, level BIGINT NOT NULL, parent_code TEXT, geojson TEXT)",
        "CREATE INDEX IF NOT EXISTS pl_boundaries_code ON pl_boundaries (code)",
    )

    def begin(self, cur: ViewCursor, events: Sequence[Notified]) -> _Batch:
        return _Batch(cur)

    def end(self, cur: ViewCursor, state: _Batch) -> None:
        state.flush()

    # ---- households and buildings --------------------------------------------------------

    @handles(Household.Registered)
    def household_registered(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        cur.insert("pl_households", "household_id, micro_grid, building_id, own, erased",
                   [(e.originator_id, e.micro_grid,
                     str(e.building_id) if e.building_id is not None else None, 0, 0)],
                   "ON CONFLICT (household_id) DO NOTHING", fresh=True)

    @handles(Household.Moved)
    def household_moved(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        cur.change(_MOVED, e.originator_id,
                 (e.micro_grid, str(e.building_id) if e.building_id is not None else None,
                  e.originator_id))

    @handles(Household.Located)
    def household_located(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        # the point is sealed (decoded as None): only that there is one to open at read time
        if e.originator_id not in cur.erased:  # erased first: never asked for again
            cur.change(_OWN, e.originator_id, (e.originator_id,))

    @handles(Household.ResidentErased)
    def household_erased(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        if e.originator_id in {str(s) for s in e.subjects}:  # the address's key: shredded
            cur.erased.add(e.originator_id)
            cur.unchange(_OWN, e.originator_id)
            cur.change(_ERASED, e.originator_id, (e.originator_id,))

    @handles(Building.Registered)
    def building_registered(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._point(cur, "building", e.originator_id, e.number, "", e.community)

    @handles(Building.Located)
    def building_located(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._locate(cur, "building", e.originator_id, e.point)

    # ---- point layers --------------------------------------------------------------------

    @handles(QuarantineSite.Registered)
    def site_registered(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._point(cur, "quarantine_site", e.originator_id, e.code, e.name, e.node_code,
                    int(e.capacity))

    @handles(QuarantineSite.Located)
    def site_located(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._locate(cur, "quarantine_site", e.originator_id, e.point)

    @handles(QuarantineSite.ResidentAdmitted)
    def site_admitted(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        cur.execute("UPDATE pl_points SET occupied = occupied + 1 WHERE kind = ? AND key = ?",
                    ("quarantine_site", e.originator_id))

    @handles(QuarantineSite.ResidentDischarged)
    def site_discharged(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        cur.execute("UPDATE pl_points SET occupied = occupied - 1 WHERE kind = ? AND key = ? "
                    "AND occupied > 0", ("quarantine_site", e.originator_id))

    @handles(Camera.Registered)
    def camera_registered(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._point(cur, "camera", e.originator_id, e.code, "", e.grid_code)

    @handles(Camera.Located)
    def camera_located(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._locate(cur, "camera", e.originator_id, e.point)

    @handles(Checkpoint.Registered)
    def checkpoint_registered(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._point(cur, "checkpoint", e.originator_id, e.code, e.name, e.grid_code)

    @handles(Checkpoint.Located)
    def checkpoint_located(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._locate(cur, "checkpoint", e.originator_id, e.point)

    @handles(Enterprise.Registered)
    def enterprise_registered(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._point(cur, "enterprise", e.originator_id, e.credit_code, e.name, e.department)

    @handles(Enterprise.Located)
    def enterprise_located(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._locate(cur, "enterprise", e.originator_id, e.point)

    @handles(TestingCampaign.Launched)
    def campaign_launched(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        for s in e.sites:
            self._point(cur, "sampling_site", f"{e.originator_id}:{s.site_id}", s.site_id,
                        s.name, e.scope)

    @handles(TestingCampaign.SiteLocated)
    def sampling_site_located(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        self._locate(cur, "sampling_site", f"{e.originator_id}:{e.site_id}", e.point)

    # ---- boundaries ----------------------------------------------------------------------

    @handles(GridNode.Established)
    def node_established(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        cur.insert("pl_boundaries", "node_id, code, level, parent_code, geojson",
                   [(e.originator_id, e.code, int(Level(e.level)), e.parent_code, None)],
                   "ON CONFLICT (node_id) DO NOTHING")

    @handles(GridNode.BoundaryDrawn)
    def boundary_drawn(self, cur: _Batch, nid: int, e: LeanEvent) -> None:
        text = None if e.area is None else json.dumps(e.area.to_geojson())
        cur.change(_BOUNDARY, e.originator_id, (text, e.originator_id))

    # ---- helpers --------------------------------------------------------------------------

    @staticmethod
    def _point(cur: _Batch, kind: str, key: str, code: str, label: str, node: str,
               capacity: int = 0) -> None:
        cur.insert("pl_points", "kind, key, code, label, node, capacity",
                   [(kind, str(key), code, label or "", node or "", capacity)],
                   "ON CONFLICT (kind, key) DO NOTHING")

    @staticmethod
    def _locate(cur: _Batch, kind: str, key: str, point: Any) -> None:
        lng, lat = _xy(point)
        cur.change(_LOCATED, (kind, str(key)), (lng, lat, kind, str(key)))


_MOVED = "UPDATE pl_households SET micro_grid = ?, building_id = ? WHERE household_id = ?"
_OWN = "UPDATE pl_households SET own = 1 WHERE household_id = ? AND erased = 0"
_ERASED = "UPDATE pl_households SET own = 0, erased = 1 WHERE household_id = ?"
_BOUNDARY = "UPDATE pl_boundaries SET geojson = ? WHERE node_id = ?"
_LOCATED = "UPDATE pl_points SET lng = ?, lat = ? WHERE kind = ? AND key = ?"


class _Batch(BufferedInserts):
    """A batch of places: its new rows and the changes the last one per row decides (a move,
    a point, a boundary, the own point given or shredded) wait and go in at its end (a city's
    buildings are registered and located one event each: on PostgreSQL a round trip each
    otherwise). A change that depends on the order (a site's occupancy) is a statement of its
    own, after what waits."""

    def __init__(self, inner: ViewCursor) -> None:
        super().__init__(inner)
        self.erased: set[str] = set()
        """Households whose own point was shredded in this batch (later points: ignored)."""


PROJECTIONS: list[Projection] = [Places()]


# ---- rows ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HouseholdPlaceRow:
    household_id: str
    micro_grid: str
    building_id: str | None
    own: bool


@dataclass(frozen=True)
class PointRow:
    kind: str
    key: str
    code: str
    label: str
    node: str
    lng: float
    lat: float
    capacity: int
    occupied: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.occupied)


def household_rows(views: ReadViews) -> list[HouseholdPlaceRow]:
    return [HouseholdPlaceRow(str(h), str(g), str(b) if b is not None else None, bool(o))
            for h, g, b, o in views.query("SELECT household_id, micro_grid, building_id, own "
                                          "FROM pl_households ORDER BY household_id")]


def points(views: ReadViews, kinds: Sequence[str] = ("building", *KINDS)) -> list[PointRow]:
    """The located points of ``kinds`` (unlocated ones are left out), by kind and code."""
    if not kinds:
        return []
    marks = ", ".join("?" * len(kinds))
    return [PointRow(str(k), str(key), str(c), str(lb), str(n), float(x), float(y), int(cap),
                     int(occ))
            for k, key, c, lb, n, x, y, cap, occ in views.query(
                "SELECT kind, key, code, label, node, lng, lat, capacity, occupied FROM "
                f"pl_points WHERE kind IN ({marks}) AND lng IS NOT NULL AND lat IS NOT NULL "
                "ORDER BY kind, code, key", list(kinds))]


def boundaries(views: ReadViews, codes: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    """code -> GeoJSON geometry of the nodes with a boundary drawn (of ``codes``, or all)."""
    rows = views.query("SELECT code, geojson FROM pl_boundaries WHERE geojson IS NOT NULL "
                       "ORDER BY code")
    wanted = None if codes is None else set(codes)
    return {str(c): json.loads(g) for c, g in rows if wanted is None or c in wanted}
