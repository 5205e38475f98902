"""Benchmarks: each script prints its figures (see README.md here)."""
