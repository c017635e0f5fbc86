"""The dashboard (control/server/dashboard.py) against a real `docscrawl serve`: its pages over
HTTP with and without the session, its forms (CSRF, errors, redirects), and a real headless
Chromium watching a crawl move, cancelling it and starting one from the form."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from collections.abc import Iterator
from html import escape, unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psutil
import pytest
import requests
from support import DocscrawlServer, serve_directory, wait_for

from sample_site.testing import serve

FINISHED = ("completed", "failed", "cancelled")


def login(server: DocscrawlServer) -> requests.Session:
    """A browser-like session: the login link sets the cookie and redirects to /."""
    session = requests.Session()
    response = session.get(server.login_link, timeout=30)
    assert response.status_code == 200
    assert response.url == server.url + "/"  # the token is gone from the address
    return session


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)


def message_of(html: str) -> str:
    return unescape(re.search(r'class="message[^"]*"[^>]*>([^<]*)<', html).group(1))


def start(server: DocscrawlServer, url: str, **options) -> int:
    response = server.api("POST", "/api/jobs", json={"url": url, "mode": "local", **options})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def job_of(server: DocscrawlServer, job_id: int) -> dict:
    return server.api("GET", f"/api/jobs/{job_id}").json()


def wait_finished(server: DocscrawlServer, job_id: int, timeout: float = 60) -> dict:
    return wait_for(
        lambda: (job := job_of(server, job_id))["status"] in FINISHED and job, timeout, 0.2
    )


def job_count(store) -> int:
    return store.value("SELECT COUNT(*) FROM job")


@pytest.fixture
def crawled(server: DocscrawlServer, site: str) -> tuple[int, str]:
    """A completed local crawl of the sample site (12 pages): its job id and client slug."""
    job = wait_finished(server, start(server, site, max_pages=12))
    assert job["status"] == "completed", job
    return job["id"], job["client"]


# --- pages with and without the session ---------------------------------------------------------


def test_every_page_answers_with_the_session(server, crawled):
    job_id, client = crawled
    session = login(server)
    page_id = server.api("GET", f"/api/jobs/{job_id}/pages?limit=1").json()["pages"][0]["id"]
    paths = [
        "/",
        f"/?status=completed&client={client}",
        f"/jobs/{job_id}",
        "/pages",
        f"/pages?job={job_id}",
        f"/pages?client={client}",
        f"/pages/{page_id}",
        "/diff",
        f"/diff?old={job_id}&new={job_id}",
        "/nodes",
        "/api/docs",
    ]
    for path in paths:
        response = session.get(server.url + path, timeout=30)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"].startswith("text/html"), path
        assert 'name="csrf-token"' in response.text, path

    headers = session.get(f"{server.url}/pages/{page_id}", timeout=30).headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"

    job_page = session.get(f"{server.url}/jobs/{job_id}", timeout=30).text
    assert 'class="badge status-completed"' in job_page
    assert "max_pages" in job_page  # the finish reason
    assert '<polyline class="line" data-series="pages" points="' in job_page
    assert f'href="/pages?job={job_id}"' in job_page
    jobs_page = session.get(server.url + "/", timeout=30).text
    assert f'<a href="/jobs/{job_id}">{job_id}</a>' in jobs_page
    nodes = session.get(server.url + "/nodes", timeout=30).text
    assert "http://127.0.0.1:9" in nodes and "cannot be reached" in nodes  # SCRAPYD_URL's node


def test_a_docscrawl_error_is_the_error_page_with_its_status(server):
    session = login(server)
    unknown = session.get(server.url + "/jobs/999", timeout=30)
    assert unknown.status_code == 404
    assert message_of(unknown.text) == "There is no job 999; `docscrawl list` shows the jobs."
    bad = session.get(server.url + "/?status=lost", timeout=30)
    assert bad.status_code == 400
    assert message_of(bad.text).startswith("status must be one of pending, running")
    diff = session.get(server.url + "/diff?old=1", timeout=30)
    assert diff.status_code == 400
    assert message_of(diff.text) == "Give the old and new job ids (old=&new=), or a client."
    not_a_number = session.get(server.url + "/pages?job=x", timeout=30)
    assert not_a_number.status_code == 400
    assert message_of(not_a_number.text) == "job must be a whole number of at least 1, not 'x'."


def test_without_the_session_every_page_is_the_login_page(server):
    for path in ["/", "/jobs/1", "/pages?job=1", "/pages/1", "/diff", "/nodes"]:
        response = requests.get(server.url + path, timeout=30)
        assert response.status_code == 401, path
        assert "<h1>Log in</h1>" in response.text
        assert f'name="next" value="{escape(path)}"' in response.text  # back here once logged in
    stale = requests.get(server.url + "/", cookies={"docscrawl_session": "0" * 64}, timeout=30)
    assert stale.status_code == 401


def test_a_wrong_login_link_is_refused(server):
    session = requests.Session()
    refused = session.get(f"{server.url}/?token=not-the-token-at-all", timeout=30)
    assert refused.status_code == 401
    assert message_of(refused.text) == "The token in the link is wrong."
    assert not session.cookies
    assert session.get(server.url + "/", timeout=30).status_code == 401


def test_the_login_form_sets_the_session_and_stays_on_the_site(server):
    session = requests.Session()
    wrong = session.post(server.url + "/login", data={"token": "nope", "next": "/nodes"})
    assert wrong.status_code == 401
    assert message_of(wrong.text) == "That token is wrong."
    targets = {"/nodes": "/nodes", "//evil.example/": "/", "/\\evil.example/": "/",
               "https://evil.example/": "/"}  # fmt: skip
    for target, expected in targets.items():
        response = requests.post(
            server.url + "/login",
            data={"token": server.token, "next": target},
            allow_redirects=False,
            timeout=30,
        )
        assert response.status_code == 303
        assert response.headers["location"] == expected
    ok = session.post(server.url + "/login", data={"token": server.token, "next": "/nodes"})
    assert ok.status_code == 200 and ok.url == server.url + "/nodes"
    assert session.get(server.url + "/", timeout=30).status_code == 200


# --- forms ---------------------------------------------------------------------------------------


def test_a_form_without_the_csrf_token_is_refused_and_changes_nothing(server, slow_site, store):
    site, _ = slow_site
    session = login(server)
    for token in (None, "0" * 64):
        data = {"url": site, "mode": "local", "next": "/"}
        if token:
            data["csrf_token"] = token
        response = session.post(server.url + "/jobs", data=data, timeout=30)
        assert response.status_code == 403
        assert "no valid CSRF token" in message_of(response.text)
    assert job_count(store) == 0

    job_id = start(server, site)
    wait_for(lambda: store.status(job_id) == "running", 30, 0.1)
    for path in (f"/jobs/{job_id}/cancel", "/jobs/cancel-all", f"/jobs/{job_id}/resume"):
        data = {"force": "1", "confirmed": "1", "next": "/"}
        response = session.post(server.url + path, data=data, timeout=30)
        assert response.status_code == 403, path
    assert store.status(job_id) == "running"
    assert store.job(job_id)["cancel_requested_at"] is None
    assert job_count(store) == 1
    # Without the session, the login page, whatever the form holds.
    anonymous = requests.post(f"{server.url}/jobs/{job_id}/cancel", data={}, timeout=30)
    assert anonymous.status_code == 401
    assert store.status(job_id) == "running"


def test_the_start_form_with_a_bad_url_shows_the_sentence_and_keeps_what_was_typed(server, store):
    session = login(server)
    csrf = csrf_of(session.get(server.url + "/", timeout=30).text)
    form = {"csrf_token": csrf, "url": "ftp://docs.example.com/", "client": "acme-docs",
            "max_pages": "7", "mode": "local", "next": "/?status=running"}  # fmt: skip
    response = session.post(server.url + "/jobs", data=form, timeout=30)
    assert response.status_code == 400
    sentence = re.search(r'id="form-error">([^<]*)<', response.text).group(1)
    assert unescape(sentence) == (
        "'ftp://docs.example.com/' is not an absolute http(s) URL, e.g. https://docs.example.com/."
    )
    assert 'value="ftp://docs.example.com/"' in response.text
    assert 'value="acme-docs"' in response.text
    assert 'name="max_pages" min="1" value="7"' in response.text
    assert '<option value="local" selected>' in response.text
    assert '<option value="running" selected>' in response.text  # the filters it came from
    assert 'name="next" value="/?status=running"' in response.text  # not /jobs, a POST route

    form.update(url="https://docs.example.com/", max_pages="many")
    response = session.post(server.url + "/jobs", data=form, timeout=30)
    assert response.status_code == 400
    assert "max pages must be a whole number of at least 1, not &#39;many&#39;." in response.text
    assert job_count(store) == 0


def test_the_start_form_starts_a_crawl_and_redirects_to_its_page(server, site, store):
    session = login(server)
    csrf = csrf_of(session.get(server.url + "/", timeout=30).text)
    form = {"csrf_token": csrf, "url": site, "client": "Form Client", "max_pages": "3",
            "max_depth": "1", "mode": "local", "next": "/"}  # fmt: skip
    response = session.post(server.url + "/jobs", data=form, allow_redirects=False, timeout=30)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    job_id = int(location.path.removeprefix("/jobs/"))
    assert parse_qs(location.query)["notice"] == [f"Job {job_id} started (local)."]
    page = session.get(server.url + response.headers["location"], timeout=30)
    assert f'<p class="notice" role="status" id="notice">Job {job_id} started (local).</p>' in (
        page.text
    )
    row = store.job(job_id)
    assert (row["mode"], row["max_pages"], row["max_depth"]) == ("local", 3, 1)
    assert wait_finished(server, job_id)["status"] == "completed"
    assert job_of(server, job_id)["client"] == "form-client"


def test_cancel_resume_and_force_from_the_forms(server, slow_site, store):
    site, _ = slow_site
    session = login(server)
    job_id = start(server, site)
    wait_for(lambda: store.status(job_id) == "running", 30, 0.1)
    back = "/?status=running"
    page = session.get(server.url + back, timeout=30).text
    csrf = csrf_of(page)
    assert f'action="/jobs/{job_id}/cancel"' in page
    assert 'name="next" value="/?status=running"' in page  # the forms come back to the filter
    assert f'<div class="progress" data-progress="{job_id}">' in page
    bar = page[page.index(f'data-progress="{job_id}"') :].split("</div>")[0]
    assert '<span data-field="rate">' in bar and 'ETA <span data-field="eta_seconds">' in bar

    cancel = session.post(
        f"{server.url}/jobs/{job_id}/cancel",
        data={"csrf_token": csrf, "force": "0", "next": back},
        allow_redirects=False,
        timeout=30,
    )
    assert cancel.status_code == 303
    location = urlsplit(cancel.headers["location"])
    assert location.path == "/"
    query = parse_qs(location.query)
    assert query["status"] == ["running"]
    assert query["notice"][0].startswith(f"Job {job_id} ")
    wait_for(lambda: store.status(job_id) == "cancelled", 30, 0.1)
    # The crawl records its end just before its process exits. A resume before the exit has
    # the old process's reaper fail the resumed job (a bug of LocalCrawls._reap).
    crawl = store.job(job_id)["pid"]
    wait_for(lambda: not psutil.pid_exists(crawl), 30, 0.1)

    again = session.post(
        f"{server.url}/jobs/{job_id}/cancel",
        data={"csrf_token": csrf, "force": "0", "next": f"/jobs/{job_id}"},
        timeout=30,
    )
    assert again.status_code == 409
    assert message_of(again.text) == (
        f"Job {job_id} is already cancelled; use --force to mark it cancelled anyway."
    )
    assert f'<a href="/jobs/{job_id}">Back</a>' in again.text

    resume = session.post(
        f"{server.url}/jobs/{job_id}/resume",
        data={"csrf_token": csrf, "next": f"/jobs/{job_id}"},
        allow_redirects=False,
        timeout=30,
    )
    assert resume.status_code == 303
    assert "resumed" in parse_qs(urlsplit(resume.headers["location"]).query)["notice"][0]
    wait_for(lambda: store.status(job_id) == "running", 30, 0.1)

    # Force asks first (a page when the script does not), then kills.
    form = {"csrf_token": csrf, "force": "1", "next": f"/jobs/{job_id}"}
    question = session.post(f"{server.url}/jobs/{job_id}/cancel", data=form, timeout=30)
    assert question.status_code == 200
    assert f"Force-cancel job {job_id}?" in question.text
    assert '<input type="hidden" name="confirmed" value="1">' in question.text
    assert store.status(job_id) == "running"
    forced = session.post(
        f"{server.url}/jobs/{job_id}/cancel",
        data={**form, "confirmed": "1"},
        allow_redirects=False,
        timeout=60,
    )
    assert forced.status_code == 303
    assert store.status(job_id) == "cancelled"

    # The emergency stop: nothing is active now.
    stop = session.post(
        server.url + "/jobs/cancel-all",
        data={"csrf_token": csrf, "confirmed": "1", "next": "//evil.example/"},
        allow_redirects=False,
        timeout=30,
    )
    assert stop.status_code == 303
    assert stop.headers["location"] == "/?notice=No+job+was+active%3B+nothing+to+cancel."


def test_markdown_with_a_script_in_it_is_shown_as_text(server, tmp_path):
    root = tmp_path / "hostile"
    root.mkdir()
    (root / "index.html").write_text(
        "<!doctype html><html><head><title>Hostile</title></head><body><main>"
        "<h1>Hostile page</h1>"
        "<p>Type &lt;script&gt;alert('pwned')&lt;/script&gt; into the box, then "
        "&lt;img src=x onerror=alert(2)&gt; and more words to make a paragraph.</p>"
        "<h2>Second &lt;b&gt;heading&lt;/b&gt;</h2><p>Enough words here for the page to count "
        "as content, and then some more words.</p></main></body></html>"
    )
    with serve_directory(root) as url:
        job = wait_finished(server, start(server, url))
    assert job["status"] == "completed", job
    page_id = server.api("GET", f"/api/jobs/{job['id']}/pages").json()["pages"][0]["id"]
    stored = server.api("GET", f"/api/pages/{page_id}").json()
    assert "<script>alert('pwned')</script>" in stored["markdown"].replace("\\", "")

    html = login(server).get(f"{server.url}/pages/{page_id}", timeout=30).text
    assert "<script>alert" not in html
    assert "<img src=x" not in html and "<b>heading" not in html
    article = re.search(r'<article class="card markdown" id="markdown">(.*?)</article>', html, re.S)
    assert "&lt;script&gt;alert('pwned')&lt;/script&gt;" in article.group(1)
    assert "&lt;img src=x onerror=alert(2)&gt;" in article.group(1)
    assert "Second &lt;b&gt;heading&lt;/b&gt;" in html  # the headings list, escaped too


def test_pages_are_paginated_and_the_links_keep_the_scope(server, crawled):
    job_id, client = crawled
    session = login(server)
    seen: list[str] = []
    path = f"/pages?job={job_id}&limit=5"
    for _ in range(5):
        html = session.get(server.url + path, timeout=30).text
        seen += re.findall(r'<td class="num"><a href="/pages/(\d+)">', html)
        found = re.search(r'<a href="([^"]+)" rel="next">', html)
        if not found:
            break
        path = unescape(found.group(1))
        assert parse_qs(urlsplit(path).query)["job"] == [str(job_id)]
        assert parse_qs(urlsplit(path).query)["limit"] == ["5"]
        assert 'rel="first"' in session.get(server.url + path, timeout=30).text
    assert len(seen) == 12 == len(set(seen))
    assert seen == sorted(seen, key=int)
    by_client = session.get(f"{server.url}/pages?client={client}&limit=5", timeout=30).text
    assert f'href="/pages?client={client}&amp;limit=5&amp;after=' in by_client


def test_the_jobs_filters_keep_their_query(server, site):
    first = wait_finished(server, start(server, site, max_pages=1, client="alpha"))
    second = wait_finished(server, start(server, site, max_pages=1, client="beta"))
    third = wait_finished(server, start(server, site, max_pages=1, client="alpha"))
    session = login(server)
    html = session.get(server.url + "/?status=completed&client=alpha&limit=1", timeout=30).text
    assert '<option value="completed" selected>' in html
    assert '<option value="alpha" selected>' in html
    assert f'<a href="/jobs/{third["id"]}">' in html
    assert f'<a href="/jobs/{first["id"]}">' not in html  # one a page
    assert f'<a href="/jobs/{second["id"]}">' not in html  # another client
    older = unescape(re.search(r'<a href="([^"]+)" rel="next">', html).group(1))
    assert parse_qs(urlsplit(older).query) == {
        "status": ["completed"], "client": ["alpha"], "limit": ["1"], "before": [str(third["id"])],
    }  # fmt: skip
    assert 'name="next" value="/?status=completed&amp;client=alpha&amp;limit=1"' in html
    page_two = session.get(server.url + older, timeout=30).text
    assert f'<a href="/jobs/{first["id"]}">' in page_two
    assert 'rel="first"' in page_two

    # The job page links to the diff with the client's previous completed crawl.
    job_page = session.get(f"{server.url}/jobs/{third['id']}", timeout=30).text
    link = f'<a href="/diff?old={first["id"]}&amp;new={third["id"]}">'
    assert link in job_page
    diff = session.get(server.url + "/diff?client=alpha", timeout=30).text
    assert f'<a href="/jobs/{first["id"]}">{first["id"]}</a> → job' in diff
    counts = dict(re.findall(r"<dt>(\w+)</dt><dd>(\d+)</dd>", diff))
    assert counts == {"Added": "0", "Removed": "0", "Changed": "0", "Unchanged": "1"}


def test_a_scrapyd_job_links_to_scrapyd_and_the_nodes_page_shows_the_node(
    server_factory, scrapyd, site
):
    server = server_factory(env={"SCRAPYD_URL": scrapyd.url})
    response = server.api("POST", "/api/jobs", json={"url": site, "max_pages": 3})
    assert response.status_code == 201, response.text
    job = wait_finished(server, response.json()["id"], timeout=90)
    assert (job["mode"], job["status"]) == ("scrapyd", "completed")
    session = login(server)
    html = session.get(f"{server.url}/jobs/{job['id']}", timeout=30).text
    assert f'<a href="{scrapyd.url}/jobs" rel="noopener noreferrer">' in html
    assert f'<a href="{job["log_url"]}" rel="noopener noreferrer">its log on Scrapyd</a>' in html
    assert job["log_url"].startswith(f"{scrapyd.url}/logs/")
    assert "Spider closed" in html  # the log tail, read from Scrapyd

    nodes = session.get(server.url + "/nodes", timeout=30).text
    row = re.search(r"<tr data-node=.*?</tr>", nodes, re.S).group(0)
    assert scrapyd.url in row
    assert '<span class="badge status-completed">yes</span>' in row
    # Running and pending, as numbers (the crawl's process may still be exiting).
    assert re.search(r'<td class="num">\d+</td>\s*<td class="num">\d+</td>', row), row
    assert re.search(r"<td>\d+</td>", row)  # the deployed version (scrapyd-deploy's timestamp)
    assert '<td class="error-cell"></td>' in row


# --- a real browser ------------------------------------------------------------------------------


@pytest.fixture
def browser() -> Iterator[object]:
    """Headless Chromium (Debian's chromium and chromedriver) driven by selenium."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and chromedriver):
        message = "Chromium and chromedriver are needed (apt-get install chromium-driver)."
        if os.environ.get("DOCSCRAWL_TEST_BROWSER") == "require":
            pytest.fail(message)
        pytest.skip(message)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1366,900"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    try:
        yield driver
    finally:
        driver.quit()


def save_screenshot(driver, tmp_path: Path, name: str = "dashboard.png") -> Path:
    shot = tmp_path / name
    assert driver.save_screenshot(str(shot))
    if os.environ.get("DOCSCRAWL_SCREENSHOT_DIR"):
        target = Path(os.environ["DOCSCRAWL_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target / name)
    return shot


def test_a_browser_watches_a_crawl_cancels_it_and_starts_one(
    browser, server_factory, site, tmp_path
):
    from selenium.common.exceptions import StaleElementReferenceException as Stale
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as expected
    from selenium.webdriver.support.ui import Select, WebDriverWait

    driver = browser
    # The live regions are replaced while we read them: a stale element is read again.
    wait = WebDriverWait(driver, 30, poll_frequency=0.1, ignored_exceptions=[Stale])

    def text(css: str) -> str:
        return wait.until(lambda d: [d.find_element(By.CSS_SELECTOR, css).text])[0]

    def number(css: str) -> int:
        value = text(css)
        return int(value) if value.isdigit() else -1

    server = server_factory()
    done = wait_finished(server, start(server, site, max_pages=8))  # history for the table
    assert done["status"] == "completed"
    with serve(delay=0.3) as slow:
        job_id = start(server, slow)
        driver.get(server.login_link)
        wait.until(lambda d: d.current_url == server.url + "/")
        assert "Jobs" in driver.title

        # The jobs table follows the crawl without a reload.
        driver.execute_script("window.notReloaded = true;")
        row = f'tr[data-job="{job_id}"]'
        wait.until(lambda d: number(f'{row} .progress [data-field="pages"]') > 0)
        seen = number(f'{row} .progress [data-field="pages"]')
        wait.until(lambda d: number(f'{row} .progress [data-field="pages"]') > seen)
        assert driver.execute_script("return window.notReloaded === true;")
        assert text(f"{row} .badge") == "running"
        save_screenshot(driver, tmp_path)

        # The job's page follows its events; Cancel; the page shows the job cancelled.
        driver.find_element(By.CSS_SELECTOR, f'{row} a[href="/jobs/{job_id}"]').click()
        wait.until(lambda d: d.current_url == f"{server.url}/jobs/{job_id}")
        driver.execute_script("window.notReloaded = true;")
        counter = '#job-counters dd[data-field="pages"]'
        seen = number(counter)
        wait.until(lambda d: number(counter) > seen)
        assert driver.execute_script("return window.notReloaded === true;")
        # Force asks first; "no" leaves the crawl alone.
        driver.find_element(By.CSS_SELECTOR, '#job-actions button[data-action="force"]').click()
        alert = wait.until(expected.alert_is_present())
        assert alert.text.startswith(f"Force-cancel job {job_id}?")
        alert.dismiss()
        assert driver.execute_script("return window.notReloaded === true;")
        assert job_of(server, job_id)["status"] == "running"
        driver.find_element(By.CSS_SELECTOR, '#job-actions button[data-action="cancel"]').click()
        wait.until(lambda d: "notice" not in d.current_url and d.find_elements(By.ID, "notice"))
        assert text("#notice").startswith(f"Job {job_id} ")
        wait.until(lambda d: text("h1 .badge") == "cancelled")
        assert text('#job-counters dd[data-field="status-text"]') == "cancelled"
        assert job_of(server, job_id)["status"] == "cancelled"
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '[data-action="resume"]'))

    # A crawl from the form: its page shows it run to the end, its counters and its chart.
    driver.get(server.url + "/")
    driver.find_element(By.NAME, "url").send_keys(site)
    driver.find_element(By.NAME, "max_pages").send_keys("6")
    Select(driver.find_element(By.NAME, "mode")).select_by_value("local")
    driver.find_element(By.CSS_SELECTOR, '#start-crawl button[type="submit"]').click()
    wait.until(lambda d: re.search(r"/jobs/\d+$", d.current_url))
    new_id = int(driver.current_url.rsplit("/", 1)[1])
    assert new_id not in (job_id, done["id"])
    assert text("#notice") == f"Job {new_id} started (local)."
    wait.until(lambda d: text("h1 .badge") == "completed")
    wait.until(lambda d: number(counter) == 6)
    assert text('#job-counters dd[data-field="finish_reason"]') == "max_pages"

    def chart_points(d) -> list[str] | None:
        points = d.find_element(By.CSS_SELECTOR, "#chart polyline").get_attribute("points")
        return points.split() if len(points.split()) >= 2 else None

    points = wait.until(chart_points)  # redrawn from the samples: the page had none at first
    wait.until(lambda d: "Spider closed" in text("#log"))  # the log tail, read again at the end
    assert points[-1] != points[0]  # the line rises
    job = job_of(server, new_id)
    assert (job["status"], job["mode"], job["max_pages"], job["pages"]) == (
        "completed", "local", 6, 6,
    )  # fmt: skip
    assert driver.get_log("browser") == []  # no script errors, no failed loads


# --- schedules -----------------------------------------------------------------------------------

YEARLY = "0 0 1 1 *"  # due once a year: these tests fire their runs with Run now


def add_schedule(server: DocscrawlServer, **body) -> dict:
    body = {"cron": YEARLY, "mode": "local", **body}
    response = server.api("POST", "/api/schedules", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def runs_of(server: DocscrawlServer, schedule_id: int) -> list[dict]:
    return server.api("GET", f"/api/schedules/{schedule_id}/runs").json()


def fired_run(server: DocscrawlServer, schedule_id: int, other_than: tuple = ()) -> dict:
    """The schedule's newest fired run (not one of other_than), once the scheduler fired it."""
    return wait_for(
        lambda: next((r for r in runs_of(server, schedule_id)
                      if r["outcome"] == "fired" and r["id"] not in other_than), None),
        30, 0.1,
    )  # fmt: skip


def row_of(html: str, attribute: str, value: int) -> str:
    return re.search(rf'<tr {attribute}="{value}".*?</tr>', html, re.S).group(0)


def test_the_schedules_page_lists_a_schedule_and_its_runs(server, site):
    added = add_schedule(server, client_slug="Sched Docs", url=site, max_pages=2,
                         timezone="Europe/Paris", overlap="queue")  # fmt: skip
    session = login(server)
    page = session.get(server.url + "/schedules", timeout=30)
    assert page.status_code == 200
    assert '<a href="/schedules" aria-current="page">Schedules</a>' in page.text
    row = row_of(page.text, "data-schedule", added["id"])
    assert f'<a href="/schedules/{added["id"]}">{added["id"]}</a>' in row
    assert ">sched-docs</a>" in row and f'href="{site}"' in row
    assert '<code>0 0 1 1 *</code> <span class="muted">Europe/Paris</span>' in row
    # Midnight on 1 January in Paris is 23:00 UTC the day before.
    midnight = r'\d{4}-12-31 23:00:00</time> <span class="muted">\(\d{4}-01-01 00:00 CET\)'
    assert re.search(midnight, row)
    assert "overlap queue · missed catch-up" in row
    assert '<span class="badge status-running">active</span>' in row
    assert "none yet" in row
    assert f'action="/schedules/{added["id"]}/pause"' in row

    assert server.api("POST", f"/api/schedules/{added['id']}/run-now").status_code == 202
    run = fired_run(server, added["id"])
    assert wait_finished(server, run["job_id"])["status"] == "completed"
    row = row_of(session.get(server.url + "/schedules", timeout=30).text, "data-schedule",
                 added["id"])  # fmt: skip
    assert '<span class="badge outcome-fired" data-field="outcome">fired</span>' in row
    assert f'<a href="/jobs/{run["job_id"]}">job {run["job_id"]}</a>' in row
    assert '<span title="fired">1</span> / <span title="skipped">0</span>' in row

    detail = session.get(f"{server.url}/schedules/{added['id']}", timeout=30).text
    assert f"<h1>Schedule {added['id']} " in detail
    assert 'id="schedule-runs" data-live data-interval="2000"' in detail  # refreshed while open
    run_row = row_of(detail, "data-run", run["id"])
    assert 'data-outcome="fired"' in run_row
    assert f'<a href="/jobs/{run["job_id"]}">job {run["job_id"]}</a>' in run_row
    assert f'<time datetime="{run["due_at"]}">' in run_row
    assert re.search(r'<td class="num">\d+\.\d s</td>', run_row)  # how late it fired
    assert "<td>run-now</td>" in run_row  # the reason
    upcoming = re.search(r'<ol class="upcoming">(.*?)</ol>', detail, re.S).group(1)
    assert upcoming.count("<li>") == 5 and upcoming.count("-01-01 00:00 CET") == 5


BAD_CRON = (
    "'61 * * * *' is not a cron expression: give five fields, minute hour day-of-month month "
    "day-of-week, such as '0 3 * * 1' (Mondays at 03:00), or six with seconds last."
)


def test_the_add_form_refuses_a_bad_schedule_with_the_sentence_and_keeps_what_was_typed(
    server, store
):
    session = login(server)
    csrf = csrf_of(session.get(server.url + "/schedules", timeout=30).text)
    form = {"csrf_token": csrf, "client_slug": "acme", "url": "http://127.0.0.1:9/docs/",
            "cron": "61 * * * *", "timezone": "Europe/Paris", "max_pages": "5", "mode": "local",
            "overlap": "queue", "missed": "record", "next": "/schedules"}  # fmt: skip
    sentences = {
        "cron": BAD_CRON,
        "timezone": "'Mars/Olympus' is not a time zone; give an IANA name such as Europe/Paris "
        "or UTC.",
        "url": "'ftp://x' is not an absolute http(s) URL, e.g. https://docs.example.com/.",
    }
    bad = {"cron": "61 * * * *", "timezone": "Mars/Olympus", "url": "ftp://x"}
    for field, sentence in sentences.items():
        typed = {**form, "cron": "0 3 * * 1", field: bad[field]}
        if field != "timezone":
            typed["timezone"] = "Europe/Paris"
        response = session.post(server.url + "/schedules", data=typed, timeout=30)
        assert response.status_code == 400, field
        shown = re.search(r'id="form-error">([^<]*)<', response.text).group(1)
        assert unescape(shown) == sentence
        for name in ("client_slug", "url", "cron", "timezone"):
            assert f'name="{name}" value="{escape(typed[name])}"' in response.text, name
        assert 'name="max_pages" min="1" value="5"' in response.text
        for option in ("local", "queue", "record"):
            assert f'<option value="{option}" selected>' in response.text
        assert 'data-here="/schedules"' in response.text  # the live refresh reads the GET page
    assert store.value("SELECT COUNT(*) FROM schedule") == 0

    added = session.post(server.url + "/schedules", data={**form, "cron": "0 3 * * 1"},
                         allow_redirects=False, timeout=30)  # fmt: skip
    assert added.status_code == 303
    schedule_id = store.value("SELECT id FROM schedule")
    location = urlsplit(added.headers["location"])
    assert location.path == f"/schedules/{schedule_id}"
    assert parse_qs(location.query)["notice"] == [f"Schedule {schedule_id} added."]
    page = session.get(server.url + added.headers["location"], timeout=30).text
    # The next five runs: Mondays at 03:00 in Paris.
    upcoming = re.findall(r"\((\d{4}-\d\d-\d\d) (\d\d:\d\d) (CES?T)\)", page)
    assert len(upcoming) == 5 and {time for _, time, _ in upcoming} == {"03:00"}
    assert {dt.date.fromisoformat(day).weekday() for day, _, _ in upcoming} == {0}
    row = store.rows("SELECT timezone, max_pages, mode, overlap, missed FROM schedule")[0]
    assert row == ("Europe/Paris", 5, "local", "queue", "record")


def test_the_schedule_forms_need_the_csrf_token_and_work(server, site, store):
    added = add_schedule(server, client_slug="forms", url=site, max_pages=1)
    schedule_id = added["id"]
    base = f"{server.url}/schedules/{schedule_id}"
    session = login(server)

    def state() -> tuple:
        paused = store.value("SELECT paused FROM schedule WHERE id = ?", schedule_id)
        return paused, store.value("SELECT COUNT(*) FROM schedule_run")

    for action in ("pause", "run-now", "remove"):
        for token in (None, "0" * 64):
            data = {"confirmed": "1", "next": "/schedules"}
            if token:
                data["csrf_token"] = token
            response = session.post(f"{base}/{action}", data=data, timeout=30)
            assert response.status_code == 403, action
            assert "no valid CSRF token" in message_of(response.text)
    assert state() == (0, 0)

    page = session.get(base, timeout=30).text
    csrf = csrf_of(page)
    assert f'<form method="post" action="/schedules/{schedule_id}/pause">' in page
    pause = session.post(f"{base}/pause", data={"csrf_token": csrf, "next": "/schedules"},
                         allow_redirects=False, timeout=30)  # fmt: skip
    assert pause.status_code == 303
    assert pause.headers["location"] == f"/schedules?notice=Schedule+{schedule_id}+paused."
    assert state() == (1, 0)
    listed = row_of(session.get(server.url + "/schedules", timeout=30).text, "data-schedule",
                    schedule_id)  # fmt: skip
    assert 'data-paused="true"' in listed and 'data-action="resume"' in listed
    resume = session.post(f"{base}/resume", data={"csrf_token": csrf},
                          allow_redirects=False, timeout=30)  # fmt: skip
    assert resume.status_code == 303
    notice = parse_qs(urlsplit(resume.headers["location"]).query)["notice"][0]
    assert notice.startswith(f"Schedule {schedule_id} resumed; its next run is due ")
    assert state()[0] == 0

    data = {"csrf_token": csrf, "next": f"/schedules/{schedule_id}"}
    run = session.post(f"{base}/run-now", data=data, allow_redirects=False, timeout=30)
    assert run.status_code == 303
    assert urlsplit(run.headers["location"]).path == f"/schedules/{schedule_id}"
    fired = fired_run(server, schedule_id)
    assert wait_finished(server, fired["job_id"])["status"] == "completed"

    # Remove asks first (a page when the script does not), then removes; the jobs stay.
    question = session.post(f"{base}/remove", data=data, timeout=30)
    assert question.status_code == 200
    asked = f"Remove schedule {schedule_id}? Its runs go with it; its jobs are kept."
    assert asked in question.text
    assert store.value("SELECT COUNT(*) FROM schedule") == 1
    removed = session.post(
        f"{base}/remove",
        data={"csrf_token": csrf, "confirmed": "1", "next": f"/schedules/{schedule_id}"},
        allow_redirects=False,
        timeout=30,
    )
    assert removed.status_code == 303
    assert urlsplit(removed.headers["location"]).path == "/schedules"  # its own page is gone
    assert store.value("SELECT COUNT(*) FROM schedule") == 0
    assert job_of(server, fired["job_id"])["status"] == "completed"
    gone = session.get(base, timeout=30)
    assert gone.status_code == 404
    assert message_of(gone.text) == (
        f"There is no schedule {schedule_id}; `docscrawl schedule list` shows them."
    )
    again = session.post(f"{base}/pause", data={"csrf_token": csrf}, timeout=30)
    assert again.status_code == 404


# --- change reports and a page's history --------------------------------------------------------

REPORT_PAGE = """<!doctype html><html><head><title>{title}</title></head><body>
<nav><a href="index.html">Home</a> <a href="a.html">A</a> <a href="b.html">B</a></nav>
<main><h1>{title}</h1><p>{updated}</p>
<h2>Install</h2><p>{install}</p>
<h2>Usage</h2><p>Run the tool with the right options and read what it prints.</p>
</main></body></html>"""
# Page A's install line changes (and holds a script, as text); page B's only change is noise.
HOSTILE = "then type &lt;script&gt;alert(1)&lt;/script&gt; to check"


def write_report_site(root: Path, version: str, updated_b: str) -> None:
    root.mkdir(exist_ok=True)
    pages = {
        "index.html": ("Home", "Welcome to the docs.", "pip install thing"),
        "a.html": ("Page A", "Page A explains the first thing.",
                   f"pip install thing=={version} {HOSTILE}"),
        "b.html": ("Page B", updated_b, "apt install other-thing"),
    }  # fmt: skip
    for name, (title, updated, install) in pages.items():
        path = root / name
        bump = path.exists()
        path.write_text(REPORT_PAGE.format(title=title, updated=updated, install=install))
        # http.server answers If-Modified-Since to the second: move a rewritten page's time on.
        stamp = time.time() + (10 if bump else 0)
        os.utime(path, (stamp, stamp))


def test_a_scheduled_recrawl_shows_its_change_report_and_each_page_diff(server, tmp_path):
    root = tmp_path / "planted"
    write_report_site(root, "1.0", "Last updated on 1 December 2026")
    with serve_directory(root) as url:
        added = add_schedule(server, client_slug="planted", url=url + "index.html")
        server.api("POST", f"/api/schedules/{added['id']}/run-now")
        first = fired_run(server, added["id"])
        wait_for(lambda: server.api("GET", f"/api/jobs/{first['job_id']}/changes").ok, 60, 0.2)
        write_report_site(root, "2.0", "Last updated on 3 December 2026")
        server.api("POST", f"/api/schedules/{added['id']}/run-now")
        second = fired_run(server, added["id"], other_than=(first["id"],))
        wait_for(lambda: server.api("GET", f"/api/jobs/{second['job_id']}/changes").ok, 60, 0.2)
    old_job, new_job = first["job_id"], second["job_id"]
    session = login(server)

    html = session.get(f"{server.url}/jobs/{new_job}", timeout=30).text
    report = re.search(r'<section class="card" id="job-report" data-live>(.*?)</section>', html,
                       re.S).group(1)  # fmt: skip
    assert f'a run of <a href="/schedules/{added["id"]}">schedule {added["id"]}</a>' in html
    assert f'Changes since <a href="/jobs/{old_job}">job {old_job}</a>' in report
    assert "<small>(0 added, 0 removed, 1 changed, 1 ignored)</small>" in report
    counts = dict(re.findall(r'data-field="report-(\w+)">(\d+)<', report))
    assert counts == {"added": "0", "removed": "0", "changed": "1", "ignored": "1"}
    changed = re.search(r'<li data-url="([^"]+)">(.*?)</li>\s*</ul>', report, re.S)
    assert changed.group(1) == url + "a.html"
    section = r'<span class="heading-path">([^<]*)</span>: <span class="change-\w+">(\w+)</span>'
    assert re.findall(section, changed.group(2)) == [("Page A &gt; Install", "changed")]
    ignored = re.search(r'<div class="report-ignored" id="report-ignored">(.*?)</div>', report,
                        re.S).group(1)  # fmt: skip
    assert f'<li data-url="{url}b.html">' in ignored
    assert '<span class="muted">(noise: last-updated line)</span>' in ignored
    assert "Noise rules applied: last-updated line, build stamp, copyright year." in report
    link = unescape(re.search(r'<a href="([^"]+)" class="page-diff-link">', changed.group(2))[1])
    page_id = int(re.match(r"/pages/(\d+)/history\?", link).group(1))
    hashes = parse_qs(urlsplit(link).query)  # the two versions the two jobs saw
    assert set(hashes) == {"old", "new"}

    # /diff of the two jobs links to the same page diff.
    diff = session.get(f"{server.url}/diff?old={old_job}&new={new_job}", timeout=30).text
    assert f'<a href="{escape(link)}" class="page-diff-link">its diff</a>' in diff

    # The page's history: two versions, and exactly the planted line removed and added.
    page = session.get(f"{server.url}/pages/{page_id}", timeout=30).text
    assert f'<a href="/pages/{page_id}/history">History</a>' in page
    markdown = server.api("GET", f"/api/pages/{page_id}").json()["markdown"]
    (new_line,) = [line for line in markdown.splitlines() if "thing==2.0" in line]
    for path in (link, f"/pages/{page_id}/history"):  # chosen, and the latest two by default
        shown = session.get(server.url + path, timeout=30)
        assert shown.status_code == 200, shown.text
        lines = re.findall(r'<span class="line (add|del)">([^<]*)</span>', shown.text)
        assert [(kind, unescape(text)) for kind, text in lines] == [
            ("del", "-" + new_line.replace("2.0", "1.0")), ("add", "+" + new_line),
        ]  # fmt: skip
        assert "<script>" in new_line.replace("\\", "")  # the crawled text holds one
        assert "<script>alert" not in shown.text.replace("\\", "")  # the page does not run it
        assert escape(new_line) in shown.text
        rows = re.findall(r'<tr data-version="(\w+)"', shown.text)
        assert rows == [hashes["new"][0][:12], hashes["old"][0][:12]]  # newest first
        assert f'<a href="/jobs/{new_job}">job {new_job}</a>' in shown.text
        assert '<span class="plus">+1</span> <span class="minus">\u22121</span>' in shown.text

    # Chosen the other way round, the same lines swap; a hash it does not have is a sentence.
    swapped = session.get(f"{server.url}/pages/{page_id}/history",
                          params={"old": hashes["new"][0][:12], "new": hashes["old"][0]},
                          timeout=30).text  # fmt: skip
    kinds = re.findall(r'<span class="line (add|del)">', swapped)
    assert kinds == ["del", "add"] and "+" + new_line.replace("2.0", "1.0") in unescape(swapped)
    unknown = session.get(f"{server.url}/pages/{page_id}/history?old=abc123", timeout=30)
    assert unknown.status_code == 400
    assert message_of(unknown.text) == (
        f"Page {page_id} has no stored version 'abc123'; /pages/{page_id}/history lists its "
        "versions."
    )
    # The first scheduled crawl's report says it is the first.
    first_page = session.get(f"{server.url}/jobs/{old_job}", timeout=30).text
    assert "Change report <small>(the client&#39;s first completed crawl)</small>" in first_page


def test_a_browser_sees_scheduled_runs_arrive_and_reads_the_change_report(
    browser, server, tmp_path
):
    from selenium.common.exceptions import StaleElementReferenceException as Stale
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as expected
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 30, poll_frequency=0.1, ignored_exceptions=[Stale])

    def text(css: str) -> str:
        return wait.until(lambda d: [d.find_element(By.CSS_SELECTOR, css).text])[0]

    def click(css: str) -> None:
        # The live regions are redrawn while the page is open: find and click again when the
        # element found was replaced in between.
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, css).click() or True)

    root = tmp_path / "planted"
    root.mkdir()
    with serve_directory(root) as url:
        added = add_schedule(server, client_slug="watched", url=url + "index.html")
        driver.get(server.login_link)
        wait.until(lambda d: d.current_url == server.url + "/")
        driver.get(f"{server.url}/schedules/{added['id']}")
        assert text("#schedule-runs .empty") == "No runs yet."

        # Runs arrive on the open page without a reload.
        driver.execute_script("window.notReloaded = true;")
        first_job = None
        for version, day in (("1.0", 1), ("2.0", 3)):
            write_report_site(root, version, f"Last updated on {day} December 2026")
            before = len(driver.find_elements(By.CSS_SELECTOR, "#schedule-runs tr[data-run]"))
            server.api("POST", f"/api/schedules/{added['id']}/run-now")
            wait.until(lambda d, n=before: len(d.find_elements(
                By.CSS_SELECTOR, '#schedule-runs tr[data-outcome="fired"]')) == n + 1)  # fmt: skip
            job_id = int(text("#schedule-runs tr[data-run] td:nth-child(3) a").split()[-1])
            wait_for(lambda j=job_id: server.api("GET", f"/api/jobs/{j}/changes").ok, 60, 0.2)
            first_job = first_job or job_id
        assert driver.execute_script("return window.notReloaded === true;")
        wait.until(lambda d: text('#schedule-summary dd[data-field="fired"]') == "2")
        save_screenshot(driver, tmp_path, "schedule.png")

    # The newest run's job: its report, and from it the page's diff.
    click("#schedule-runs tr[data-run] td:nth-child(3) a")
    wait.until(lambda d: d.current_url == f"{server.url}/jobs/{job_id}")
    assert text("#job-report h2").startswith(f"Changes since job {first_job}")
    assert text("#report-ignored li").endswith("(noise: last-updated line) · its diff")
    save_screenshot(driver, tmp_path, "change-report.png")
    click("#report-changed a.page-diff-link")
    wait.until(lambda d: "/history?" in d.current_url)
    removed = text("#page-diff .del")
    assert "thing==1.0" in removed and "<script>alert(1)</script>" in removed.replace("\\", "")
    assert "thing==2.0" in text("#page-diff .add")
    save_screenshot(driver, tmp_path, "page-history.png")

    # The list shows its last run; Remove asks first, and yes removes it.
    driver.get(f"{server.url}/schedules")
    row = f'#schedules-region tr[data-schedule="{added["id"]}"]'
    assert text(f'{row} [data-field="last_run"] a') == f"job {job_id}"
    save_screenshot(driver, tmp_path, "schedules.png")
    driver.get(f"{server.url}/schedules/{added['id']}")
    click('#schedule-actions [data-action="remove"]')
    alert = wait.until(expected.alert_is_present())
    assert alert.text.startswith(f"Remove schedule {added['id']}?")
    alert.accept()
    wait.until(lambda d: urlsplit(d.current_url).path == "/schedules" and "notice" not in
               d.current_url)  # fmt: skip
    assert text("#notice") == f"Schedule {added['id']} removed; its jobs are kept."
    assert "No schedules." in text("#schedules-region")
    assert driver.get_log("browser") == []  # no script errors, no failed loads


