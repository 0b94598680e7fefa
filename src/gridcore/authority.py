"""Who may give the commands that reach beyond one household (pure rules).

Field commands check their actor where they act (status changes, tags, assignments). The
commands here set up devices and sites or declare facts for a whole area: a risk area declared
by mistake would raise vehicle alerts at every checkpoint of the city, so only the roles named
below may give them, and where a rule names a level, only from a jurisdiction at that level or
above (a micro-grid's official declares no risk area) and only for places inside that
jurisdiction (one community's official lifts no other community's declaration). A command
given without an actor (``by=None``) comes from the system itself: an external feed (the
stream worker, ``gridcore ingest``) or a municipal system importing the library, which answer
for their own inputs. A deactivated staff member gives no command at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gridcore.errors import NotPermitted
from gridcore.grid import Level
from gridcore.staff import Role

OFFICIALS = frozenset({Role.OFFICIAL})
POLICE_AND_OFFICIALS = frozenset({Role.OFFICIAL, Role.COMMUNITY_POLICE})

# Who may give the administrative commands whose methods name no actor (the API applies these
# before it calls them; a municipal system importing the library answers for its own callers).
SHAPERS = OFFICIALS
"""The tree is the administration's own structure: officials shape it."""
ENROLLERS = OFFICIALS
"""Officials enrol staff, name responsible workers and form squads."""
DISPATCHERS = frozenset({Role.OFFICIAL, Role.DUTY_LEAD})
"""Officials and the duty lead (总值班) assign rounds and move work between people."""
ORGANISERS = DISPATCHERS
"""Who launches and closes campaigns and runs the findings follow-up."""
REGISTRARS = frozenset({Role.OFFICIAL, Role.GRID_WORKER, Role.COMMUNITY_POLICE})
"""Who keeps the register: grid workers collect it (入户摸排), police keep 户籍, officials."""
MARKERS = REGISTRARS | {Role.FAMILY_DOCTOR}
"""Who may declare a vulnerability: the registrars and the family doctor."""
TESTERS = frozenset({Role.FAMILY_DOCTOR, Role.OFFICIAL, Role.GRID_WORKER})
"""Who enters a test result: the doctor, and the grid worker or official who collected it."""
ERASERS = OFFICIALS
"""Erasure destroys a person's data for good: an official's decision."""
ADOPTERS = OFFICIALS
"""Officials adopt a policy (of the whole city)."""


@dataclass(frozen=True)
class Rule:
    """Who may give a command: the roles, and optionally the lowest level the giver's
    jurisdiction may be at (``Level.COMMUNITY``: a community, a street, a district or the
    city). The places a command acts at must lie in the giver's jurisdiction (the application
    finds which do not and passes them to ``check_authority``)."""

    roles: frozenset[Role]
    level: Level | None = None


AUTHORITY: Mapping[str, Rule] = {
    "declare_risk_area": Rule(OFFICIALS, Level.COMMUNITY),
    "lift_risk_area": Rule(OFFICIALS, Level.COMMUNITY),
    "record_travel": Rule(POLICE_AND_OFFICIALS),
    "register_camera": Rule(POLICE_AND_OFFICIALS),
    "register_checkpoint": Rule(POLICE_AND_OFFICIALS),
    "record_camera_detection": Rule(POLICE_AND_OFFICIALS | {Role.DUTY_LEAD, Role.GRID_WORKER}),
    "register_quarantine_site": Rule(OFFICIALS),
    "register_enterprise": Rule(OFFICIALS | {Role.ENTERPRISE_SPECIALIST}),
    "assign_specialist": Rule(OFFICIALS),
    "seal_scope": Rule(POLICE_AND_OFFICIALS | {Role.DUTY_LEAD}),
    "deactivate_staff": Rule(ENROLLERS),
    "reactivate_staff": Rule(ENROLLERS),
    "change_staff_jurisdiction": Rule(ENROLLERS),
    "erase_staff_member": Rule(ERASERS),
}
"""command name -> who may give it (vehicle passes are recorded by whoever staffs the
checkpoint, volunteers included, so ``record_vehicle_pass`` is not listed)."""


def check_authority(command: str, role: Role, level: Level | None = None,
                    outside: Sequence[str] = ()) -> None:
    """Raise ``NotPermitted`` when a staff member of ``role`` whose jurisdiction is at
    ``level`` may not give ``command``, or when places it acts at (``outside``) lie outside
    their jurisdiction."""
    rule = AUTHORITY.get(command)
    if rule is None:
        return
    doing = command.replace("_", " ")
    if role not in rule.roles:
        names = "、".join(sorted(r.label for r in rule.roles))
        raise NotPermitted(f"A {role.value} may not {doing}.", f"Ask one of: {names}.")
    if rule.level is not None and level is not None and level > rule.level:
        raise NotPermitted(f"A {role.value} of a {level.label} may not {doing}.",
                           f"Ask a {role.value} of a {rule.level.label} or above.")
    if outside:
        raise NotPermitted(f"{outside[0]} lies outside your jurisdiction: you may not "
                           f"{doing} there.",
                           "Ask an official whose jurisdiction contains it.")
