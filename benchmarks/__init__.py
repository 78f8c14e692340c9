"""Benchmarks: ``make bench`` (or ``python -m benchmarks``) writes docs/benchmarks.md."""