def test_without_the_session_the_new_pages_are_the_login_page_and_forms_change_nothing(
    server, site, store
):
    added = add_schedule(server, client_slug="closed", url=site)
    for path in ("/schedules", f"/schedules/{added['id']}", "/pages/1/history"):
        response = requests.get(server.url + path, timeout=30)
        assert response.status_code == 401, path
        assert f'name="next" value="{escape(path)}"' in response.text
    form = {"client_slug": "x", "url": site, "cron": YEARLY, "confirmed": "1"}
    for path in ("/schedules", *(f"/schedules/{added['id']}/{action}"
                                 for action in ("pause", "run-now", "remove"))):  # fmt: skip
        assert requests.post(server.url + path, data=form, timeout=30).status_code == 401, path
    assert store.rows("SELECT id, paused FROM schedule") == [(added["id"], 0)]
    assert store.value("SELECT COUNT(*) FROM schedule_run") == 0
    # Unknown ids are the error page with the sentence.
    session = login(server)
    for path, sentence in (
        ("/schedules/999", "There is no schedule 999; `docscrawl schedule list` shows them."),
        ("/pages/999/history", "There is no page 999."),
    ):
        response = session.get(server.url + path, timeout=30)
        assert response.status_code == 404 and message_of(response.text) == sentence
