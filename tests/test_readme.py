"""The README documents every CLI command, and its set-up commands exist."""

from __future__ import annotations

import os
from pathlib import Path

import click

from control.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_every_command_is_documented() -> None:
    context = click.Context(main)
    names = main.list_commands(context)  # with the commands loaded only when used
    assert {"crawl", "schedule", "search", "serve", "webhook", "history"} <= set(names)
    for name in names:
        command = main.get_command(context, name)
        assert f"### `docscrawl {name}`" in README, f"README lacks a section for {name}"
        for param in command.params:
            for option in param.opts:
                if option.startswith("--") and option not in ("--help",):
                    assert option in README, f"README does not mention {name} {option}"


def test_setup_commands_exist_and_are_executable() -> None:
    for script in ("scripts/demo", "scripts/test", ".ci/run"):
        assert os.access(ROOT / script, os.X_OK), script
    assert "./scripts/demo" in README and "./scripts/test" in README
    assert "scripts/test" in (ROOT / ".ci" / "run").read_text()


def test_changelog_exists() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text()
