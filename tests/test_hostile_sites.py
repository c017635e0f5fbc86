"""The crawl on misconfigured and adversarial sites: no page silently lost, no crawl that runs
away, every URL that is not stored has a reason in the job's ledger. Everything through the
real CLI against tests/hostile_site.py."""

from __future__ import annotations

import json

import pytest
from conftest import Cli, Result, Store
from hostile_site import HostileSite


def crawl(cli: Cli, url: str, *args: str, timeout: float = 180) -> Result:
    return cli("crawl", "--url", url, "--quiet", *args, timeout=timeout)


def ledger(store: Store, kind: str | None = None) -> dict[str, str]:
    """url -> reason of job 1's ledger entries (of one kind)."""
    sql = "SELECT url, reason FROM crawl_error WHERE job_id = 1"
    rows = store.rows(sql + " AND kind = ?", kind) if kind else store.rows(sql)
    return dict(rows)


def paths(store: Store) -> set[str]:
    from urllib.parse import urlsplit

    return {urlsplit(url).path for (url,) in store.rows("SELECT url FROM page")}


# --- page identity -------------------------------------------------------------------------------


def test_a_canonical_naming_the_home_page_costs_no_page(cli: Cli, store: Store) -> None:
    with HostileSite("canonical-all") as site:
        assert crawl(cli, site.url).returncode == 0
    rows = store.rows("SELECT url, canonical_url, content_hash, markdown FROM page")
    assert len(rows) == 30  # the home page and p1..p29, each under its own URL
    assert {canonical for _, canonical, _, _ in rows} == {site.base + "/docs/"}
    assert len({digest for _, _, digest, _ in rows}) == 30  # each with its own content
    for url, _, _, markdown in rows:
        assert url.removeprefix(site.base) in markdown  # the text names its own path


def test_a_canonical_naming_another_crawled_page_never_overwrites_it(
    cli: Cli, store: Store
) -> None:
    with HostileSite("canonical-other") as site:
        assert crawl(cli, site.url).returncode == 0
    rows = dict(store.rows("SELECT url, markdown FROM page"))
    assert len(rows) == 10
    for n in range(1, 10):
        assert f"/docs/a{n}.html" in rows[f"{site.base}/docs/a{n}.html"]
    canonical = store.value("SELECT canonical_url FROM page WHERE url LIKE '%/a1.html'")
    assert canonical == f"{site.base}/docs/a2.html"  # recorded, not obeyed


# --- safe by default -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "rule", "trap_path"),
    [
        ("calendar", "found only on one before it", "/docs/calendar/"),
        ("paged", "query", "/docs/list"),
        ("repeat", "repeated", "/docs/a/"),
    ],
)
def test_a_spider_trap_ends_the_crawl_by_itself_with_a_reason(
    cli: Cli, store: Store, mode: str, rule: str, trap_path: str
) -> None:
    with HostileSite(mode) as site:
        result = crawl(cli, site.url)
        served = site.count(trap_path)
    assert result.returncode == 0, result.stderr
    assert store.status(1) == "completed"
    stored = store.value("SELECT COUNT(*) FROM page")
    assert 1 < stored <= 600 and served <= stored + 20  # ran until a rule tripped, not forever
    traps = ledger(store, "trap")
    assert any(rule in reason for reason in traps.values()), traps
    details = cli("status", "--job", "1", "--json").json()
    assert details["skipped"]["trap"] >= len(traps)


def test_a_soft_404_site_ends_by_itself_and_stores_no_not_found_page(
    cli: Cli, store: Store
) -> None:
    with HostileSite("soft404") as site:
        result = crawl(cli, site.url)
    assert result.returncode == 0, result.stderr
    assert paths(store) == {"/docs/"}  # its links all answer 200 with the "not found" page
    assert set(ledger(store, "soft_404")) == {
        site.base + path for path in ("/docs/guide.html", "/docs/api.html", "/docs/faq/")
    }


def test_every_trap_rule_can_be_changed(cli: Cli, store: Store) -> None:
    with HostileSite("calendar") as site:
        result = crawl(cli, site.url, "-s", "DOCSCRAWL_TRAP_MAX_NUMBERED_CHAIN=10")
    assert result.returncode == 0
    # The month linked from the home page, then 10 months either way, each found on the last.
    assert store.value("SELECT COUNT(*) FROM page WHERE url LIKE '%/calendar/%'") == 21


