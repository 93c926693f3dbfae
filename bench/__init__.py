"""Benchmarks with targets: `python -m bench [NAME ...]` (see bench/README.md)."""
