"""``clock { now scenario }``: the time the application runs at, and whether it is a
scenario's time rather than the wall clock's (the demo, a replayed scenario run under
``GRIDCORE_SCENARIO_CLOCK``), so the dashboard can say so and ages read as of that time."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.context import Context


@strawberry.type(description="The application's time.")
class Clock:
    now: datetime = strawberry.field(description="The application's time now (its clock, "
                                                 "which every command and deadline uses).")
    scenario: bool = strawberry.field(description="True when the clock runs at a scenario's "
                                                  "time (情景时间), not the wall clock's.")


@strawberry.type
class ClockQuery:
    @strawberry.field(description="The application's time and whether it is a scenario's; "
                                  "null without a staff token.")
    def clock(self, info: Info[Context, None]) -> Clock | None:
        ctx = info.context
        if ctx.caller is None:
            return None
        clock = ctx.app.clock
        return Clock(now=clock(), scenario=bool(getattr(clock, "scenario", False)))
