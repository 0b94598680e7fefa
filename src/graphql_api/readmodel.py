"""Transitional name for the mutations that still read sweep campaigns through this module:
the read lives with the read model that owns its tables
(``projections.sweep_coverage.campaigns_touching``). New code imports it from there; this
module goes when no mutation names it. No SQL here: ``tests/test_read_side_shape.py`` checks
it."""

from __future__ import annotations

from projections.sweep_coverage import CampaignRow, campaigns_touching

__all__ = ["CampaignRow", "campaigns_touching"]
