"""Households' vulnerabilities in the read models: a registered member as the grid rollup keeps
it, and the first year each vulnerability of a household holds (``gr_vulnerable``), so that
"vulnerable in year Y" is ``since <= Y`` whatever year a query asks about."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gridcore.household import Vulnerability

Fresh = tuple[str, tuple[str, ...], int | None]
"""A member as registered: resident id, declared vulnerabilities, birth year."""

AGE = 65
_AGED, _ALONE = Vulnerability.AGE_65_PLUS.value, Vulnerability.LIVES_ALONE.value


def fresh_member(member: Any) -> Fresh:
    """A registered or added member (a ``gridcore.household.Member``, decoded leanly)."""
    declared = member.vulnerabilities  # most members declare none
    return (str(member.resident_id),
            tuple(sorted(v.value for v in declared)) if declared else (), member.birth_year)


def vulnerable_since(members: Iterable[tuple[Iterable[str], int | None]]) -> dict[str, int]:
    """The first year each vulnerability of a household holds, from its members' declared
    vulnerabilities and birth years (``gridcore.household.derived_vulnerabilities``: 65+ from
    the birth year; living alone for the only member of a household when 65+); 0 for a
    declared one. (One pass, no set per member: a catch-up runs it for every registration.)"""
    since: dict[str, int] = {}
    aged: int | None = None  # the first year any member is 65+
    count = 0
    for declared, born in members:
        count += 1
        if declared:
            since.update(dict.fromkeys(declared, 0))
            if _AGED in since:
                aged = 0
        if born is not None and (aged is None or born + AGE < aged):
            aged = born + AGE
    if aged is not None:
        since[_AGED] = aged
        if count == 1:
            since[_ALONE] = min(since.get(_ALONE, aged), aged)
    return since
