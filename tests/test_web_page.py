"""The web page in headless chromium, at desktop (1280 px) and mobile (390 px) widths.

One run drives what a user does: a rejected upload, a composition with choices, its stages,
summary, motivation, live notation (edit → re-render → download), downloads named after the
title, another variation side by side, history with a permalink and delete, the API docs;
then an axe-core audit (zero serious or critical violations), no horizontal overflow, and no
request outside the server. The desktop run writes the README's screenshots into docs/."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
from pictune.corpus import CorpusIndex
from pictune.web.app import ServerSettings
from tests.browser import launch_chromium, serving

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "src" / "pictune" / "data" / "example.jpg"
AXE = Path(__file__).parent / "assets" / "axe.min.js"
DOCS = ROOT / "docs"

pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="Debian's chromium is not installed (make test installs it)",
)


@pytest.fixture(scope="module")
def index(small_index_folder):
    return CorpusIndex(small_index_folder)


def lit_chips(page) -> int:
    return page.locator("#stages li.now, #stages li.done, #stages li.failed").count()


def audit(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def overflow(page) -> int:
    """How many pixels the page is wider than its viewport (0: nothing overflows)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


@pytest.mark.parametrize("width", [1280, 390])
def test_the_page_as_a_user_meets_it(index, tmp_path, width):
    from tests.conftest import offline

    playwright = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    outside: list[str] = []
    violations: dict[str, list[str]] = {}
    overflows: dict[str, int] = {}
    with (
        serving(ServerSettings(tmp_path, composer=offline(index))) as base,
        playwright.sync_playwright() as driver,
    ):
        browser = launch_chromium(driver)
        context = browser.new_context(
            viewport={"width": width, "height": 900}, accept_downloads=True
        )
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "request",
            lambda r: None if r.url.startswith((base, "data:", "blob:")) else outside.append(r.url),
        )
        page.goto(base + "/")
        page.wait_for_selector("#instrument option:nth-child(3)", state="attached")
        assert lit_chips(page) == 0  # a fresh page: no stage lit
        violations["fresh"] = audit(page)
        overflows["fresh"] = overflow(page)

        # The drop zone is a button: Enter and Space open the file chooser (a click on the
        # file input; counted rather than waited for, as headless chromium's chooser event
        # is not reliable when several browsers have run in one process).
        page.evaluate(
            "window.chooserOpened = 0;"
            "document.getElementById('file').addEventListener('click', () => chooserOpened++)"
        )
        page.focus("#drop")
        assert page.evaluate("document.activeElement.id") == "drop"
        page.keyboard.press("Enter")
        page.keyboard.press(" ")
        assert page.evaluate("window.chooserOpened") == 2
        page.set_input_files(
            "#file",
            files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"}],
        )
        page.click("#go")
        page.wait_for_function("document.getElementById('error').textContent.length > 0")
        assert lit_chips(page) == 0  # a rejected upload lights no stage

        # A picture with choices beside the prompt.
        page.set_input_files("#file", str(EXAMPLE))
        page.select_option("#key", "D minor")
        page.select_option("#meter", "3/4")
        page.fill("#tempo", "90")
        page.fill("#bars", "8")
        page.select_option("#instrument", "violin")
        page.click("#go")
        page.wait_for_selector("#result:not([hidden])", timeout=60_000)
        chips = page.locator("#stages li").all_inner_texts()
        assert chips == ["queued", "analyse", "retrieve", "compose", "refine", "explain",
                         "done"]  # fmt: skip
        summary = page.locator("#summary").inner_text()
        for fact in ("D minor", "3/4", "90", "violin", "8"):
            assert fact in summary, (fact, summary)
        title = page.locator("#title").inner_text().strip()
        slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
        assert title and slug
        assert page.locator("#motivation mark").count() > 0
        assert page.locator("#motivation").inner_text().count("<mark") == 0
        references = page.locator("#references li").all_inner_texts()
        assert references and len(set(references)) == len(references)
        assert all(r.split(" — ")[0].strip() for r in references)  # each has a title
        rounds = page.locator("#rounds").inner_text()
        assert "90" in rounds and not re.search(r"\b\d+\.000\b", rounds)
        page.wait_for_function("document.getElementById('player').duration > 1")
        assert page.locator("#player").get_attribute("src").startswith("blob:")
        assert page.locator("#report-link").get_attribute("target") == "_blank"
        with context.expect_page() as opened:
            page.click("#report-link")
        opened.value.wait_for_selector("#motivation")  # the report, in a new tab
        opened.value.close()
        page.wait_for_selector("#notation svg")

        if width == 1280:
            DOCS.mkdir(exist_ok=True)
            page.locator("#result").screenshot(path=str(DOCS / "screenshot-page.png"))

        # Downloads carry the title and the right extension.
        with page.expect_download() as midi:
            page.click("#downloads a[data-key='mid']")
        assert midi.value.suggested_filename == f"{slug}.mid"
        with page.expect_download() as report_json:
            page.click("#downloads a[data-key='json']")
        assert report_json.value.suggested_filename == f"{slug}-report.json"

        # Live notation: the score follows the editor, and the edit renders on the server.
        before = page.locator("#notation").inner_html()
        abc = page.input_value("#abc-editor")
        edited = re.sub(r"^T:.*$", "T:Edited Tune", abc, count=1, flags=re.M)
        page.fill("#abc-editor", edited)
        page.wait_for_function(
            "(before) => document.getElementById('notation').innerHTML !== before",
            arg=before,
        )
        assert "Edited Tune" in page.locator("#notation").inner_text()
        page.click("#render")
        page.wait_for_selector("#render-result a[data-key='mid']", timeout=30_000)
        with page.expect_download() as rendered:
            page.click("#render-result a[data-key='mid']")
        assert rendered.value.suggested_filename == "edited-tune.mid"

        # The playback cursor follows the audio.
        page.evaluate("document.getElementById('player').play()")
        page.wait_for_selector("#notation .abcjs-highlight", timeout=10_000)
        page.evaluate("document.getElementById('player').pause()")
        violations["result"] = audit(page)
        overflows["result"] = overflow(page)

        # Another variation: the next seed, compared side by side.
        page.click("#vary")
        page.wait_for_selector("#variations .variation:nth-child(2)", timeout=60_000)
        seeds = page.locator("#variations .variation").all_inner_texts()
        assert any("seed 0" in s for s in seeds) and any("seed 1" in s for s in seeds)

        # History: thumbnails, titles, original file names, permalink, delete.
        page.wait_for_function("document.querySelectorAll('#history li').length === 2")
        page.wait_for_selector("#history li img:not([hidden])")
        assert "example.jpg" in page.locator("#history").inner_text()
        link = page.locator("#history li a").first.get_attribute("href")
        assert re.fullmatch(r"/c/[0-9a-f]{32}", link or "")
        page.goto(base + link)
        page.wait_for_selector("#result:not([hidden])", timeout=30_000)
        assert lit_chips(page) == 0  # opening a stored piece lights no stage
        page.wait_for_load_state("networkidle")  # its files and its variations' audio loaded
        page.locator("#history li .delete").last.click()
        page.wait_for_function("document.querySelectorAll('#history li').length === 1")

        # The API docs render from the server's own assets.
        page.goto(base + "/docs")
        page.wait_for_selector(".swagger-ui .info", timeout=20_000)

        # An example picture composes with one click.
        page.goto(base + "/")
        page.click(".example[data-name='coffee.jpg']")
        page.wait_for_selector("#result:not([hidden])", timeout=60_000)
        page.wait_for_function(
            "document.getElementById('history').innerText.includes('coffee.jpg')"
        )
        if width == 1280:
            report = context.new_page()
            report.goto(base + link.replace("/c/", "/api/compositions/") + "/files/report")
            report.wait_for_selector("#motivation")
            report.screenshot(path=str(DOCS / "screenshot-report.png"))
        browser.close()
    assert [e for e in errors if "status of 415" not in e] == []  # the rejected upload
    assert outside == []
    assert violations == {"fresh": [], "result": []}
    assert overflows == {"fresh": 0, "result": 0}
