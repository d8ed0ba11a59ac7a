"""Heat-maps: a grid of weights drawn over the image it explains."""

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


def overlay(image: Image.Image, grid: npt.NDArray[np.float64], alpha: float = 0.55) -> Image.Image:
    """The image with the grid upsampled (bilinear), coloured and blended over it."""
    values = np.asarray(grid, dtype=np.float64)
    span = values.max() - values.min()
    values = (values - values.min()) / span if span > 0 else np.zeros_like(values)
    heat = Image.fromarray((values * 255).astype(np.uint8)).resize(
        image.size, Image.Resampling.BILINEAR
    )
    coloured = Image.fromarray(colourise(np.asarray(heat, dtype=np.float64) / 255.0))
    return Image.blend(image.convert("RGB"), coloured, alpha)


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
