"""Benchmarks for docscrawl; see BENCHMARKS.md for results and the commands that made them."""
