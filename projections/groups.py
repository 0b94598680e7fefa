"""Projection groups: the read models split into named groups, each of which one process
(``gridcore projections run --group NAME``) keeps up with its own positions.

One runner applies every read model in one CPython process, so catching up is bound to one
core. A group runs the same loop over its own read models only (each process reads and
decodes the events its group follows for itself), so the groups catch up side by side on as
many cores, or machines, as there are processes: on PostgreSQL each read model's commits take
a lock of their own; on SQLite the processes take turns at the views file's one writer.
Exactly once holds per read model as with one process: a batch's rows and positions are
committed together and fenced (``projections.views``), so even two processes given the same
group never apply a batch twice.

The default grouping splits the work by cost, as measured by ``make bench BENCH=projections``
(share of a catch-up from zero over a registration-heavy log, PostgreSQL):

- ``grid``: ``grid_rollup`` (18%) and ``household_status_history`` (12%), which both follow
  every household's status, and ``staff_workload`` (cheap);
- ``field``: ``sweep_coverage`` (19%) and ``household_timeline`` (13%), with the cheap
  ``referral_pipeline``, ``contact_followup``, ``testing_coverage`` and ``monitoring_board``;
- ``boards``: ``delivery_board`` (10%) and the small ``alerts_board``, ``enterprise_board``,
  ``requests_board``, ``assistance_board``, ``public_notices``, ``places`` (points and
  boundaries for the spatial questions).

``GRIDCORE_PROJECTION_GROUPS`` (read by ``adapters.bootstrap``) replaces it, as
``name=projection,projection;name=...``; every read model must be in exactly one group, so no
read model is left without a process and none has two owners by configuration.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

Groups = Mapping[str, tuple[str, ...]]
"""Group name -> the names of its read models."""

DEFAULT_GROUPS: Groups = {
    "grid": ("grid_rollup", "household_status_history", "staff_workload"),
    "field": ("sweep_coverage", "household_timeline", "referral_pipeline",
              "contact_followup", "testing_coverage", "monitoring_board"),
    "boards": ("delivery_board", "alerts_board", "enterprise_board", "requests_board",
               "assistance_board", "public_notices", "places"),
}
VARIABLE = "GRIDCORE_PROJECTION_GROUPS"


class GroupError(ValueError):
    """A grouping that does not cover the read models once each, or a group that does not
    exist: the message says what is wrong and what would be right."""


def parse_groups(spec: str) -> dict[str, tuple[str, ...]]:
    """``boards=alerts_board,delivery_board;grid=grid_rollup`` as a mapping (spaces around
    names are ignored)."""
    groups: dict[str, tuple[str, ...]] = {}
    for part in (p.strip() for p in spec.split(";")):
        if not part:
            continue
        name, sep, members = part.partition("=")
        name = name.strip()
        names = tuple(m.strip() for m in members.split(",") if m.strip())
        if not sep or not name or not names:
            raise GroupError(f"{VARIABLE}: {part!r} is not a group: write "
                             "NAME=projection,projection (groups separated by ';'), e.g. "
                             "grid=grid_rollup,household_status_history")
        if name in groups:
            raise GroupError(f"{VARIABLE}: the group {name!r} is given twice")
        groups[name] = names
    if not groups:
        raise GroupError(f"{VARIABLE} names no group: unset it for the default grouping, or "
                         "write NAME=projection,projection;NAME=...")
    return groups


def check_groups(groups: Groups, projections: Iterable[str]) -> None:
    """Every read model in exactly one group, and every name in a group a read model."""
    known = set(projections)
    owners: dict[str, list[str]] = {}
    for group, names in groups.items():
        for name in names:
            owners.setdefault(name, []).append(group)
    problems = []
    unknown = sorted(set(owners) - known)
    if unknown:
        problems.append(f"no read model is named {', '.join(unknown)}")
    twice = sorted(n for n, gs in owners.items() if len(gs) > 1)
    if twice:
        problems.append("in more than one group: " + ", ".join(
            f"{n} ({', '.join(owners[n])})" for n in twice))
    missing = sorted(known - set(owners))
    if missing:
        problems.append(f"in no group (no process would run them): {', '.join(missing)}")
    if problems:
        raise GroupError(f"the projection groups are wrong: {'; '.join(problems)}. Put each "
                         f"read model in exactly one group; the read models are "
                         f"{', '.join(sorted(known))}")


def members(groups: Groups, wanted: Sequence[str]) -> list[str]:
    """The read models of the ``wanted`` groups (each name may be a comma list), in the
    groups' order; ``GroupError`` naming the known groups for one that does not exist."""
    names = [n.strip() for w in wanted for n in w.split(",") if n.strip()]
    unknown = [n for n in names if n not in groups]
    if unknown or not names:
        raise GroupError(f"no projection group named {', '.join(unknown) or '(none given)'}; "
                         f"the groups are {', '.join(groups)} (set by {VARIABLE})")
    return [p for n in dict.fromkeys(names) for p in groups[n]]


def group_of(groups: Groups) -> dict[str, str]:
    """Read model name -> its group."""
    return {p: g for g, names in groups.items() for p in names}
