"""The docs spider's own rules: arguments, page identity across http/https, sitemap depth."""

from __future__ import annotations

import pytest

from docscrawl.spiders.docs import DocsSpider


def spider(url: str = "http://docs.example.com/guide/", **kwargs) -> DocsSpider:
    return DocsSpider(url=url, job_id=1, **kwargs)


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="start url"):
        DocsSpider(job_id=1)
    with pytest.raises(ValueError, match="job id"):
        DocsSpider(url="http://h/")
    with pytest.raises(ValueError, match="max_pages must be a whole number"):
        spider(max_pages="many")
    with pytest.raises(ValueError, match="must not be negative"):
        spider(max_depth="-1")
    assert spider(max_pages="5", max_depth="0").max_pages == 5


def test_scope_comes_from_the_start_url() -> None:
    s = spider("http://docs.example.com/guide/intro.html")
    assert s.allowed_domains == ["docs.example.com"]
    assert s.scope.prefix == "/guide/"


def test_http_and_https_are_one_page_once_the_site_redirects() -> None:
    s = spider()
    assert s.key("http://docs.example.com/guide/a.html") == "http://docs.example.com/guide/a.html"
    s._learn_scheme("http://docs.example.com/guide/", "https://docs.example.com/guide/")
    for variant in (
        "http://docs.example.com/guide/a.html",
        "https://docs.example.com/guide/a.html",
    ):
        assert s.key(variant) == "https://docs.example.com/guide/a.html"


def test_a_redirect_elsewhere_is_not_a_scheme_change() -> None:
    s = spider()
    s._learn_scheme("http://docs.example.com/old.html", "https://docs.example.com/new.html")
    assert s.scheme_alias is None


def test_resume_flag() -> None:
    assert spider(resume="1").resume and not spider().resume and not spider(resume="0").resume
