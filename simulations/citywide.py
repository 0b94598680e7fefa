"""A city-sized city and its sweep at bulk speed, for the stress mode and the Wuhan-scale
benchmark.

``city_spec(n)`` shapes a city of about ``n`` households (communities of about 3,000 in 30
micro-grids, 10 communities per street, 10 streets per district; staff in the 712 community's
proportions). ``sweep_city`` has every community launch its sweep campaign (the plan, through
``launch_campaign``) and record one visit per household, by the plan's owner and method, in
batches through ``record_visits`` (each visit checked as ``record_visit`` checks one).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

from gridcore.application import GridcoreApp
from gridcore.authority import System
from gridcore.sweep_commands import VisitRow
from simulations.city import CitySpec
from simulations.sweep import SimClock

COMMUNITY = 3_000  # households per community (Wuhan: about 4.2 M households, 1,400+ communities)
VISIT_BATCH = 5_000


def city_spec(households: int, seed: int = 4201) -> CitySpec:
    """A city of about ``households`` households."""
    wanted = max(1, math.ceil(households / COMMUNITY))
    per_street = min(10, wanted)
    streets = math.ceil(wanted / per_street)
    per_district = min(10, streets)
    districts = math.ceil(streets / per_district)
    communities = districts * per_district * per_street
    size = max(1, round(households / communities))
    return CitySpec(seed=seed, city_code="4201", city_name="武汉市", districts=districts,
                    streets_per_district=per_district, communities_per_street=per_street,
                    grids_per_community=30, households_per_community=size,
                    households_per_building=100, floors=25, batch=size)


def sweep_city(app: GridcoreApp, clock: SimClock, spec: CitySpec, batch: int = VISIT_BATCH,
               on_batch: Callable[[int], None] | None = None, start: int = 0,
               on_community: Callable[[int, int], None] | None = None) -> int:
    """Each community launches round 1 of its sweep and records one (seen) visit per
    household, in batches. Returns the visits recorded; ``on_batch(visits)`` after each batch.
    Every step carries a client id, so a repeated run records nothing twice.

    ``start`` skips the first communities (a resumed run: they were swept before);
    ``on_community(done, visits)`` is called after each community with the number of
    communities swept so far (counting the skipped ones) and the visits of this call."""
    visits = 0
    for done, community in enumerate(spec.communities()[start:], start=start + 1):
        app.launch_campaign(community, 1, 3, client_id=f"citywide:{community}:launch",
                            by=System.OPERATOR)
        campaign = app.campaign_of(community, 1)
        plan = app.assignment(community, 1)
        clock.set(clock.now + timedelta(minutes=1))
        rows = [VisitRow(hid, plan.method.get(hid) or plan.uncovered[hid].method,
                         by=plan.owner.get(hid), visited_at=clock.now)
                for hid in campaign.households]
        for i in range(0, len(rows), batch):
            report = app.record_visits(campaign.id, rows[i:i + batch],
                                       client_id=f"citywide:{community}:visits:{i}",
                                       by=System.OPERATOR)
            visits += report.recorded
            if on_batch is not None:
                on_batch(visits)
        if on_community is not None:
            on_community(done, visits)
    return visits
