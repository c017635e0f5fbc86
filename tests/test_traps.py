"""Trap rules: what trips them, and the documentation sites that must never trip them."""

from __future__ import annotations

from docscrawl.traps import SoftNotFound, TrapRules, numbered_chain


def test_url_shape_rules() -> None:
    rules = TrapRules()
    assert rules.check_url("http://h/docs/" + "x" * 2100) is not None
    assert "segment" in rules.check_url("http://h/docs/" + "d/" * 25)
    assert "repeated 4 times" in rules.check_url("http://h/docs/a/a/a/a/")
    assert rules.check_url("http://h/docs/a/b/a/b/a/b/") is None  # three times is allowed
    assert "query parameters" in rules.check_url(
        "http://h/s?" + "&".join(f"k{i}=1" for i in range(13))
    )


def test_multi_parameter_query_variants_are_counted_per_path() -> None:
    rules = TrapRules(max_query_variants=3)
    assert [rules.check_url(f"http://h/list?page={n}&sort=asc") is None for n in range(5)] == [
        True, True, True, False, False
    ]  # fmt: skip
    assert rules.check_url("http://h/other?page=1&sort=asc") is None
    # A wiki serves every page from one script with one parameter: that is no trap.
    assert all(rules.check_url(f"http://h/doku.php?id=manual:p{n}") is None for n in range(500))


def test_a_rule_at_zero_is_off() -> None:
    rules = TrapRules(max_url_length=0, max_segment_repeats=0, max_same_content=0)
    assert rules.check_url("http://h/" + "a/" * 10 + "x" * 3000) is None
    assert all(rules.check_content("T", "same") is None for _ in range(100))


def test_the_same_title_and_main_text_under_many_urls() -> None:
    rules = TrapRules(max_same_content=2)
    assert [rules.check_content("T", "h") is None for _ in range(3)] == [True, True, False]
    assert rules.check_content("T", "other") is None
    # Stub pages share a main text but not a title.
    assert all(rules.check_content(f"Class{n}", "stub") is None for n in range(40))


def test_a_numbered_chain_grows_on_pages_that_mint_new_numbers() -> None:
    month = "http://h/docs/calendar/2026/11/"
    assert numbered_chain("http://h/docs/calendar/2026/12/", 7, month) == 8
    # A link keeping the page's numbers carries its chain (a calendar alternating two shapes).
    assert numbered_chain(month, 8, month + "week/") == 8
    # Session ids in the path mint a new id per page.
    session = "http://h/docs/s-3f9a1c2e-77b0-4d2a-9e1f-0c5d8b7a6e4f/intro"
    assert (
        numbered_chain(session, 3, "http://h/docs/s-91bc0d2e-1111-4d2a-9e1f-0c5d8b7a6e4f/p1") == 4
    )
    # An index listing many numbered pages starts each of them at 0: PEP 1..8000 is no trap.
    assert (
        numbered_chain("http://127.0.0.1:8000/peps/", 0, "http://127.0.0.1:8000/peps/pep-0008/")
        == 0
    )
    assert numbered_chain("http://h/docs/calendar/2026/12/", 7, "http://h/docs/about/") == 0
    rules = TrapRules(max_numbered_chain=50)
    assert rules.check_url(month, numbered_chain=50) is None
    assert "50" in rules.check_url(month, numbered_chain=51)


def test_many_numbered_urls_listed_by_one_page_are_not_a_trap() -> None:
    rules = TrapRules()
    assert all(rules.check_url(f"http://h/peps/pep-{n:04d}/") is None for n in range(8000))
    assert all(rules.check_url(f"http://h/docs/v{n}.0/index.html") is None for n in range(300))


def test_a_soft_404_page_that_echoes_the_missing_path_in_its_title_is_recognised() -> None:
    found = SoftNotFound()
    found.learn("http://h/docs/docscrawl-missing-1", "docscrawl-missing-1 not found", "Sorry.")
    assert found.matches("http://h/docs/guide.html", "guide.html not found", "Sorry.")


def test_a_soft_404_page_that_echoes_the_missing_path_is_recognised() -> None:
    found = SoftNotFound()
    probe = "http://h/docs/docscrawl-missing-abc123"
    found.learn(probe, "Not found", "Sorry, /docs/docscrawl-missing-abc123 does not exist.")
    assert found.matches(
        "http://h/docs/guide.html", "Not found", "Sorry, /docs/guide.html does not exist."
    )
    assert not found.matches(
        "http://h/docs/guide.html", "Guide", "Sorry, /docs/guide.html does not exist."
    )
    assert not found.matches("http://h/docs/guide.html", "Not found", "The guide explains install.")


def test_without_a_probe_answer_nothing_is_a_soft_404() -> None:
    assert not SoftNotFound().matches("http://h/docs/", None, "")


def test_urls_of_one_shape_found_through_minted_numbers_are_bounded() -> None:
    rules = TrapRules(max_numbered_shape=3)
    urls = [f"http://h/docs/s-{n}a{n}/p1" for n in range(5)]
    assert [rules.check_url(url, numbered_chain=1) is None for url in urls] == [
        True, True, True, False, False
    ]  # fmt: skip
    # Listed by an index (chain 0), any number of them.
    assert all(rules.check_url(f"http://h/peps/pep-{n:04d}/") is None for n in range(2000))


