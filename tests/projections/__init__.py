"""projections tests."""
