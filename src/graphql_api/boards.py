"""Transitional names for the mutations that still read the boards through this module: the
reads themselves now live with the read models that own their tables (``projections.queries``
for those spanning several, ``referral_pipeline.referral_by_id``,
``enterprise_board.enterprise_by_id``). New code imports those; this module goes when no
mutation names it. No SQL here: ``tests/test_read_side_shape.py`` checks it."""

from __future__ import annotations

from projections.enterprise_board import EnterpriseRow, enterprise_by_id
from projections.queries import deliveries_under, delivery_by_id, sites_under
from projections.referral_pipeline import ReferralRow, SiteRow, referral_by_id

__all__ = ["EnterpriseRow", "ReferralRow", "SiteRow", "deliveries_under", "delivery_by_id",
           "enterprise_by_id", "referral_by_id", "sites_under"]
