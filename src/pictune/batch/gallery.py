"""`index.html`: one page that shows a whole batch — each picture as a thumbnail with its
piece's title, key, meter and tempo, a player, and links to its report and MIDI file.

The page is self-contained: its style is inline and the thumbnails are embedded as data
URIs, so it opens offline and from any copy of the output folder; audio, reports and MIDI
files are linked by relative paths into the picture folders beside it. Every name and title
is escaped (a picture may be called `<b>&.png`), and every link is percent-encoded."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path
from urllib.parse import quote

from pictune.batch.runner import DONE, find_images, output_folders
from pictune.errors import PictuneError

THUMBNAIL_SIDE = 240
GALLERY = "index.html"
AUDIO_TYPES = (("music.ogg", "audio/ogg"), ("music.mp3", "audio/mpeg"), ("music.wav", "audio/wav"))


@dataclass(frozen=True)
class Entry:
    """One picture of the batch as the gallery shows it."""

    picture: str  # its path inside the batch's picture folder
    folder: str  # its output folder, relative to the gallery
    title: str | None = None
    facts: str = ""
    thumbnail: str | None = None  # a data URI
    audio: tuple[tuple[str, str], ...] = ()  # (file name, MIME type)
    error: str | None = None


def write_gallery(images_dir: Path, out_dir: Path, failed: dict[str, str] | None = None) -> Path:
    """Write `out_dir/index.html` for the batch of `images_dir` written into `out_dir`;
    `failed` maps a picture (relative to `images_dir`) to its error."""
    images = find_images(images_dir)
    folders = output_folders(images, images_dir, out_dir)
    entries = [
        _entry(
            image,
            images_dir,
            folders[image],
            out_dir,
            (failed or {}).get(_relative(image, images_dir)),
        )
        for image in images
    ]
    path = out_dir / GALLERY
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(render_gallery(entries, title=f"pictune · {images_dir.name}"), "utf-8")
    return path


def _relative(image: Path, images_dir: Path) -> str:
    return image.relative_to(images_dir).as_posix()


def _entry(image: Path, images_dir: Path, folder: Path, out_dir: Path, error: str | None) -> Entry:
    relative = _relative(image, images_dir)
    link = folder.relative_to(out_dir).as_posix()
    thumbnail = _thumbnail(image)
    if not (folder / DONE).is_file():
        return Entry(relative, link, thumbnail=thumbnail, error=error or "not composed yet")
    title, facts = _describe(folder)
    audio = tuple((name, kind) for name, kind in AUDIO_TYPES if (folder / name).is_file())
    return Entry(relative, link, title, facts, thumbnail, audio)


def _thumbnail(image: Path) -> str | None:
    """A small JPEG of the picture as a data URI (None when the picture cannot be read)."""
    from pictune.images import load_image

    try:
        picture = load_image(image, max_side=THUMBNAIL_SIDE)
    except (PictuneError, OSError):
        return None
    picture.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _describe(folder: Path) -> tuple[str | None, str]:
    """The piece's title and a line of its key, meter, tempo and length."""
    from pictune.explain.summary import tune_facts
    from pictune.pipeline.record import Composition

    try:
        composition = Composition.load(folder)
    except (PictuneError, OSError, ValueError, KeyError, json.JSONDecodeError):
        return None, "its report.json could not be read"
    facts = tune_facts(composition.abc or "", composition.midi)
    parts = [facts.key, facts.meter, facts.tempo, facts.length()]
    return composition.title or None, " · ".join(part for part in parts if part)


def _href(*parts: str) -> str:
    """A relative link, percent-encoded part by part, then escaped for an attribute."""
    return escape("/".join(quote(part, safe="/") for part in parts), quote=True)


def render_gallery(entries: list[Entry], title: str) -> str:
    """The page for these entries (a pure function of them: tested without a batch)."""
    cards = "\n".join(_card(entry) for entry in entries)
    done = sum(1 for entry in entries if entry.error is None)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<header><h1>{escape(title)}</h1>
<p>{done} of {len(entries)} pictures composed. Each piece is symbolic music played through
General MIDI; open its report to see the score, the heat-map and why it sounds as it does.</p>
</header>
<main>
{cards}
</main>
</body>
</html>
"""


def _card(entry: Entry) -> str:
    picture = escape(entry.picture)
    image = (
        f'<img src="{escape(entry.thumbnail, quote=True)}" alt="{picture}" loading="lazy">'
        if entry.thumbnail
        else '<div class="missing">no preview</div>'
    )
    if entry.error is not None:
        return (
            f'<article class="failed">{image}<h2>{picture}</h2>'
            f'<p class="error">{escape(entry.error)}</p></article>'
        )
    sources = "".join(
        f'<source src="{_href(entry.folder, name)}" type="{kind}">' for name, kind in entry.audio
    )
    player = f'<audio controls preload="none">{sources}</audio>' if sources else ""
    heading = escape(entry.title or entry.picture)
    return (
        f"<article>{image}<h2>{heading}</h2>"
        f'<p class="picture">{picture}</p><p class="facts">{escape(entry.facts)}</p>{player}'
        f'<p class="links"><a href="{_href(entry.folder, "report.html")}">report</a>'
        f' · <a href="{_href(entry.folder, "music.mid")}" download>MIDI</a></p></article>'
    )


STYLE = """
body { font: 16px/1.45 system-ui, sans-serif; margin: 0; color: #1d1d1f; background: #f6f6f4; }
header { padding: 1.5rem 2rem 0.5rem; }
h1 { margin: 0 0 0.3rem; font-size: 1.6rem; }
header p { margin: 0; color: #555; max-width: 48rem; }
main { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr));
  gap: 1.2rem; padding: 1rem 2rem 2rem; }
article { background: #fff; border-radius: 10px; box-shadow: 0 1px 3px #0002; padding: 0.8rem;
  display: flex; flex-direction: column; gap: 0.3rem; overflow-wrap: anywhere; }
article img, .missing { width: 100%; aspect-ratio: 4 / 3; object-fit: cover; border-radius: 6px;
  background: #ddd; }
.missing { display: grid; place-items: center; color: #666; }
h2 { font-size: 1.05rem; margin: 0.3rem 0 0; }
p { margin: 0; }
.picture, .facts { color: #555; font-size: 0.9rem; }
audio { width: 100%; margin-top: 0.3rem; }
a { color: #0b57d0; }
.failed { opacity: 0.8; }
.error { color: #a00; font-size: 0.9rem; }
"""
