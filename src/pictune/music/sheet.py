"""Sheet music as SVG: abcm2ps when installed (every voice engraved), else verovio.

verovio (a PyPI dependency) imports ABC and engraves in about 10 ms but drops all voices but
the first ("Multi-voice music is not supported"); Debian's abcm2ps engraves full multi-voice
ABC in about 8 ms. The engine used is returned so reports can say which. Both run in a child
process under limits (abcm2ps as a tool, verovio through `pictune.music.isolated`); an
abcm2ps run stopped by a limit is not retried with verovio, which would fare worse.
"""

from __future__ import annotations

import logging
import shutil

from pictune.abc.tools import run_tool
from pictune.errors import RenderError, ToolError
from pictune.music.isolated import MAX_RENDER_CHARS, run_renderer

log = logging.getLogger(__name__)


def render_svg(abc: str, engine: str = "auto") -> tuple[str, str]:
    """(SVG text, engine name) for one tune; engine is 'auto', 'abcm2ps' or 'verovio'."""
    if engine not in ("auto", "abcm2ps", "verovio"):
        raise RenderError(f"unknown engraving engine {engine!r}; use abcm2ps or verovio")
    if len(abc) > MAX_RENDER_CHARS:
        raise RenderError(
            f"the tune is {len(abc):,} characters; scores are engraved up to {MAX_RENDER_CHARS:,}"
        )
    if engine in ("auto", "abcm2ps") and shutil.which("abcm2ps"):
        try:
            return _abcm2ps(abc), "abcm2ps"
        except (ToolError, RenderError) as exc:
            if engine == "abcm2ps" or isinstance(exc, ToolError):
                raise
            log.info("abcm2ps failed (%s); engraving with verovio", exc)
    elif engine == "abcm2ps":
        raise RenderError("abcm2ps is not installed (Debian: apt-get install abcm2ps)")
    svg = run_renderer("verovio", {"tune.abc": abc.encode("utf-8")}, "score.svg")
    return svg.decode("utf-8", "replace"), "verovio"


def _abcm2ps(abc: str) -> str:
    run = run_tool(
        "abcm2ps",
        ["-q", "-g", "-O", "score.svg", "tune.abc"],
        {"tune.abc": abc.encode()},
        ["score001.svg"],
    )
    svg = run.outputs.get("score001.svg")
    if not svg:
        raise RenderError(
            "abcm2ps produced no SVG: " + (run.stdout.strip().splitlines() or ["?"])[-1]
        )
    return svg.decode("utf-8", "replace")


def verovio_svg(abc: str) -> str:
    """verovio's SVG of a tune, in this process (the render worker's side of `render_svg`)."""
    import verovio

    toolkit = verovio.toolkit()
    toolkit.setOptions(
        {
            "inputFrom": "abc",
            "adjustPageHeight": True,
            "pageHeight": 60000,
            "breaks": "auto",
            "scale": 40,
            "footer": "none",
            "header": "auto",
        }
    )
    if not toolkit.loadData(abc):
        raise RenderError("verovio could not read the ABC")
    svg: str = toolkit.renderToSVG(1)
    if not svg.strip():
        raise RenderError("verovio produced no SVG")
    return svg
