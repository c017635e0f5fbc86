"""The corpus: every generator's pages, by generator name."""

from __future__ import annotations

from collections.abc import Callable

from tests.corpus import apidocs, books, js, mkdocs, sphinx
from tests.corpus.markup import CorpusPage

GENERATORS: dict[str, Callable[[], list[CorpusPage]]] = {
    "sphinx-classic": sphinx.sphinx_classic,
    "sphinx-rtd": sphinx.sphinx_rtd,
    "furo": sphinx.furo,
    "pydata-sphinx-theme": sphinx.pydata,
    "alabaster": sphinx.alabaster,
    "mkdocs-material": mkdocs.mkdocs_material,
    "mkdocs-rtd": mkdocs.mkdocs_rtd,
    "docusaurus": js.docusaurus,
    "vitepress": js.vitepress,
    "mdbook": books.mdbook,
    "gitbook": books.gitbook,
    "antora": books.antora,
    "hugo-docsy": books.docsy,
    "javadoc": apidocs.javadoc,
    "doxygen": apidocs.doxygen,
    "table-layout": apidocs.table_layout_theme,
}


def corpus() -> dict[str, list[CorpusPage]]:
    """Every generator's pages (built fresh: a few milliseconds)."""
    return {name: make() for name, make in GENERATORS.items()}
