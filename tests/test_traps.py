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


def test_query_variants_are_counted_per_path() -> None:
    rules = TrapRules(max_query_variants=3)
    assert [rules.check_url(f"http://h/list?page={n}") is None for n in range(5)] == [
        True, True, True, False, False
    ]  # fmt: skip
    assert rules.check_url("http://h/other?page=1") is None


def test_a_rule_at_zero_is_off() -> None:
    rules = TrapRules(max_url_length=0, max_segment_repeats=0, max_same_content=0)
    assert rules.check_url("http://h/" + "a/" * 10 + "x" * 3000) is None
    assert all(rules.check_content("same") is None for _ in range(100))


def test_the_same_main_text_under_many_urls() -> None:
    rules = TrapRules(max_same_content=2)
    assert [rules.check_content("h") is None for _ in range(3)] == [True, True, False]
    assert rules.check_content("other") is None


def test_a_numbered_chain_grows_only_from_a_page_of_the_same_shape() -> None:
    month = "http://h/docs/calendar/2026/11/"
    assert numbered_chain("http://h/docs/calendar/2026/12/", 7, month) == 8
    # An index listing many numbered pages starts each of them at 0: PEP 1..8000 is no trap.
    assert numbered_chain("http://h/peps/", 0, "http://h/peps/pep-0008/") == 0
    assert numbered_chain("http://h/docs/calendar/2026/12/", 7, "http://h/docs/about/") == 0
    rules = TrapRules(max_numbered_chain=50)
    assert rules.check_url(month, numbered_chain=50) is None
    assert "50" in rules.check_url(month, numbered_chain=51)


def test_many_numbered_urls_listed_by_one_page_are_not_a_trap() -> None:
    rules = TrapRules()
    assert all(rules.check_url(f"http://h/peps/pep-{n:04d}/") is None for n in range(8000))
    assert all(rules.check_url(f"http://h/docs/v{n}.0/index.html") is None for n in range(300))


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