def test_an_endless_sitemap_index_chain_counts_against_the_limits(cli: Cli, store: Store) -> None:
    with HostileSite("sitemap-chain") as site:
        result = crawl(cli, site.url, "--max-pages", "100", "--max-depth", "2")
        limited = site.count("/sitemaps/")
    assert result.returncode == 0, result.stderr
    assert limited <= 3  # robots.txt -> 0.xml -> 1.xml and 1b.xml are the two hops allowed
    assert any("sitemap" in reason for reason in ledger(store, "limit").values())
    with HostileSite("sitemap-chain") as site:
        assert crawl(cli, site.url).returncode == 0
        unlimited = site.count("/sitemaps/")
    assert unlimited <= 31  # DOCSCRAWL_SITEMAP_MAX_DEPTH = 4 hops of a doubling chain


def test_a_huge_sitemap_does_not_stall_the_crawl(cli: Cli, store: Store) -> None:
    with HostileSite("big-sitemap", big_sitemap_urls=200_000) as site:
        result = crawl(cli, site.url, "--max-pages", "300")
        served = site.count("/docs/page-")
    assert result.returncode == 0, result.stderr
    assert store.value("SELECT COUNT(*) FROM page") == 300
    assert served < 400  # the sitemap's URLs are fed as the queue empties, not all queued
    assert store.job(1)["estimated_total"] == 100_000  # DOCSCRAWL_SITEMAP_MAX_URLS
    limits = ledger(store, "limit")
    assert "100000 of its 200000 URLs" in limits[site.base + "/sitemap.xml"]
    # Pages that were in flight when the job reached its limit say so.
    assert all("--max-pages 300" in reason for url, reason in limits.items() if "page-" in url)


def test_a_setting_that_would_hang_the_crawl_is_a_usage_error(cli: Cli, store: Store) -> None:
    for setting in (
        "CONCURRENT_REQUESTS_PER_DOMAIN=0",
        "CONCURRENT_REQUESTS=0",
        "DOWNLOAD_TIMEOUT=0",
        "DOCSCRAWL_TRAP_MAX_URL_LENGTH=-1",
        "DOCSCRAWL_FLUSH_INTERVAL=0",
    ):
        result = cli("crawl", "--url", "http://127.0.0.1:9/docs/", "-s", setting)
        assert result.returncode == 2, (setting, result.stderr)
        assert "Traceback" not in result.stderr and setting.split("=")[0] in result.stderr
    assert not store.path.exists()


def test_a_misspelt_docscrawl_setting_is_a_usage_error(cli: Cli) -> None:
    result = cli("crawl", "--url", "http://127.0.0.1:9/docs/", "-s", "DOCSCRAWL_TRAP_MAX_URL=5")
    assert result.returncode == 2
    assert "DOCSCRAWL_TRAP_MAX_URL is not a docscrawl setting" in result.stderr


# --- every URL that is not stored has a reason ---------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "path", "kind", "words"),
    [
        ("redirect-loop", "/docs/loop-a.html", "redirect_loop", "redirects back to"),
        ("redirect-chain", "/docs/hop/0", "redirect_limit", "REDIRECT_MAX_TIMES"),
        ("gzip-bomb", "/docs/bomb.html", "too_large", "DOWNLOAD_MAXSIZE"),
        ("huge", "/docs/huge.html", "too_large", "max size"),
        ("huge", "/docs/liar.html", "too_large", "DOWNLOAD_MAXSIZE"),
        ("png-as-html", "/docs/image.html", "not_html", "binary"),
    ],
)
def test_a_dropped_response_leaves_a_reason(
    cli: Cli, store: Store, mode: str, path: str, kind: str, words: str
) -> None:
    with HostileSite(mode) as site:
        result = crawl(cli, site.url, "-s", "DOWNLOAD_MAXSIZE=4000000")
    assert result.returncode == 0, result.stderr
    assert {"/docs/", "/docs/ok.html"} <= paths(store)
    reason = ledger(store, kind).get(site.base + path)
    assert reason is not None and words in reason, ledger(store)
    why = cli("skipped", "--job", "1", "--url", site.base + path)
    assert why.returncode == 0 and kind in why.stdout


def test_a_crawl_that_stores_nothing_fails_with_the_reason(cli: Cli, store: Store) -> None:
    with HostileSite("gzip-bomb") as site:
        result = crawl(cli, site.base + "/docs/bomb.html")
    assert result.returncode == 1
    assert store.status(1) == "failed"
    assert "no page was stored" in result.stderr and "too_large" in result.stderr


def test_a_ten_thousand_character_start_url_fails_cleanly(cli: Cli, store: Store) -> None:
    with HostileSite("long-url") as site:
        result = crawl(cli, site.base + "/docs/" + "x" * 10_000 + ".html")
        served = site.count("/docs/")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert served == 0
    assert "longer than 2048 characters" in store.job(1)["finish_reason"]


