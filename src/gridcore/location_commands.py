"""Commands and queries of locations (位置): where buildings, households, cameras,
checkpoints, quarantine sites, sampling sites and enterprises stand, and households against
their micro-grid's boundary (see ``gridcore.location``).

Decisions made here:

- One command per kind (``locate_building``, ``locate_household``, ...), each acting where
  its aggregate is (the authority table names who locates what, as who registers it); each
  takes ``lng``/``lat`` in ``crs`` (stored in WGS-84) or both None to withdraw the point.
  An unknown id and coordinates that are no coordinates are refused; the same point again
  writes nothing (returns None).
- ``propose_micro_grid``: the micro-grid of a community whose boundary contains a point; a
  register's row with coordinates and no micro-grid is registered there (the importer asks).
- ``misplaced_households``: the households whose point (their own, else their building's)
  lies outside their micro-grid's boundary as drawn now: accepted at registration, listed
  here to be checked (位置不在所属网格内).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from gridcore.alert_commands import AlertCommands
from gridcore.app_base import command
from gridcore.authority import Actor, staff_of
from gridcore.building import Building, building_id
from gridcore.enterprise_commands import EnterpriseCommands
from gridcore.geo import Area, Crs, Point
from gridcore.grid import GridNode, Level, node_id
from gridcore.household import Household
from gridcore.household_commands import HouseholdCommands
from gridcore.location import containing, household_point, located_point, outside
from gridcore.mass_testing_commands import MassTestingCommands
from gridcore.referral_commands import ReferralCommands


@dataclass(frozen=True)
class Misplaced:
    """A household whose point lies outside its micro-grid's boundary (位置不在所属网格内).
    ``point`` is personal data when ``own`` (the household's own point, sealed as its address
    is); else it is its building's. ``proposed``: the micro-grid of the same community whose
    boundary contains the point, if any."""

    household_id: UUID
    household_no: str
    micro_grid: str
    point: Point
    own: bool
    proposed: str | None


class LocationCommands(ReferralCommands, MassTestingCommands, HouseholdCommands,
                       EnterpriseCommands, AlertCommands):
    """Locates what the other areas register (it names them as bases: it reads their
    aggregates through their look-ups)."""

    # ---- locating ----------------------------------------------------------------------------

    @command
    def locate_building(self, community: str, number: str, lng: float | None,
                        lat: float | None, crs: Crs = Crs.WGS84, *, by: Actor) -> int | None:
        point = located_point(lng, lat, crs, what=f"building {number}'s location")
        b = self._get(Building, building_id(community, number),
                      f"building {number!r} in community {community}",
                      "Register the building first (the registerBuilding mutation), or check "
                      "the community and number.")
        return self._save(b) if b.locate(point, crs, staff_of(by), self.clock()) else None

    @command
    def locate_household(self, hid: UUID, lng: float | None, lat: float | None,
                         crs: Crs = Crs.WGS84, *, by: Actor) -> int | None:
        """Set the household's own point (its door; sealed as its address is), or withdraw it
        (both None) so that its building's point locates it."""
        point = located_point(lng, lat, crs, what="household's location")
        h = self.household(hid)
        return self._save(h) if h.locate(point, crs, staff_of(by), self.clock()) else None

    @command
    def locate_camera(self, camera_id: str, lng: float | None, lat: float | None,
                      crs: Crs = Crs.WGS84, *, by: Actor) -> int | None:
        point = located_point(lng, lat, crs, what=f"camera {camera_id}'s location")
        c = self.camera(camera_id)
        return self._save(c) if c.locate(point, crs, staff_of(by), self.clock()) else None

    @command
    def locate_checkpoint(self, checkpoint_id: str, lng: float | None, lat: float | None,
                          crs: Crs = Crs.WGS84, *, by: Actor) -> int | None:
        point = located_point(lng, lat, crs, what=f"checkpoint {checkpoint_id}'s location")
        c = self.checkpoint(checkpoint_id)
        return self._save(c) if c.locate(point, crs, staff_of(by), self.clock()) else None

    @command
    def locate_quarantine_site(self, site_code: str, lng: float | None, lat: float | None,
                               crs: Crs = Crs.WGS84, *, by: Actor) -> int | None:
        point = located_point(lng, lat, crs, what=f"quarantine site {site_code}'s location")
        s = self.quarantine_site_by_code(site_code)
        return self._save(s) if s.locate(point, crs, staff_of(by), self.clock()) else None

    @command
    def locate_sampling_site(self, testing_id: UUID, site_id: str, lng: float | None,
                             lat: float | None, crs: Crs = Crs.WGS84, *,
                             by: Actor) -> int | None:
        point = located_point(lng, lat, crs, what=f"sampling site {site_id}'s location")
        c = self.testing_campaign(testing_id)
        changed = c.locate_site(site_id, point, crs, staff_of(by), self.clock())
        return self._save(c) if changed else None

    @command
    def locate_enterprise(self, enterprise: UUID, lng: float | None, lat: float | None,
                          crs: Crs = Crs.WGS84, *, by: Actor) -> int | None:
        point = located_point(lng, lat, crs, what="enterprise's location")
        e = self.enterprise(enterprise)
        return self._save(e) if e.locate(point, crs, staff_of(by), self.clock()) else None

    # ---- queries -----------------------------------------------------------------------------

    def household_location(self, hid: UUID) -> Point | None:
        """Where the household is: its own point, else its building's (None: unknown).
        Personal data when it is its own point (``Household.own_point``)."""
        h = self.household(hid)
        return household_point(h.own_point, self._building_of(h))

    def _building_of(self, h: Household) -> Building | None:
        if h.building_id is None:
            return None
        return self._find(Building, h.building_id, for_reading=True)

    def propose_micro_grid(self, point: Point, community_code: str) -> str | None:
        """The micro-grid of ``community_code`` whose boundary (as drawn now) contains
        ``point`` (None: none does, or none of its micro-grids has a boundary)."""
        return containing(point, self._micro_grid_boundaries(community_code))

    def _micro_grid_boundaries(self, code: str) -> list[tuple[str, Area | None]]:
        """(code, boundary) of the active micro-grids under ``code``, read without copies (a
        register's import asks for every row)."""
        out, stack = [], [self.node(code).code]
        while stack:
            node = self._find(GridNode, node_id(stack.pop()), for_reading=True)
            if node is None or node.retired:
                continue
            if node.level is Level.MICRO_GRID:
                out.append((node.code, node.boundary))
            stack.extend(reversed(node.children))
        return out

    def misplaced_households(self, code: str) -> list[Misplaced]:
        """The households of the subtree of ``code`` whose point (their own, else their
        building's) lies outside their micro-grid's boundary; those of a micro-grid without a
        boundary, and households without a point, are not judged."""
        out: list[Misplaced] = []
        buildings: dict[UUID, Building | None] = {}
        for grid in self.micro_grids(code):
            boundary = grid.boundary
            if boundary is None:
                continue
            for hid in grid.households:
                h = self._find(Household, hid, for_reading=True)
                if h is None:
                    continue
                bid = h.building_id
                if bid is not None and bid not in buildings:
                    buildings[bid] = self._find(Building, bid, for_reading=True)
                point = household_point(h.own_point,
                                        buildings.get(bid) if bid is not None else None)
                if point is None or not outside(point, boundary):
                    continue
                community = grid.parent_code
                proposed = (self.propose_micro_grid(point, community)
                            if community is not None else None)
                out.append(Misplaced(h.id, h.household_no, grid.code, point,
                                     h.own_point is not None, proposed))
        return sorted(out, key=lambda m: (m.micro_grid, m.household_no))


__all__ = ["LocationCommands", "Misplaced"]
