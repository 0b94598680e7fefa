"""Commands that reach beyond one household (risk areas, devices, sites, sealing) are refused,
with nothing written, when the staff member giving them lacks the role; the system itself
(``by=None``: feeds and importing systems) and the named roles may give them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from gridcore.application import GridcoreApp
from gridcore.authority import AUTHORITY, check_authority
from gridcore.errors import NotPermitted
from gridcore.staff import Role
from tests.conftest import Clock
from tests.scenario import COMMUNITY, DISTRICT, ZONES, Community, given_community


def commands(app: GridcoreApp, c: Community, clock: Clock) -> dict[str, Any]:
    t = clock.now
    hid = c.households[0]
    return {
        "declare_risk_area": lambda by: app.declare_risk_area("D-1", "鄂A", "high", t, by=by),
        "record_travel": lambda by: app.record_travel("T-1", "鄂A12345", "武汉", t, by=by),
        "register_camera": lambda by: app.register_camera("CAM-9", ZONES[0], household_id=hid,
                                                          by=by),
        "register_checkpoint": lambda by: app.register_checkpoint("KK-9", COMMUNITY, "卡口",
                                                                  by=by),
        "register_quarantine_site": lambda by: app.register_quarantine_site(
            "QS-9", "集中隔离点", DISTRICT, 40, by=by),
        "seal_scope": lambda by: app.seal_scope(COMMUNITY, t - timedelta(hours=1), by=by),
    }


@pytest.mark.parametrize("name", ["declare_risk_area", "record_travel", "register_camera",
                                  "register_checkpoint", "register_quarantine_site",
                                  "seal_scope"])
def test_a_volunteer_is_refused_and_nothing_is_written(app: GridcoreApp, clock: Clock,
                                                         name: str) -> None:
    c = given_community(app)
    before = app.recorder.max_notification_id()
    with pytest.raises(NotPermitted) as refused:
        commands(app, c, clock)[name](c.volunteer)
    assert app.recorder.max_notification_id() == before
    assert "volunteer" in refused.value.problem and "official" in refused.value.remedy


@pytest.mark.parametrize("name", ["declare_risk_area", "record_travel", "register_camera",
                                  "register_checkpoint", "register_quarantine_site",
                                  "seal_scope"])
@pytest.mark.parametrize("who", ["official", "system"])
def test_an_official_or_the_system_may(app: GridcoreApp, clock: Clock, name: str,
                                       who: str) -> None:
    c = given_community(app)
    before = app.recorder.max_notification_id() or 0
    by: UUID | None = c.official if who == "official" else None
    commands(app, c, clock)[name](by)
    assert (app.recorder.max_notification_id() or 0) > before


def test_every_role_outside_a_rule_is_refused_and_every_role_in_it_passes() -> None:
    for name, rule in AUTHORITY.items():
        for role in Role:
            if role in rule.roles:
                check_authority(name, role)
            else:
                with pytest.raises(NotPermitted):
                    check_authority(name, role)
    check_authority("record_vehicle_pass", Role.VOLUNTEER)  # not restricted