def test_the_skipped_command_lists_the_ledger(cli: Cli, store: Store) -> None:
    with HostileSite("redirect-loop") as site:
        assert crawl(cli, site.url).returncode == 0
    listed = cli("skipped", "--job", "1", "--json").json()
    assert [entry["kind"] for entry in listed] == ["redirect_loop"]
    assert listed[0]["url"] == site.base + "/docs/loop-a.html"
    table = cli("skipped", "--job", "1", "--reason", "redirect_loop")
    assert table.returncode == 0 and "loop-a.html" in table.stdout
    assert "1 redirect_loop" in table.stderr
    assert cli("skipped", "--job", "1", "--reason", "robots", "--json").json() == []
    assert "stored" in cli("skipped", "--job", "1", "--url", site.url).stdout
    never = cli("skipped", "--job", "1", "--url", site.base + "/docs/nowhere.html")
    assert "never met" in never.stdout
    assert cli("skipped", "--job", "1", "--reason", "bogus").returncode == 2
    assert cli("skipped", "--job", "7").returncode == 1
    status = cli("status", "--job", "1")
    assert "Not stored:" in status.stdout and "1 redirect_loop" in status.stdout


# --- the origin is host and port -----------------------------------------------------------------


def test_no_redirect_leaves_the_origin_or_the_prefix(cli: Cli, store: Store) -> None:
    with (
        HostileSite("plain") as other,
        HostileSite("redirect-offport", other_base=other.base) as site,
    ):
        assert crawl(cli, site.url).returncode == 0
        assert other.requests == []  # not even robots.txt
        assert site.count("/elsewhere/") == 0
    refused = ledger(store, "off_origin_redirect")
    assert set(refused) == {site.base + "/docs/off.html", site.base + "/docs/out.html"}
    assert paths(store) == {"/docs/", "/docs/ok.html"}


def test_an_ipv6_literal_start_url_crawls(cli: Cli, store: Store) -> None:
    with HostileSite("plain", host="::1") as site:
        result = crawl(cli, site.url)
    assert result.returncode == 0, result.stderr
    assert store.value("SELECT COUNT(*) FROM page") == 5
    assert store.value("SELECT url FROM page ORDER BY id LIMIT 1").startswith("http://[::1]:")


def test_robots_and_out_of_scope_links_are_in_the_ledger(cli: Cli, store: Store, site: str) -> None:
    assert crawl(cli, site + "sphinx/").returncode == 0
    details = cli("status", "--job", "1", "--json").json()
    counts = details["skipped"]
    assert counts["out_of_scope"] > 0 and counts["http_status"] == details["errors"]
    listed = json.loads(cli("skipped", "--job", "1", "--json").stdout)
    assert sum(counts.values()) == len(listed)


# --- what the review found -----------------------------------------------------------------------


def test_session_ids_in_the_path_end_by_themselves(cli: Cli, store: Store) -> None:
    with HostileSite("session-ids") as site:
        result = crawl(cli, site.url)
    assert result.returncode == 0, result.stderr
    assert store.value("SELECT COUNT(*) FROM page") <= 1000  # DOCSCRAWL_TRAP_MAX_NUMBERED_SHAPE
    assert any("each found on a page with other" in r for r in ledger(store, "trap").values())


def test_an_off_origin_sitemap_does_not_hide_the_next_one(cli: Cli, store: Store) -> None:
    with HostileSite("robots-sitemaps") as site:
        assert crawl(cli, site.url).returncode == 0
    assert {f"/docs/o{i}.html" for i in range(5)} <= paths(store)  # from the gzipped sitemap
    assert set(ledger(store, "out_of_scope")) == {site.base.rsplit(":", 1)[0] + ":9/sitemap.xml"}


def test_stub_pages_with_one_main_text_are_all_stored(cli: Cli, store: Store) -> None:
    with HostileSite("stubs") as site:
        assert crawl(cli, site.url).returncode == 0
    assert store.value("SELECT COUNT(*) FROM page") == 81  # the index, 40 classes, 40 methods
    assert ledger(store, "trap") == {}


def test_a_redirect_to_a_url_only_met_beyond_the_depth_is_fetched(cli: Cli, store: Store) -> None:
    with HostileSite("redirect-to-met") as site:
        assert crawl(cli, site.url, "--max-depth", "1").returncode == 0
    assert "/docs/target" in paths(store)
    assert ledger(store, "duplicate") == {}
    why = cli("skipped", "--job", "1", "--url", site.base + "/docs/r")
    assert "as " + site.base + "/docs/target" in why.stdout
