"""Who may give the commands that reach beyond one household (pure rules).

Field commands check their actor where they act (status changes, tags, assignments). The
commands here set up devices and sites or declare facts for a whole area: a risk area declared
by mistake would raise vehicle alerts at every checkpoint of the city, so only the roles named
below may give them. A command given without an actor (``by=None``) comes from the system
itself: an external feed (the stream worker, ``gridcore ingest``) or a municipal system
importing the library, which answer for their own inputs.
"""

from __future__ import annotations

from collections.abc import Mapping

from gridcore.errors import NotPermitted
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

AUTHORITY: Mapping[str, frozenset[Role]] = {
    "declare_risk_area": OFFICIALS,
    "lift_risk_area": OFFICIALS,
    "record_travel": POLICE_AND_OFFICIALS,
    "register_camera": POLICE_AND_OFFICIALS,
    "register_checkpoint": POLICE_AND_OFFICIALS,
    "record_camera_detection": POLICE_AND_OFFICIALS | {Role.DUTY_LEAD, Role.GRID_WORKER},
    "register_quarantine_site": OFFICIALS,
    "register_enterprise": OFFICIALS | {Role.ENTERPRISE_SPECIALIST},
    "assign_specialist": OFFICIALS,
    "seal_scope": POLICE_AND_OFFICIALS | {Role.DUTY_LEAD},
}
"""command name -> the roles that may give it (vehicle passes are recorded by whoever staffs
the checkpoint, volunteers included, so ``record_vehicle_pass`` is not listed)."""


def check_authority(command: str, role: Role) -> None:
    """Raise ``NotPermitted`` when ``role`` may not give ``command``."""
    allowed = AUTHORITY.get(command)
    if allowed is None or role in allowed:
        return
    names = "、".join(sorted(r.label for r in allowed))
    raise NotPermitted(f"A {role.value} may not {command.replace('_', ' ')}.",
                       f"Ask one of: {names}.")
