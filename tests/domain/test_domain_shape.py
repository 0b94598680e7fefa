"""The shape of the domain (issue 14), read off the source with ``ast``.

- Every decision is a method of the aggregate it changes: events are recorded only by an
  aggregate's own methods (``self._trigger``, ``cls._create``), never by an application
  mixin, the field sync or another aggregate reaching into one. The commands load, call the
  aggregate's decision method (which checks the rule with the policy and the time passed in),
  and save.
- Free text has one rule, in ``gridcore.text``: no other module carries its own pattern for
  phone or ID numbers (``gridcore.identity`` parses the sealed phone and ID fields themselves,
  anchored whole-value patterns, which is a different question).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from gridcore.household import Household, new_member

ROOT = Path(__file__).resolve().parents[2]
GRIDCORE = ROOT / "src" / "gridcore"
MODULES = sorted(GRIDCORE.glob("*.py"))

RECORDERS = {"_trigger", "_create", "_create_trusted"}
"""The base class's ways of recording an event (``gridcore.base.Aggregate``)."""


def aggregate_classes() -> set[str]:
    """Names of the classes in gridcore that derive (transitively) from ``Aggregate``."""
    bases: dict[str, set[str]] = {}
    for path in MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(
                    b.id if isinstance(b, ast.Name) else b.attr
                    for b in node.bases if isinstance(b, ast.Name | ast.Attribute))
    found = {"Aggregate"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found - {"Aggregate"}
        found |= more


AGGREGATES = aggregate_classes()


def recordings_outside_aggregates(source: str) -> list[str]:
    """Each call of a recorder that is not an aggregate class's method calling it on
    ``self`` or ``cls``: ``line: call``."""
    found: list[str] = []

    def visit(node: ast.AST, owner: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, child.name if child.name in AGGREGATES else None)
                continue
            if (isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute)
                    and child.func.attr in RECORDERS):
                receiver = child.func.value
                own = (owner is not None and isinstance(receiver, ast.Name)
                       and receiver.id in ("self", "cls"))
                if not own:
                    found.append(f"{child.lineno}: {ast.unparse(child.func)}(...)")
            visit(child, owner)

    visit(ast.parse(source), None)
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_only_an_aggregate_records_its_own_events(path: Path) -> None:
    found = recordings_outside_aggregates(path.read_text(encoding="utf-8"))
    assert not found, (f"{path.name} records events outside an aggregate's own methods "
                       f"(give the aggregate a decision method): {found}")


def test_the_check_sees_a_command_reaching_into_an_aggregate() -> None:
    """The check above is not vacuous: the shapes it must refuse are refused, those it must
    allow are allowed."""
    reaching = '''
class HouseholdCommands(ApplicationBase):
    def change_health(self, h):
        h._trigger(Household.HealthChanged, at)
        self._trigger(Household.HealthChanged, at)
        OpenCampaigns._create(OpenCampaigns.Started, OPEN_CAMPAIGNS_ID, at)

def helper(h):
    h._trigger(Household.Tagged, at)

class Household(Aggregate):
    def tag(self, other):
        other._trigger(self.Tagged, at)
'''
    assert len(recordings_outside_aggregates(reaching)) == 5
    own = '''
class Household(Aggregate):
    @classmethod
    def register(cls):
        return cls._create_trusted(cls.Registered, hid, at)

    def tag(self):
        self._trigger(self.Tagged, at)
'''
    assert recordings_outside_aggregates(own) == []
    assert {"Household", "RequestDesk", "OpenCampaigns", "StaffMember"} <= AGGREGATES
    assert "HouseholdCommands" not in AGGREGATES


def test_the_resident_status_decisions_are_methods_of_the_household() -> None:
    for decision in ("change_health", "change_measure", "release_measure", "tag", "untag",
                     "record_test", "link_staff"):
        assert callable(getattr(Household, decision, None)), decision


def test_new_member_lives_next_to_member_and_is_still_importable_from_its_old_homes() -> None:
    from gridcore.application import new_member as from_application
    from gridcore.staff_commands import new_member as from_staff_commands

    assert from_application is new_member is from_staff_commands
    assert new_member.__module__ == "gridcore.household"


PERSONAL_NUMBER_PATTERNS = [r"1\[3-9\]", r"\\d\{1[5-7]", r"\\d\{6\}", r"\\d\{9\}",
                            r"\+86", r"0\\d\{2,3\}"]
"""Fragments a regular expression for a mobile, landline or ID number is written with."""

RULE_MODULE = "text.py"
FIELD_PARSERS = {"identity.py"}
"""``Phone.parse`` and ``IdNumber.parse``: whole-value patterns of the sealed fields."""


def string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def personal_number_patterns(path: Path) -> list[str]:
    return [s for s in string_constants(path)
            if any(re.search(p, s) for p in PERSONAL_NUMBER_PATTERNS)]


def test_one_free_text_rule_no_other_module_has_a_phone_or_id_pattern() -> None:
    found = {p.name: hits for p in MODULES
             if p.name not in {RULE_MODULE, *FIELD_PARSERS}
             and (hits := personal_number_patterns(p))}
    assert not found, ("A phone or ID pattern outside gridcore.text: use gridcore.text."
                       f"free_text (or refuse_personal_numbers) instead: {found}")
    assert personal_number_patterns(GRIDCORE / RULE_MODULE)  # the scan sees the rule's own


def test_the_free_text_rule_is_defined_once() -> None:
    defined = {p.name for p in MODULES for n in ast.walk(ast.parse(p.read_text("utf-8")))
               if isinstance(n, ast.FunctionDef)
               and n.name in ("free_text", "personal_number", "refuse_personal_numbers")}
    assert defined == {RULE_MODULE}


def test_the_household_decision_refuses_before_recording() -> None:
    """A decision method of the aggregate checks, then records: a refusal leaves it
    without a pending event."""
    from datetime import UTC, datetime

    from gridcore.errors import NotPermitted
    from gridcore.policy import DEFAULT_POLICY
    from gridcore.staff import Role
    from gridcore.status import Health

    at = datetime(2020, 2, 10, 9, tzinfo=UTC)
    m = new_member("H-SHAPE-1", 1, "张三")
    h = Household.register("H-SHAPE-1", "MG-1", "3栋2单元501", [m], at)
    h.collect_events()
    with pytest.raises(NotPermitted):
        h.change_health(m.resident_id, Health.CONFIRMED, by=None, role=Role.GRID_WORKER,
                        reason="", policy=DEFAULT_POLICY, at=at)
    assert h.collect_events() == []
    h.change_health(m.resident_id, Health.SYMPTOMATIC, by=None, role=Role.GRID_WORKER,
                    reason="发热 fever", policy=DEFAULT_POLICY, at=at)
    [event] = h.collect_events()
    assert isinstance(event, Household.HealthChanged)
    assert (event.previous, event.health, event.reason) == (Health.NORMAL, Health.SYMPTOMATIC,
                                                            "发热 fever")
