"""The egg scrapyd-deploy builds holds the Scrapy project and the CLI, not the test helpers."""

from __future__ import annotations

import zipfile

from support import ScrapydServer


def test_the_deployed_egg_holds_docscrawl_and_control_only(scrapyd: ScrapydServer) -> None:
    (egg,) = (scrapyd.workdir / "eggs" / "docscrawl").glob("*.egg")
    with zipfile.ZipFile(egg) as archive:
        top_level = {name.split("/")[0] for name in archive.namelist()}
    assert top_level == {"EGG-INFO", "control", "docscrawl"}
