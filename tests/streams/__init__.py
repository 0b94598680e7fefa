"""streams tests."""
