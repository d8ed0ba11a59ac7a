"""Heat-maps: a grid of weights drawn over the image it explains, the picture keeping its
colours (hot regions as they are, cold ones faded, contour lines along a perceptual ramp)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

# A perceptual dark-to-bright ramp (after matplotlib's 'inferno'):
# black, purple, red, orange, pale yellow.
_RAMP = np.array(
    [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float64
)


def colourise(values: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """RGB colours for values in 0–1 along the ramp."""
    scaled = np.clip(values, 0, 1) * (len(_RAMP) - 1)
    low = np.floor(scaled).astype(int)
    high = np.minimum(low + 1, len(_RAMP) - 1)
    fraction = (scaled - low)[..., None]
    colours: npt.NDArray[np.uint8] = (_RAMP[low] * (1 - fraction) + _RAMP[high] * fraction).astype(
        np.uint8
    )
    return colours


def overlay(
    image: Image.Image,
    grid: npt.NDArray[np.float64],
    fade: float = 0.75,
    contours: tuple[float, ...] = (0.25, 0.5, 0.75),
) -> Image.Image:
    """The picture with the grid drawn over it, keeping the picture's own colours.

    The grid is normalised to 0–1 and upsampled (bilinear). Hot regions keep the picture's
    colours as they are; the colder a region, the more it fades towards a pale grey (up to
    `fade` of the way), so no region is recoloured (a tint over a navy sky would turn it
    khaki). Lines in the perceptual ramp's colour of their level, with a dark edge, trace
    the `contours`."""
    values = np.asarray(grid, dtype=np.float64)
    span = values.max() - values.min()
    values = (values - values.min()) / span if span > 0 else np.ones_like(values)
    rgb = image.convert("RGB")
    heat = Image.fromarray((values * 255).astype(np.uint8)).resize(
        rgb.size, Image.Resampling.BILINEAR
    )
    weight = np.asarray(heat, dtype=np.float64) / 255.0
    base = np.asarray(rgb, dtype=np.float64)
    pale = (base @ np.array([0.299, 0.587, 0.114])) * 0.6 + 255 * 0.4
    amount = (fade * (1 - weight))[..., None]
    blended = base * (1 - amount) + pale[..., None] * amount
    for level in contours:
        line = _contour(weight, level)
        blended[_widen(line) & ~line] = (20, 20, 20)
        blended[line] = colourise(np.array([level]))[0]
    return Image.fromarray(np.clip(blended, 0, 255).astype(np.uint8))


def _contour(weight: npt.NDArray[np.float64], level: float) -> npt.NDArray[np.bool_]:
    """Pixels on the boundary of the region at or above `level` (a line about 2 px wide)."""
    inside = weight >= level
    edge = np.zeros_like(inside)
    edge[:-1, :] |= inside[:-1, :] != inside[1:, :]
    edge[:, :-1] |= inside[:, :-1] != inside[:, 1:]
    return _widen(edge)


def _widen(mask: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The mask grown by one pixel in each direction."""
    grown = mask.copy()
    grown[1:, :] |= mask[:-1, :]
    grown[:-1, :] |= mask[1:, :]
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    return grown


def save_heatmap(
    image: Image.Image, grid: npt.NDArray[np.float64], path: str | Path, max_side: int = 1024
) -> Path:
    """Write `heatmap.png`: the overlay, at most `max_side` pixels a side."""
    picture = image.copy()
    picture.thumbnail((max_side, max_side))
    path = Path(path)
    overlay(picture, grid).save(path)
    return path


def save_sheet(
    image: Image.Image,
    grids: dict[str, npt.NDArray[np.float64]],
    path: str | Path,
    columns: int = 4,
    side: int = 260,
) -> Path:
    """Small multiples: one labelled overlay per span (phrase or sentence), one PNG."""
    from PIL import ImageDraw

    picture = image.copy()
    picture.thumbnail((side, side))
    width, height = picture.size
    rows = max(1, -(-len(grids) // columns))
    sheet = Image.new("RGB", (columns * (width + 8) + 8, rows * (height + 28) + 8), (246, 245, 242))
    draw = ImageDraw.Draw(sheet)
    for index, (label, grid) in enumerate(grids.items()):
        x = 8 + (index % columns) * (width + 8)
        y = 8 + (index // columns) * (height + 28)
        sheet.paste(overlay(picture, grid), (x, y + 20))
        draw.text((x, y + 4), label, fill=(30, 30, 30))
    path = Path(path)
    sheet.save(path)
    return path
