"""Commands and queries of the grid hierarchy (区/街道/社区/微网格) and buildings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from shapely.errors import GEOSException
from shapely.validation import explain_validity

from gridcore.app_base import (
    ApplicationBase,
    check_batch,
    command,
)
from gridcore.assignment import carried_staffing
from gridcore.authority import Actor, staff_of
from gridcore.base import Aggregate
from gridcore.errors import (
    DuplicateCode,
    InvalidInput,
)
from gridcore.geo import Area, BoundaryProblem, Crs, cover_gap, outside_parent, overlaps
from gridcore.grid import GridNode, Level, check_move, child_level, node_id, soft_cap_excess
from gridcore.staff import StaffMember
from gridcore.text import free_text

MAX_CHILDREN = 1_000
"""The nodes one ``create_nodes`` may create (a community has tens of micro-grids)."""


@dataclass(frozen=True)
class CodeProblem:
    """A feature of a batch of boundaries whose code cannot take one: ``kind`` is unknown
    (no such node), retired (撤销) or repeated (the batch gives it twice)."""

    code: str
    kind: str
    index: int
    """The feature's position in the batch (0-based)."""
    detail: str = ""
    """What is wrong with an invalid area (shapely's explanation)."""

    @property
    def text(self) -> str:
        return {"unknown": f"{self.code} 编码不存在 is no grid node's code",
                "retired": f"{self.code} 已撤销 is retired: it keeps no boundary",
                "repeated": f"{self.code} 重复 is given more than once",
                "invalid": f"{self.code} 边界无效 has no valid area ({self.detail})",
                }[self.kind]


def invalid_area(area: Area) -> str | None:
    """Why ``area`` is no valid polygon (a library caller may build one by hand: a ring
    crossing itself, nothing in it), or None."""
    try:
        geometry = area.geometry()
    except (ValueError, TypeError, GEOSException) as e:
        return f"not polygons: {str(e)[:80]}"
    if geometry.is_empty or not geometry.is_valid:
        return "empty" if geometry.is_empty else explain_validity(geometry)[:120]
    return None


class BoundariesRefused(InvalidInput):
    """A batch of boundaries was refused whole (nothing written): ``codes`` the features
    whose code cannot take a boundary, ``problems`` the geometry between nodes (outside the
    parent, overlapping a sibling, a gap in a parent's cover when gaps are refused)."""

    def __init__(self, codes: Sequence[CodeProblem] = (),
                 problems: Sequence[BoundaryProblem] = ()) -> None:
        self.codes, self.problems = tuple(codes), tuple(problems)
        lines = [c.text for c in self.codes] + [
            f"{p.text} (near 位置 {p.at.lng:.6f},{p.at.lat:.6f})" for p in self.problems]
        shown = "; ".join(lines[:20]) + (f"; … {len(lines) - 20} more" if len(lines) > 20 else "")
        if self.codes:
            remedy = ("Give each feature the code of an active grid node, once, with a valid "
                      "polygon (rings closed, not crossing themselves); nothing was drawn.")
        else:
            remedy = ("Redraw so each node lies within its parent (上级边界内) and siblings "
                      "meet without overlapping (不重叠), each child covering its part of the "
                      "parent; nothing was drawn.")
        InvalidInput.__init__(self, f"{len(lines)} boundary problems (边界问题): {shown}.", remedy)


@dataclass(frozen=True)
class BoundaryReport:
    """What a batch of boundaries drew: ``drawn`` the codes whose boundary changed,
    ``unchanged`` those given the boundary they had, ``gaps`` the parts of parents their
    children leave uncovered (allowed unless the batch was strict)."""

    drawn: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    gaps: tuple[BoundaryProblem, ...] = field(default=())
    notification_id: int | None = None