def test_a_url_refused_through_a_chain_is_fetched_once_an_index_lists_it() -> None:
    rules = TrapRules(max_numbered_shape=2, max_numbered_chain=3)
    chained = [f"http://h/manual/ch{n:02d}s01.html" for n in range(4)]
    assert [rules.check_url(url, numbered_chain=1) is None for url in chained] == [
        True, True, False, False
    ]  # fmt: skip
    assert rules.check_url("http://h/manual/deep.html", numbered_chain=4) is not None
    # A table of contents or a sitemap lists them (chain 0): pages after all, each once.
    assert rules.listed_after_all(chained[2]) == chained[2]
    assert rules.listed_after_all(chained[3]) == chained[3]
    assert rules.listed_after_all("http://h/manual/deep.html")
    assert rules.listed_after_all(chained[2]) is None  # once only
    assert rules.listed_after_all(chained[0]) is None  # never refused
    # The URL the ledger has, when it is not the normalised key.
    rules.check_url("http://h/manual/ch09s01.html", numbered_chain=1, url="ch09s01.html#top")
    assert rules.listed_after_all("http://h/manual/ch09s01.html") == "ch09s01.html#top"


def test_the_spider_fetches_a_refused_numbered_page_its_sitemap_lists() -> None:
    from scrapy.utils.test import get_crawler

    from docscrawl.items import CrawlErrorItem
    from docscrawl.spiders.docs import DocsSpider

    crawler = get_crawler(DocsSpider)
    crawler.stats.open_spider()
    spider = DocsSpider.from_crawler(crawler, url="http://h/manual/", job_id=1)
    spider.traps = TrapRules(max_numbered_shape=1)
    first, second = "http://h/manual/ch01s01.html", "http://h/manual/ch02s01.html"
    assert [type(o).__name__ for o in spider._follow(first, first, 1, chain=1)] == ["Request"]
    (refused,) = spider._follow(second, second, 1, chain=1)
    assert isinstance(refused, CrawlErrorItem) and refused["kind"] == "trap"
    assert list(spider._follow(second, second, 2, chain=1)) == []  # seen: not asked twice
    retraction, request = spider._follow(second, second, 1, chain=0)  # the sitemap lists it
    assert dict(retraction) == {"url": second, "kind": "trap"}
    assert request.url == second
    assert list(spider._follow(second, second, 1, chain=0)) == []


def test_a_big_numbered_manual_its_sitemap_lists_is_crawled_whole(tmp_path) -> None:
    """Pages of one numbered shape (/docs/section-N/page-N.html) that link each other, more of
    them than DOCSCRAWL_TRAP_MAX_NUMBERED_SHAPE: the links get to many before the sitemap does,
    and the sitemap takes each refusal back: every page is stored, and no trap is left in the
    ledger or the counts."""
    import json
    import sqlite3
    import subprocess

    from bench import synthetic_site
    from tests.support import BIN, clean_env, free_port

    port = free_port()
    site = synthetic_site.generate(tmp_path / "site", f"http://127.0.0.1:{port}", pages=400)
    db = tmp_path / "store.db"
    with synthetic_site.serve(site.root, "python", port) as server:
        result = subprocess.run(
            [str(BIN / "docscrawl"), "--db", str(db), "crawl", "--url", f"{server.url}/docs/",
             "--quiet", "-s", "DOCSCRAWL_TRAP_MAX_NUMBERED_SHAPE=3"],
            env=clean_env(), capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM page").fetchone()[0] == site.pages
        traps = conn.execute("SELECT COUNT(*) FROM crawl_error WHERE kind = 'trap'")
        assert traps.fetchone()[0] == 0
        (skipped,) = conn.execute("SELECT skipped FROM job").fetchone()
    assert json.loads(skipped).get("trap", 0) == 0


FIRST, SECOND = "http://h/manual/ch01s01.html", "http://h/manual/ch02s01.html"


def manual_spider_with_a_refusal():
    """A docs spider whose numbered-shape bound (1) refused SECOND, found through a chain."""
    from scrapy.utils.test import get_crawler

    from docscrawl.spiders.docs import DocsSpider

    crawler = get_crawler(DocsSpider)
    crawler.stats.open_spider()
    spider = DocsSpider.from_crawler(crawler, url="http://h/manual/", job_id=1)
    spider.traps = TrapRules(max_numbered_shape=1)
    list(spider._follow(FIRST, FIRST, 1, chain=1))
    (refused,) = spider._follow(SECOND, SECOND, 1, chain=1)
    assert refused["kind"] == "trap"
    return spider


def test_a_table_of_contents_takes_a_refusal_back_too() -> None:
    from docscrawl.items import LedgerRetraction

    spider = manual_spider_with_a_refusal()
    # The manual's contents page (no number of its own) lists both: chain 0 for each.
    outputs = list(spider._after_page([(FIRST, FIRST), (SECOND, SECOND)], 0, "http://h/manual/"))
    assert [type(o).__name__ for o in outputs] == ["LedgerRetraction", "Request"]
    assert isinstance(outputs[0], LedgerRetraction) and outputs[1].url == SECOND


def test_a_refusal_reached_by_a_redirect_meanwhile_is_retracted_but_not_fetched_twice() -> None:
    spider = manual_spider_with_a_refusal()
    spider.requested.add(SECOND)  # a redirect of another request led there since
    outputs = list(spider._follow(SECOND, SECOND, 1, chain=0))
    assert [type(o).__name__ for o in outputs] == ["LedgerRetraction"]
