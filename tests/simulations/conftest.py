"""Simulation tests: the generator, the sweep and inspection models, stress and replay, and
the benchmarks' own checks (their speed is measured by ``make bench``, never here)."""
