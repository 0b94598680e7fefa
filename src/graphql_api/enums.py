"""GraphQL enums mirroring gridcore's (copies: the domain's classes stay free of strawberry)."""

from __future__ import annotations

from enum import Enum

import strawberry

from gridcore import assignment, grid, staff, status, sweep


def _mirror(source: type[Enum], name: str, description: str) -> type[Enum]:
    values = {m.name: m.value if isinstance(m.value, str) else m.name.lower() for m in source}
    return strawberry.enum(Enum(name, values), description=description)  # type: ignore[return-value]


Health = _mirror(status.Health, "Health", "健康状况 a resident's health")
Measure = _mirror(status.Measure, "Measure", "管控措施 the measure a resident is under")
TagKind = _mirror(status.TagKind, "TagKind", "标记 a resident's tag")
Level = _mirror(grid.Level, "Level", "网格层级 the level of a grid node")
Role = _mirror(staff.Role, "Role", "角色 a staff member's role")
VisitMethod = _mirror(assignment.Method, "VisitMethod", "排查方式 how a household was checked")
VisitOutcome = _mirror(sweep.Outcome, "VisitOutcome", "排查结果 the outcome of a visit")
