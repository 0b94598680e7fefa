"""simulations tests."""