class GridCommands(ApplicationBase):
    # ---- grid hierarchy ------------------------------------------------------------------

    @command
    def establish_city(self, code: str, name: str, *, by: Actor) -> int | None:
        if self._find(GridNode, node_id(code)) is not None:
            raise DuplicateCode(f"Grid code {code} is already used.", "Choose another code.")
        return self._save(GridNode.establish(code, name, Level.CITY, None, self.clock()))

    @command
    def create_node(self, code: str, name: str, parent_code: str, *, by: Actor) -> int | None:
        """Create a district, street, community or micro-grid under ``parent_code``."""
        return self._create_children(parent_code, {code: name})

    @command
    def create_nodes(self, parent_code: str, children: Mapping[str, str], *,
                     by: Actor) -> int | None:
        """Create several nodes under ``parent_code`` at once (``children``: each new code and
        its name), as ``create_node`` checks each: a community's micro-grids, say, in one
        transaction; one refused refuses them all."""
        check_batch(children, "new nodes", MAX_CHILDREN, mapping="each new code to its name")
        return self._create_children(parent_code, children)

    def _create_children(self, parent_code: str, children: Mapping[str, str]) -> int | None:
        """The new nodes under an active parent, each code extending the parent's at the level
        below it and used by no node before, saved with the parent in one transaction."""
        at = self.clock()
        parent = self.node(parent_code)
        parent.require_active()
        levels = {code: child_level(parent.level, code, parent_code) for code in children}
        taken = self._find_many(GridNode, map(node_id, children), for_reading=True)
        if taken:
            used = sorted(n.code for n in taken.values())
            raise DuplicateCode(f"Grid code{'s' if len(used) > 1 else ''} "
                                f"{', '.join(used[:10])} {'are' if len(used) > 1 else 'is'} "
                                "already used.", "Choose a code no other node has had.")
        made = []
        for code, name in children.items():
            made.append(GridNode.establish(code, name, levels[code], parent_code, at))
            parent.attach(code, at)
        return self._save(*made, parent)

    @command
    def rename_node(self, code: str, name: str, *, by: Actor) -> int | None:
        node = self.node(code)
        node.rename(name, self.clock())
        return self._save(node)

    @command
    def move_node(self, code: str, new_parent_code: str, *, by: Actor) -> int | None:
        """Re-parent a node under another node of its parent's level (history is kept)."""
        at = self.clock()
        node, new_parent = self.node(code), self.node(new_parent_code)
        new_parent.require_active()
        check_move(node.level, new_parent.level, code, new_parent_code)
        if node.parent_code == new_parent_code:
            raise InvalidInput(f"{code} is already under {new_parent_code}.",
                               "Choose a different parent.")
        old_parent = self.node(node.parent_code) if node.parent_code else None
        node.move_under(new_parent_code, at)
        new_parent.attach(code, at)
        if old_parent is not None:
            old_parent.detach(code, at)
        return self._save(node, new_parent, old_parent)

    @command
    def split_micro_grid(self, code: str, parts: dict[str, tuple[str, list[UUID]]],
                         *, by: Actor) -> int | None:
        """Split a micro-grid into new ones: ``parts`` maps each new code to its name and the
        households it takes. Every household must go to exactly one part; the old grid retires.

        Its staffing goes with it (``assignment.carried_staffing``): every part keeps the old
        micro-grid's responsible worker and squad (the parts share the squad until an official
        re-forms them), and staff whose jurisdiction was the old micro-grid move to its
        community, the one node that holds every part."""
        at = self.clock()
        old = self.node(code)
        if old.level is not Level.MICRO_GRID:
            raise InvalidInput(f"{code} is a {old.level.name.lower()}.", "Split a micro-grid.")
        if len(parts) < 2:
            raise InvalidInput("A split needs at least two parts.", "Give two or more new codes.")
        given = [h for _, hs in parts.values() for h in hs]
        if sorted(given, key=str) != sorted(old.households, key=str):
            raise InvalidInput(
                f"The parts must share out exactly the {len(old.households)} households of {code}.",
                "List every household of the old micro-grid once.")
        return self._reshape([code], parts, old.parent_code or "", at, f"split of {code}")

    @command
    def merge_micro_grids(self, codes: list[str], into_code: str, name: str,
                          *, by: Actor) -> int | None:
        """Merge micro-grids of one community into a new micro-grid; the old ones retire.

        Their staffing goes with them (``assignment.carried_staffing``): the merged micro-grid
        takes the responsible worker of the part with the most residents among those that have
        one (ties: the first in ``codes``) and the union of the squads, and staff whose
        jurisdiction was one of the old micro-grids move to the merged one."""
        at = self.clock()
        if len(set(codes)) != len(codes):
            raise InvalidInput(f"The codes {', '.join(codes)} repeat a micro-grid.",
                               "Name each micro-grid to merge once.")
        olds = [self.node(c) for c in codes]
        if len(olds) < 2 or any(o.level is not Level.MICRO_GRID for o in olds):
            raise InvalidInput("A merge needs two or more micro-grids.", "Give micro-grid codes.")
        parents = {o.parent_code for o in olds}
        if len(parents) != 1:
            raise InvalidInput("The micro-grids belong to different communities.",
                               "Move them under one community first.")
        households = [h for o in olds for h in o.households]
        return self._reshape(codes, {into_code: (name, households)}, parents.pop() or "", at,
                             f"merge of {', '.join(codes)}")

    def _reshape(self, old_codes: list[str], parts: dict[str, tuple[str, list[UUID]]],
                 parent_code: str, at: datetime, reason: str) -> int | None:
        parent = self.node(parent_code)
        olds = [self.node(c) for c in old_codes]
        changed: list[Aggregate] = [parent]
        worker, squad = carried_staffing([(o.responsible_worker, o.squad, o.residents)
                                          for o in olds])
        # the one node holding every new micro-grid: the merged one, or a split's community
        home = parent
        for new_code, (name, hids) in parts.items():
            level = child_level(parent.level, new_code, parent_code)
            if self._find(GridNode, node_id(new_code)) is not None:
                raise DuplicateCode(f"Grid code {new_code} is already used.", "Choose another.")
            new = GridNode.establish(new_code, name, level, parent_code, at)
            parent.attach(new_code, at)
            households = [self.household(h) for h in hids]
            for h in households:
                h.move(new_code, h.building_id, None, at)
            new.update_households({h.id: len(h.residents) for h in households}, at)
            if worker is not None:
                new.assign_responsible_worker(worker, at)
            if squad:
                new.form_squad(squad, at)
            for o in olds:
                o.update_households({h.id: 0 for h in households if h.id in o.households}, at)
            changed.extend([new, *households])
            if len(parts) == 1:
                home = new
        home_chain = ([] if home is parent else [home.code]) + self.ancestry(parent_code)
        for sid in dict.fromkeys(s for o in olds for s in o.staff):
            changed += self._carry_jurisdiction(self.staff(sid), old_codes, home, home_chain, at)
        for o in olds:
            for sid in list(o.staff):
                o.remove_staff(sid, at)
            o.retire(reason, list(parts), at)
            parent.detach(o.code, at)
        return self._save(*changed, *olds)

    def _carry_jurisdiction(self, member: StaffMember, old_codes: list[str], home: GridNode,
                            home_chain: list[str], at: datetime) -> list[Aggregate]:
        """A member whose jurisdiction held a retiring micro-grid now holds ``home`` there
        instead (a node of theirs that then lies inside another is dropped): the changed
        member and the nodes that drop them (``home`` lists them)."""
        given = dict.fromkeys(home.code if c in old_codes else c for c in member.jurisdictions)
        chains = {c: home_chain if c == home.code else self.ancestry(c) for c in given}
        kept = tuple(c for c in given if not any(o != c and o in chains[c] for o in given))
        member.change_jurisdiction(kept, at)
        home.add_staff(member.id, at)
        dropped = [self.node(c) for c in given if c not in kept and c != home.code]
        for node in dropped:
            node.remove_staff(member.id, at)
        return [member, *dropped]

    @command
    def retire_node(self, code: str, reason: str, *, by: Actor) -> int | None:
        at = self.clock()
        reason = free_text(reason, "reason for retiring the node")
        node = self.node(code)
        node.retire(reason, [], at)
        parent = self.node(node.parent_code) if node.parent_code else None
        if parent is not None:
            parent.detach(code, at)
        return self._save(node, parent)

    # ---- boundaries (边界) ------------------------------------------------------------------

    @command(replay=lambda self, features, *_, **__: BoundaryReport(
        unchanged=tuple(dict.fromkeys(c for c, _ in features)),
        notification_id=self.recorder.max_notification_id()))
    def draw_boundaries(self, features: Sequence[tuple[str, Area]], crs: Crs, source: str,
                        *, by: Actor, allow_gaps: bool = True) -> BoundaryReport:
        """Draw the boundaries of nodes (``features``: each node's code and its area in
        WGS-84; ``crs`` and ``source`` record what the areas were given in and where from),
        all or nothing.

        Every code must name an active node, once. Each area must lie within its parent's
        (the parent's in this batch, else its stored one; a parent with no boundary checks
        nothing), and a redrawn node must still hold its children's stored boundaries;
        siblings (the batch's and the stored ones of the same parent) must not overlap. The
        part of a parent its children leave uncovered (when any of them has a boundary) is
        reported as a gap, and refused only when ``allow_gaps`` is False. Any problem refuses
        the whole batch (``BoundariesRefused``, listing each)."""
        at = self.clock()
        if not features:
            raise InvalidInput("No boundaries were given.",
                               "Give one or more features, each a node's code and its area.")
        codes: list[CodeProblem] = []
        nodes: dict[str, GridNode] = {}
        new: dict[str, Area] = {}
        for index, (code, area) in enumerate(features):
            if code in new:
                codes.append(CodeProblem(code=code, kind="repeated", index=index))
                continue
            new[code] = area
            node = self._find(GridNode, node_id(code))
            if (fault := invalid_area(area)) is not None:
                codes.append(CodeProblem(code=code, kind="invalid", index=index, detail=fault))
            elif node is None:
                codes.append(CodeProblem(code=code, kind="unknown", index=index))
            elif node.retired:
                codes.append(CodeProblem(code=code, kind="retired", index=index))
            else:
                nodes[code] = node
        if codes:
            raise BoundariesRefused(codes=codes)
        problems, gaps = self._boundary_problems(new, nodes)
        if problems or (gaps and not allow_gaps):
            raise BoundariesRefused(problems=[*problems, *([] if allow_gaps else gaps)])
        drawn = [c for c in new if nodes[c].draw_boundary(new[c], crs, source, staff_of(by), at)]
        nid = self._save(*(nodes[c] for c in drawn))
        return BoundaryReport(drawn=tuple(drawn),
                              unchanged=tuple(c for c in new if c not in drawn),
                              gaps=tuple(gaps), notification_id=nid)

    def _boundary_problems(self, new: dict[str, Area], nodes: dict[str, GridNode]
                           ) -> tuple[list[BoundaryProblem], list[BoundaryProblem]]:
        """The problems (outside, overlap) and the gaps the batch ``new`` would leave."""
        stored: dict[str, Area | None] = {}

        def area_of(code: str) -> Area | None:
            if code in new:
                return new[code]
            if code not in stored:
                found = self._find(GridNode, node_id(code), for_reading=True)
                stored[code] = found.boundary if found is not None else None
            return stored[code]

        def children_of(code: str) -> list[str]:
            node = nodes.get(code) or self._find(GridNode, node_id(code), for_reading=True)
            return list(node.children) if node is not None else []

        problems: list[BoundaryProblem] = []
        parents = dict.fromkeys(n.parent_code for n in nodes.values() if n.parent_code)
        # within the parent: each new area, and the stored children of a redrawn node
        for code, area in new.items():
            parent = nodes[code].parent_code
            outer = area_of(parent) if parent else None
            if parent and outer is not None and (p := outside_parent(code, area, parent, outer)):
                problems.append(p)
            for child in children_of(code):
                inner = area_of(child)
                if child not in new and inner is not None \
                        and (p := outside_parent(child, inner, code, area)):
                    problems.append(p)
        # siblings: the batch's and the stored ones of each parent the batch draws under
        for parent in parents:
            assert parent is not None
            siblings = {c: a for c in children_of(parent) if (a := area_of(c)) is not None}
            problems.extend(p for p in overlaps(siblings) if p.code in new or p.other in new)
        # the cover of each parent whose own area or whose children's areas changed
        gaps: list[BoundaryProblem] = []
        for code in dict.fromkeys([*(p for p in parents if p), *new]):
            outer = area_of(code)
            inner_areas = [a for c in children_of(code) if (a := area_of(c)) is not None]
            if outer is not None and inner_areas and (g := cover_gap(code, outer, inner_areas)):
                gaps.append(g)
        return problems, gaps

    def boundary_at(self, code: str, when: datetime | None = None) -> Area | None:
        """The node's boundary (WGS-84) as it was at ``when`` (default: now); None when it had
        none then."""
        node = self.node(code)
        return node.boundary if when is None else node.boundary_at(when)

    def boundaries_under(self, code: str, when: datetime | None = None
                         ) -> list[tuple[GridNode, Area]]:
        """The active nodes of ``code``'s subtree (root first) that had a boundary at ``when``
        (default: now), with it."""
        out = []
        for node in self.subtree(code):
            area = node.boundary if when is None else node.boundary_at(when)
            if area is not None:
                out.append((node, area))
        return out

    def over_cap(self, code: str, at: datetime | None = None) -> dict[str, int]:
        """Micro-grids of the subtree above the resident soft cap, with the excess."""
        cap = self.policy_at(at or self.clock()).micro_grid_soft_cap
        return {g.code: e for g in self.micro_grids(code)
                if (e := soft_cap_excess(g.residents, cap))}

