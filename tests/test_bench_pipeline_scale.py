"""bench/pipeline_scale.py runs end to end at a tiny size and prints its table."""

from __future__ import annotations

import pytest

from bench import pipeline_scale


def test_tiny_pipeline_scale_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert pipeline_scale.main(["--sides", "after", "--pages", "10", "--runs", "1"]) == 0
    table = capsys.readouterr().out
    assert "| crawl | store | after |" in table
    assert "| new | empty | " in table and "| recrawl | empty | " in table
