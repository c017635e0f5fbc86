"""Benchmarks for docscrawl; see BENCHMARKS.md for results and the commands that made them."""

import compileall
import os
from pathlib import Path

# A user's docscrawl runs from cached bytecode. A shell with PYTHONDONTWRITEBYTECODE set (some
# containers set it, this machine's did) makes every timed process compile the project's
# modules first: 46 ms of each command's start-up, most of a `docscrawl status`. The timed
# processes inherit this environment; the project's bytecode is written here, once.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
for _package in ("control", "docscrawl"):
    compileall.compile_dir(Path(__file__).resolve().parent.parent / _package, quiet=2)
