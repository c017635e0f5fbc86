"""The corpus: every generator's pages, by generator name."""

from __future__ import annotations

from collections.abc import Callable

from tests.corpus import sphinx
from tests.corpus.markup import CorpusPage

GENERATORS: dict[str, Callable[[], list[CorpusPage]]] = {
    "sphinx-classic": sphinx.sphinx_classic,
    "sphinx-rtd": sphinx.sphinx_rtd,
    "furo": sphinx.furo,
    "pydata-sphinx-theme": sphinx.pydata,
    "alabaster": sphinx.alabaster,
}


def corpus() -> dict[str, list[CorpusPage]]:
    """Every generator's pages (built fresh: a few milliseconds)."""
    return {name: make() for name, make in GENERATORS.items()}
