"""A daily report's figures (日报统计数) read from the read models, for the library's
``submit_report`` (gridcore reads no read model: the API and the CLI call this and pass the
figures in).

As of the period's end (time travel): households, residents, each measure and health (the
grid rollup's history), and the contacts under follow-up (contact follow-up, ``as_of``). As
the read models are when asked (they keep no history of these): the sweep coverage of the
newest sweep launched before the period's end that touches the node, and the open
deliveries, requests and alerts. The report stores the figures as submitted, so what was
reported stays answerable whatever the read models say later.
"""

from __future__ import annotations

from datetime import datetime

from gridcore.daily_report import ReportFigures
from projections.base import ReadViews
from projections.contact_followup import follow_up_by_node
from projections.grid_rollup import chains
from projections.queries import open_items
from projections.sweep_coverage import campaigns_touching, coverage
from projections.time_travel import rollup_at


def figures_for(views: ReadViews, code: str, period_end: datetime,
                now: datetime | None = None) -> ReportFigures:
    """The figures of ``code``'s subtree for a report whose period ends at ``period_end``."""
    counts = rollup_at(views, code, period_end)
    measure, health = counts["by_measure"], counts["by_health"]
    follow = follow_up_by_node(views, code, now or period_end, as_of=period_end).get(code)
    chain = chains(views, [code]).get(code, [])
    launched = [c for c in campaigns_touching(views, code, chain[1:])
                if c.starts <= period_end]
    swept = coverage(views, launched[-1].campaign_id, code) if launched else None
    items = open_items(views, [code])[code]
    return ReportFigures(
        households=max(0, counts["households"]), residents=max(0, counts["residents"]),
        home_observation=max(0, measure.get("home_observation", 0)),
        home_quarantine=max(0, measure.get("home_quarantine", 0)),
        centralized_quarantine=max(0, measure.get("centralized_quarantine", 0)),
        hospitalized=max(0, measure.get("hospitalized", 0)),
        suspected=max(0, health.get("suspected", 0)),
        confirmed=max(0, health.get("confirmed", 0)),
        close_contacts=follow.close if follow else 0,
        secondary_contacts=follow.secondary if follow else 0,
        sweep_households=swept["households"] if swept else 0,
        sweep_covered=swept["covered"] if swept else 0,
        deliveries_open=items.deliveries, requests_open=items.requests,
        alerts_open=items.alerts)
