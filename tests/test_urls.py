"""URL identity and crawl scope."""

from __future__ import annotations

import pytest

from docscrawl.urls import CrawlScope, has_skipped_extension, normalize_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://h/a.html#section", "http://h/a.html"),
        ("HTTP://Docs.Example.COM:80/a.html", "http://docs.example.com/a.html"),
        ("https://h:443/a/", "https://h/a/"),
        ("http://h:8080/a/", "http://h:8080/a/"),
        ("http://h/a/./b/../c.html", "http://h/a/c.html"),
        ("http://h/a.html?utm_source=x&b=2&a=1&gclid=9", "http://h/a.html?a=1&b=2"),
        ("http://h/dir/index.html", "http://h/dir/"),
        ("http://h/dir/index.htm", "http://h/dir/"),
        ("http://h", "http://h/"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_variants_of_one_page_normalise_alike() -> None:
    variants = [
        "http://h/guide/",
        "http://h/guide/index.html",
        "http://h/guide/index.html#install",
        "http://H/guide/?utm_campaign=launch",
    ]
    assert {normalize_url(v) for v in variants} == {"http://h/guide/"}


def test_scope_is_host_and_path_prefix() -> None:
    scope = CrawlScope("http://127.0.0.1:5000/docs/")
    inside = ["http://127.0.0.1:5000/docs/", "http://127.0.0.1:5000/docs/a/b.html"]
    outside = [
        "http://127.0.0.1:5000/",
        "http://127.0.0.1:5000/docsx/a.html",
        "http://127.0.0.2:5000/docs/a.html",
        "http://127.0.0.1:5001/docs/a.html",
        "ftp://127.0.0.1:5000/docs/a.html",
    ]
    assert all(scope.contains(normalize_url(u)) for u in inside)
    assert not any(scope.contains(normalize_url(u)) for u in outside)


def test_scope_of_a_file_url_is_its_directory() -> None:
    scope = CrawlScope("http://h/docs/intro.html")
    assert scope.contains(normalize_url("http://h/docs/other.html"))
    assert not scope.contains(normalize_url("http://h/blog/x.html"))


def test_scope_of_a_directory_without_slash() -> None:
    scope = CrawlScope("http://h/docs")
    assert scope.contains(normalize_url("http://h/docs"))
    assert scope.contains(normalize_url("http://h/docs/a.html"))
    assert not scope.contains(normalize_url("http://h/docs-old/a.html"))


@pytest.mark.parametrize(
    ("url", "skipped"),
    [
        ("http://h/manual.pdf", True),
        ("http://h/img/logo.PNG", True),
        ("http://h/archive.zip", True),
        ("http://h/page.html", False),
        ("http://h/dir.v2/", False),
        ("http://h/page", False),
    ],
)
def test_non_page_extensions(url: str, skipped: bool) -> None:
    assert has_skipped_extension(url) is skipped
