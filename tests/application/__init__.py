"""application tests."""
