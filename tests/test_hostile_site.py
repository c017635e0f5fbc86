"""The hostile site misbehaves as specified: one test per mode, with plain http.client."""

from __future__ import annotations

import html
import http.client
import re
import time
import urllib.request
import zlib

import pytest
from hostile_site import HUGE_SIZE, MODES, HostileSite


def get(site: HostileSite, path: str, limit: int | None = None) -> tuple[int, dict, bytes]:
    """(status, lower-cased headers, body or its first limit bytes), redirects not followed."""
    connection = http.client.HTTPConnection(site.host, site.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read(limit) if limit else response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        connection.close()


def links(body: bytes) -> set[str]:
    return {html.unescape(href) for href in re.findall(r'<a href="([^"]*)"', body.decode())}


def main_text(body: bytes) -> str:
    return re.search(r"<main>(.*)</main>", body.decode(), re.S)[1]


def canonical(body: bytes) -> str:
    return re.search(r'<link rel="canonical" href="([^"]*)">', body.decode())[1]


def test_every_mode_has_a_test():
    tested = {name[5:].replace("_", "-") for name in globals() if name.startswith("test_")}
    assert set(MODES) <= tested


@pytest.mark.parametrize("host", ["127.0.0.1", "::1"])
def test_plain(host):
    with HostileSite("plain", host) as site:
        assert site.url == f"{site.base}/docs/"
        assert site.base.startswith("http://[::1]:" if host == "::1" else "http://127.0.0.1:")
        with urllib.request.urlopen(site.url, timeout=10) as response:
            assert links(response.read()) == {"/docs/"} | {f"/docs/p{i}.html" for i in range(1, 5)}
        for path in ("/docs/p4.html", "/docs/landing.html", "/elsewhere/landing.html"):
            assert get(site, path)[0] == 200
        for path in ("/robots.txt", "/sitemap.xml", "/docs/p5.html", "/docs/p01.html"):
            assert get(site, path)[0] == 404
        assert site.requests[0] == "/docs/"
        assert site.requests[-1] == "/docs/p01.html"
        assert (site.count(), site.count("/docs/")) == (8, 5)


def test_canonical_all():
    with HostileSite("canonical-all") as site:
        bodies = [get(site, "/docs/")[2]] + [get(site, f"/docs/p{i}.html")[2] for i in range(1, 30)]
        assert all(canonical(body) == "/docs/" for body in bodies)
        assert links(bodies[0]) == {"/docs/", "/docs/p1.html"}
        assert links(bodies[5]) == {"/docs/", "/docs/p6.html"}
        assert len({main_text(body) for body in bodies}) == 30
        assert get(site, "/docs/p30.html")[0] == 404


def test_canonical_other():
    with HostileSite("canonical-other") as site:
        assert links(get(site, "/docs/")[2]) >= {f"/docs/a{i}.html" for i in range(1, 10)}
        assert canonical(get(site, "/docs/a3.html")[2]) == "/docs/a4.html"
        assert canonical(get(site, "/docs/a9.html")[2]) == "/docs/"
        assert main_text(get(site, "/docs/a3.html")[2]) != main_text(get(site, "/docs/a4.html")[2])


def test_calendar():
    with HostileSite("calendar") as site:
        assert "/docs/calendar/2026/12/" in links(get(site, "/docs/")[2])
        status, _, body = get(site, "/docs/calendar/2026/12/")
        assert status == 200
        assert {"/docs/calendar/2026/11/", "/docs/calendar/2027/01/"} <= links(body)
        assert "/docs/calendar/9999/11/" in links(get(site, "/docs/calendar/9999/12/")[2])
        assert links(get(site, "/docs/calendar/1/01/")[2]) == {"/docs/", "/docs/calendar/1/02/"}
        assert main_text(body) != main_text(get(site, "/docs/calendar/2027/01/")[2])
        for path in ("/docs/calendar/0/01/", "/docs/calendar/2026/13/", "/docs/calendar/02026/01/"):
            assert get(site, path)[0] == 404


def test_paged():
    with HostileSite("paged") as site:
        assert "/docs/list?page=1" in links(get(site, "/docs/")[2])
        body = get(site, "/docs/list?page=3")[2]
        assert {"/docs/list?page=4", "/docs/list?page=3&sort=asc"} <= links(body)
        variant = get(site, "/docs/list?page=3&sort=asc")[2]
        assert "/docs/list?page=3&sort=asc&view=grid" in links(variant)
        assert main_text(variant).split("<ul>")[0] == main_text(body).split("<ul>")[0]
        assert main_text(body) != main_text(get(site, "/docs/list?page=4")[2])
        assert get(site, "/docs/list?page=0")[0] == 404
        assert get(site, "/docs/list")[0] == 404


def test_repeat():
    with HostileSite("repeat") as site:
        assert "a/" in links(get(site, "/docs/")[2])
        status, _, body = get(site, "/docs/a/a/a/a/")
        assert status == 200
        assert {"a/", "../"} <= links(body)
        assert main_text(body) != main_text(get(site, "/docs/a/a/a/")[2])
        assert get(site, "/docs/b/")[0] == 404


def test_soft404():
    with HostileSite("soft404") as site:
        home = get(site, "/docs/")[2]
        assert "/docs/guide.html" in links(home)
        bodies = {get(site, path)[2] for path in ("/docs/guide.html", "/docs/x/y/z", "/docs/a?q=1")}
        assert len(bodies) == 1 and home not in bodies
        assert any(href.startswith("more/missing-") for href in links(bodies.pop()))
        assert get(site, "/elsewhere/")[0] == 404


def test_sitemap_chain():
    with HostileSite("sitemap-chain") as site:
        robots = get(site, "/robots.txt")[2]
        assert f"Sitemap: {site.base}/sitemaps/0.xml" in robots.decode()
        body = get(site, "/sitemaps/5b.xml")[2].decode()
        assert "<sitemapindex" in body
        assert f"{site.base}/sitemaps/6.xml" in body and f"{site.base}/sitemaps/6b.xml" in body
        assert get(site, "/docs/s3.html")[0] == 200
        assert get(site, "/sitemap.xml")[0] == 404


def test_big_sitemap():
    with HostileSite("big-sitemap") as site:
        assert f"Sitemap: {site.base}/sitemap.xml" in get(site, "/robots.txt")[2].decode()
        sitemap = get(site, "/sitemap.xml")[2]
        assert sitemap.count(b"<loc>") == 200_000
        assert f"<loc>{site.base}/docs/page-199999.html</loc>".encode() in sitemap
        assert get(site, "/docs/page-199999.html")[0] == 200
        assert get(site, "/docs/page-200000.html")[0] == 404
        assert "/docs/page-4.html" in links(get(site, "/docs/")[2])
    with HostileSite("big-sitemap", big_sitemap_urls=10) as site:
        assert get(site, "/sitemap.xml")[2].count(b"<loc>") == 10


def test_redirect_loop():
    with HostileSite("redirect-loop") as site:
        status, headers, _ = get(site, "/docs/loop-a.html")
        assert (status, headers["location"]) == (302, "/docs/loop-b.html")
        assert get(site, "/docs/loop-b.html")[1]["location"] == "/docs/loop-a.html"
        assert get(site, "/docs/ok.html")[0] == 200


def test_redirect_chain():
    with HostileSite("redirect-chain") as site:
        assert get(site, "/docs/hop/0")[1]["location"] == "/docs/hop/1"
        assert get(site, "/docs/hop/29")[1]["location"] == "/docs/hop/30"
        assert get(site, "/docs/hop/30")[0] == 200
        assert get(site, "/docs/hop/31")[0] == 404


def test_redirect_offport():
    with (
        HostileSite("plain") as other,
        HostileSite("redirect-offport", other_base=other.base) as site,
    ):
        assert other.port != site.port
        off = get(site, "/docs/off.html")[1]["location"]
        assert off == f"{other.base}/docs/landing.html"
        assert get(other, "/docs/landing.html")[0] == 200
        out = get(site, "/docs/out.html")[1]["location"]
        assert out == f"{site.base}/elsewhere/landing.html"
        assert get(site, "/elsewhere/landing.html")[0] == 200
    with pytest.raises(ValueError, match="other_base"):
        HostileSite("redirect-offport")


def test_gzip_bomb():
    with HostileSite("gzip-bomb") as site:
        status, headers, body = get(site, "/docs/bomb.html")
        assert (status, headers["content-encoding"]) == (200, "gzip")
        assert headers["content-type"].startswith("text/html")
        assert len(body) < 200_000 and int(headers["content-length"]) == len(body)
        inflater, size = zlib.decompressobj(31), 0
        while body:  # inflate a MiB at a time, never holding 100 MiB
            size += len(chunk := inflater.decompress(body, 1 << 20))
            assert chunk.strip(b" ") == b""
            body = inflater.unconsumed_tail
        assert size == 100 << 20


def test_huge():
    with HostileSite("huge") as site:
        status, headers, head = get(site, "/docs/huge.html", limit=65536)
        assert (status, int(headers["content-length"])) == (200, HUGE_SIZE)
        assert head.startswith(b"<html")
        status, headers, head = get(site, "/docs/liar.html", limit=1 << 20)
        assert status == 200 and "content-length" not in headers
        assert headers["connection"] == "close" and len(head) == 1 << 20
        assert get(site, "/docs/ok.html")[0] == 200  # hanging up did not hurt the server


def test_png_as_html():
    with HostileSite("png-as-html") as site:
        status, headers, body = get(site, "/docs/image.html")
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert body.startswith(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR") and len(body) > 20_000
        assert body.endswith(b"IEND\xaeB`\x82")


def test_long_url():
    with HostileSite("long-url") as site:
        path = "/docs/" + "x" * 10_000 + ".html"
        status, _, body = get(site, path)
        assert status == 200 and path.encode() in body
        assert site.requests[-1] == path
        assert get(site, "/docs/")[0] == 200


def test_slow():
    with HostileSite("slow", delay=0.3) as site:
        assert len(links(get(site, "/docs/")[2])) == 21
        started = time.monotonic()
        assert get(site, "/docs/p20.html")[0] == 200
        assert time.monotonic() - started >= 0.3
        assert get(site, "/docs/p21.html")[0] == 404


def test_session_ids():
    with HostileSite("session-ids") as site:
        status, headers, _ = get(site, "/docs/")
        assert status == 302 and re.fullmatch(r"/docs/s-[0-9a-f-]{36}/intro", headers["location"])
        first = {link for link in links(get(site, headers["location"])[2]) if "/s-" in link}
        second = {link for link in links(get(site, headers["location"])[2]) if "/s-" in link}
        assert len(first) == 5 and first.isdisjoint(second)  # a fresh session per response


def test_robots_sitemaps():
    import gzip

    with HostileSite("robots-sitemaps") as site:
        robots = get(site, "/robots.txt")[2].decode()
        assert robots.index(":9/sitemap.xml") < robots.index("/docs/sitemap.xml.gz")
        xml = gzip.decompress(get(site, "/docs/sitemap.xml.gz")[2]).decode()
        assert xml.count("<loc>") == 5 and get(site, "/docs/o4.html")[0] == 200


def test_stubs():
    with HostileSite("stubs") as site:
        one, two = get(site, "/docs/cls1.html")[2], get(site, "/docs/cls2.html")[2]
        assert main_text(one).split("<a")[0] == main_text(two).split("<a")[0]
        assert b"<title>Class1</title>" in one and get(site, "/docs/m39.html")[0] == 200


def test_redirect_to_met():
    with HostileSite("redirect-to-met") as site:
        assert get(site, "/docs/r")[1]["location"] == "/docs/target"
        assert "/docs/target" in links(get(site, "/docs/a")[2])
