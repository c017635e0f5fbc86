"""A command imports only what it needs: the store's commands on SQLite load neither the Scrapy
machinery nor an HTTP client nor psycopg2 (each tens of milliseconds of every start-up)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from support import clean_env

# What a command on a SQLite store must not import: the crawl machinery (Scrapy, Twisted), the
# Scrapyd client's HTTP stack, the PostgreSQL driver, every engine's extension (db_url) and
# the commands kept in modules of their own.
HEAVY = (
    "scrapy",
    "twisted",
    "requests",
    "urllib3",
    "psycopg2",
    "playhouse.db_url",
    "playhouse.postgres_ext",
    "control.schedule_cli",
    "control.serve_cli",
    "control.dedupe",
)

# The entry point as the console script runs it, printing what was imported at the end.
RUN = (
    "import sys, atexit\n"
    "atexit.register(lambda: print('\\n'.join(sorted(sys.modules)), file=sys.stderr))\n"
    "sys.argv[0] = 'docscrawl'\n"
    "from control.cli import main\n"
    "main()\n"
)


def imported(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    result = subprocess.run(
        [sys.executable, "-c", RUN, "--db", str(tmp_path / "store.db"), *args],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    return result, set(result.stderr.splitlines())


def heavy(modules: set[str], names: tuple[str, ...] = HEAVY) -> list[str]:
    """The modules that are one of names or inside one of them."""
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in names))


@pytest.mark.parametrize(
    "args",
    [["list"], ["list", "--json"], ["status", "--job", "1"], ["reconcile"], ["--help"]],
    ids=["list", "list-json", "status", "reconcile", "help"],
)
def test_store_commands_on_sqlite_import_no_heavy_module(tmp_path: Path, args: list[str]) -> None:
    result, modules = imported(tmp_path, *args)
    assert "control.cli" in modules and "peewee" in modules  # the run did happen
    if args == ["--help"]:
        # Listing the commands imports their modules (for their help), never Scrapy's.
        assert "Commands:" in result.stdout and "schedule" in result.stdout
        assert [m for m in heavy(modules) if m.split(".")[0] in ("scrapy", "twisted")] == []
    else:
        assert heavy(modules) == [], heavy(modules)


def test_a_lazily_loaded_command_still_runs_and_fails_cleanly(tmp_path: Path) -> None:
    result, modules = imported(tmp_path, "schedule", "list")
    assert result.returncode == 0, result.stderr
    assert "control.schedule_cli" in modules
    result, _ = imported(tmp_path, "schedule", "--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr and "Traceback" not in result.stderr


# What a crawl process must not import: modules of components docscrawl turns off, and the
# optional pydantic that itemadapter probes for (docscrawl/when_enabled.py, lean_imports.py).
# Each is memory in every polite crawl process of a node.
IDLE_IMPORTS = ("pydantic", "pydantic_core", "aiohttp", "tldextract", "requests", "twisted.conch")


def test_a_crawl_imports_no_component_it_leaves_off(tmp_path: Path, site: str) -> None:
    result, modules = imported(tmp_path, "crawl", "--url", site, "--quiet")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "scrapy.core.engine" in modules and "itemadapter" in modules  # it did crawl
    assert heavy(modules, IDLE_IMPORTS) == []


# The crawl as Scrapyd starts it (`scrapy crawl` in the project), printing its modules at exit.
SCRAPY_RUN = (
    "import sys, atexit\n"
    "atexit.register(lambda: print('\\n'.join(sorted(sys.modules)), file=sys.stderr))\n"
    "from scrapy.cmdline import execute\n"
    "execute(['scrapy', *sys.argv[1:]])\n"
)


def test_a_crawl_started_as_scrapyd_does_imports_no_component_it_leaves_off(
    tmp_path: Path, site: str
) -> None:
    from support import PROJECT_ROOT

    from docscrawl import models

    store = str(tmp_path / "store.db")
    models.open_store(store)
    job = models.Job.create(client=models.get_or_create_client("sample"), url=site)
    models.database.close()
    result = subprocess.run(
        [sys.executable, "-c", SCRAPY_RUN, "crawl", "docs", "-a", f"url={site}",
         "-a", f"job_id={job.id}", "-s", f"DOCSCRAWL_DB={store}", "-s", "CLOSESPIDER_PAGECOUNT=3"],
        capture_output=True, text=True, env=clean_env(), cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    modules = set(result.stderr.splitlines())
    assert result.returncode == 0, result.stderr[-2000:]
    assert "scrapy.core.engine" in modules and "itemadapter" in modules
    assert heavy(modules, IDLE_IMPORTS) == []


def test_pydantic_still_imports_everywhere_else() -> None:
    # itemadapter's import alone skips it; FastAPI (docscrawl serve) and anyone else get it.
    code = (
        "import docscrawl, itemadapter, sys\n"
        "assert 'pydantic' not in sys.modules\n"
        "import pydantic, fastapi\n"
        "from itemadapter import ItemAdapter\n"
        "from docscrawl.items import PageItem\n"
        "assert ItemAdapter.is_item(PageItem(url='x'))\n"
        "print(pydantic.BaseModel.__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=clean_env(), timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "BaseModel"
