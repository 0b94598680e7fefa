"""Commands and queries of the grid hierarchy (区/街道/社区/微网格) and buildings."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gridcore.app_base import (
    ApplicationBase,
    command,
)
from gridcore.assignment import carried_staffing
from gridcore.authority import Actor
from gridcore.base import Aggregate
from gridcore.errors import (
    DuplicateCode,
    InvalidInput,
)
from gridcore.grid import GridNode, Level, check_move, child_level, node_id, soft_cap_excess
from gridcore.staff import StaffMember
from gridcore.text import free_text


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
        at = self.clock()
        parent = self.node(parent_code)
        parent.require_active()
        level = child_level(parent.level, code, parent_code)
        if self._find(GridNode, node_id(code)) is not None:
            raise DuplicateCode(f"Grid code {code} is already used.",
                                "Choose a code no other node has had.")
        child = GridNode.establish(code, name, level, parent_code, at)
        parent.attach(code, at)
        return self._save(child, parent)

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

    def over_cap(self, code: str, at: datetime | None = None) -> dict[str, int]:
        """Micro-grids of the subtree above the resident soft cap, with the excess."""
        cap = self.policy_at(at or self.clock()).micro_grid_soft_cap
        return {g.code: e for g in self.micro_grids(code)
                if (e := soft_cap_excess(g.residents, cap))}

