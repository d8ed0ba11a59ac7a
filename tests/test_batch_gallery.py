"""The batch gallery, index.html: every picture with its title, player and report link; the
page is self-contained, and names and titles that look like HTML are shown, never run."""

from __future__ import annotations

import base64
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import pytest
from PIL import Image
from typer.testing import CliRunner

from pictune.batch import run_batch
from pictune.batch.gallery import Entry, render_gallery
from pictune.cli.app import app

ODD = 'odd <b>name<i> & "quotes" #1?.png'


class Page(HTMLParser):
    """The parts of a page the tests look at: tags with their attributes, and the text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def links(self) -> list[str]:
        return [
            str(attrs.get(name))
            for _, attrs in self.tags
            for name in ("src", "href")
            if attrs.get(name) is not None
        ]

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]


@pytest.fixture(scope="module")
def batch(small_index_folder, tmp_path_factory):
    """A batch of three pictures, one with a name full of HTML, and one broken file."""
    root = tmp_path_factory.mktemp("gallery")
    pictures = root / "pictures"
    (pictures / "sub").mkdir(parents=True)
    Image.new("RGB", (120, 80), (220, 30, 30)).save(pictures / "red.png")
    Image.new("RGB", (80, 60), (20, 40, 200)).save(pictures / "sub" / "blue.jpg")
    Image.new("RGB", (90, 60), (30, 200, 40)).save(pictures / ODD)
    (pictures / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    out = root / "out"
    run_batch(pictures, out, workers=1, index_folder=small_index_folder)
    return out


def test_the_gallery_shows_every_picture_with_title_player_and_report(batch):
    page = Page((batch / "index.html").read_text("utf-8"))
    text = " ".join(" ".join(page.text).split())
    assert "3 of 4 pictures composed" in text
    titles = []
    for folder in sorted(p.parent for p in batch.rglob("report.json")):
        titles.append(json.loads((folder / "report.json").read_text())["title"])
    assert len(titles) == 3 and all(title in text for title in titles)
    assert ODD in text  # the odd name is shown as text
    reports = [a["href"] for a in page.all("a") if str(a["href"]).endswith("report.html")]
    sources = [s["src"] for s in page.all("source")]
    assert len(reports) == 3 and len(sources) == 3
    for link in [*reports, *sources]:
        assert (batch / unquote(str(link))).is_file(), link  # relative links that resolve
    assert len(page.all("audio")) == 3


def test_the_gallery_is_self_contained(batch):
    page = Page((batch / "index.html").read_text("utf-8"))
    for link in page.links():
        assert not link.startswith(("http:", "https:", "//")), link
    assert not page.all("script") and not page.all("link")
    thumbnails = [str(img["src"]) for img in page.all("img")]
    assert len(thumbnails) == 3  # the broken file has none
    for uri in thumbnails:
        assert uri.startswith("data:image/jpeg;base64,")
        picture = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
        assert max(picture.size) <= 240


def test_a_failed_picture_is_listed_with_its_error(batch):
    page = Page((batch / "index.html").read_text("utf-8"))
    failed = [i for i, (tag, attrs) in enumerate(page.tags) if attrs.get("class") == "failed"]
    assert len(failed) == 1
    text = " ".join(page.text)
    assert "broken.jpg" in text
    summary = json.loads((batch / "summary.json").read_text())
    assert summary["failed"][0]["error"] in text


def test_names_and_titles_are_escaped_and_links_encoded():
    entry = Entry(
        picture="<script>alert(1)</script>.png",
        folder='a b#c?d"e',
        title='Tom & "Jerry" <img src=x onerror=alert(2)>',
        facts="G major · 3/4",
        audio=(("music.wav", "audio/wav"),),
    )
    html = render_gallery([entry], title="<i>batch</i>")
    assert "<script>" not in html and "<img src=x" not in html and "<i>batch" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.png" in html
    assert "Tom &amp; &quot;Jerry&quot; &lt;img src=x onerror=alert(2)&gt;" in html
    page = Page(html)
    assert page.all("a")[0]["href"] == "a%20b%23c%3Fd%22e/report.html"
    assert page.all("source")[0]["src"] == "a%20b%23c%3Fd%22e/music.wav"


def test_cli_batch_names_the_gallery(small_index_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("PICTUNE_INDEX_DIR", str(small_index_folder.parent))
    pictures = tmp_path / "p"
    pictures.mkdir()
    Image.new("RGB", (60, 40), (200, 200, 30)).save(pictures / "yellow.png")
    out = tmp_path / "o"
    result = CliRunner().invoke(app, ["batch", str(pictures), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert f"gallery: {out / 'index.html'}" in " ".join(result.stdout.split())
    assert Path(out / "index.html").is_file()
