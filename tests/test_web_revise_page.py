"""The page's revise box in a headless browser: compose, revise in words, and the chain
shows as a timeline with a player for each version and the request's verdicts."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pictune.corpus import CorpusIndex
from pictune.web.app import ServerSettings
from tests.browser import launch_chromium, serving
from tests.conftest import offline

EXAMPLE = Path(__file__).parents[1] / "src" / "pictune" / "data" / "example.jpg"


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_revise_box_and_timeline(index, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    settings = ServerSettings(tmp_path, composer=offline(index))
    with serving(settings) as base, playwright.sync_playwright() as driver:
        browser = launch_chromium(driver)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(base + "/")
        page.set_input_files("#file", str(EXAMPLE))
        page.click("#go")
        page.wait_for_selector("#revise-timeline li", timeout=60_000)
        assert page.locator("#revise-timeline li").count() == 1  # the original alone
        page.fill("#revise-request", "slower, with purple elephants")
        page.click("#revise-go")
        page.wait_for_function(
            "document.querySelectorAll('#revise-timeline li').length === 2", timeout=60_000
        )
        items = page.locator("#revise-timeline li")
        assert "original" in items.nth(0).inner_text()
        assert "slower, with purple elephants" in items.nth(1).inner_text()
        assert "1 of 1 honoured" in items.nth(1).inner_text()
        assert page.locator("#revise-timeline audio").count() == 2
        verdicts = page.locator("#revise-verdicts").inner_text()
        assert "tempo" in verdicts and "honoured" in verdicts
        assert "purple, elephants" in page.locator("#revise-checks").inner_text()
        page.locator("#revise-timeline li").nth(0).locator("a").click()
        page.wait_for_function(
            "document.querySelector('#revise-timeline li.current strong')"
            ".textContent === 'original'", timeout=30_000,
        )  # fmt: skip
        page.locator("#revise-card").screenshot(path=str(tmp_path / "revise.png"))
        assert (tmp_path / "revise.png").stat().st_size > 5_000
        browser.close()
    assert errors == []
