"""Measuring what a picture shows: light, colour, palette, edges, complexity, balance.

Measurements are taken on a copy scaled to at most 256 pixels a side, in CIELAB (a
perceptual colour space) for everything about colour and light.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from PIL import Image

Array = npt.NDArray[np.float64]
ANALYSIS_SIDE = 256
PALETTE_SIZE = 5


@dataclass(frozen=True)
class PaletteColour:
    rgb: tuple[int, int, int]
    lab: tuple[float, float, float]
    share: float  # of the picture's pixels
    hue_degrees: float
    chroma: float
    name: str


@dataclass(frozen=True)
class ImageAnalysis:
    """Every measurement is on a 0–1 scale unless its name says otherwise."""

    brightness: float  # mean L*/100
    brightness_spread: float  # std of L*/100
    contrast: float  # RMS contrast of L*, normalised
    saturation: float  # mean chroma / 100
    warmth: float  # -1 (blue) … +1 (orange)
    edge_density: float  # share of pixels on an edge
    texture: float  # mean gradient strength
    complexity: float  # blend of edges and luminance entropy
    symmetry: float  # left–right mirror similarity
    mass_x: float  # centre of visual weight, 0 left … 1 right
    mass_y: float  # 0 top … 1 bottom
    palette: tuple[PaletteColour, ...]
    width: int
    height: int
    maps: dict[str, Array] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("maps")
        data["palette"] = [asdict(c) for c in self.palette]
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in data.items()}


def srgb_to_lab(rgb: Array) -> Array:
    """CIELAB (D65) of sRGB values in 0–255, shape (..., 3)."""
    c = rgb / 255.0
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    matrix = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = linear @ matrix.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    lightness = 116 * f[..., 1] - 16
    a = 500 * (f[..., 0] - f[..., 1])
    b = 200 * (f[..., 1] - f[..., 2])
    return np.stack([lightness, a, b], axis=-1)


def colour_name(lab: tuple[float, float, float]) -> str:
    lightness, a, b = lab
    chroma = float(np.hypot(a, b))
    if chroma < 12:
        return "black" if lightness < 20 else "white" if lightness > 85 else "grey"
    hue = float(np.degrees(np.arctan2(b, a)) % 360)
    names = (
        (20, "crimson"), (55, "orange"), (75, "amber"), (100, "gold"), (135, "olive"),
        (165, "green"), (200, "teal"), (245, "azure"), (290, "blue"), (330, "violet"),
        (360, "rose"),
    )  # fmt: skip
    name = next(n for limit, n in names if hue < limit)
    if lightness < 35:
        return f"dark {name}"
    return f"pale {name}" if lightness > 80 else name


def _kmeans(points: Array, k: int, iterations: int = 12) -> tuple[Array, npt.NDArray[np.int64]]:
    """Deterministic k-means (farthest-point start) in Lab."""
    centres = [points[np.argmin(points[:, 0])]]
    for _ in range(1, k):
        distance = np.min([((points - c) ** 2).sum(axis=1) for c in centres], axis=0)
        centres.append(points[int(np.argmax(distance))])
    centre_array = np.array(centres)
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(iterations):
        distances = ((points[:, None, :] - centre_array[None, :, :]) ** 2).sum(axis=2)
        labels = np.argmin(distances, axis=1)
        for j in range(k):
            members = points[labels == j]
            if len(members):
                centre_array[j] = members.mean(axis=0)
    return centre_array, labels


def analyse(image: Image.Image) -> ImageAnalysis:
    """Measure `image` (any size, RGB)."""
    width, height = image.size
    small = image.copy()
    small.thumbnail((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BILINEAR)
    if min(small.size) < 8:  # gradients and palettes need a few pixels: enlarge tiny images
        scale = 8 / min(small.size)
        size = (max(8, round(small.width * scale)), max(8, round(small.height * scale)))
        small = small.resize(size, Image.Resampling.NEAREST)
    rgb = np.asarray(small, dtype=np.float64)
    lab = srgb_to_lab(rgb)
    lightness, a, b = lab[..., 0], lab[..., 1], lab[..., 2]
    chroma = np.hypot(a, b)

    gy, gx = np.gradient(lightness)
    gradient = np.hypot(gx, gy)
    edges = gradient > 8.0
    histogram = np.histogram(lightness, bins=32, range=(0, 100))[0].astype(np.float64)
    probability = histogram[histogram > 0] / histogram.sum()
    luminance_entropy = float(-(probability * np.log2(probability)).sum() / 5.0)
    edge_density = float(edges.mean())
    complexity = float(np.clip(0.6 * min(edge_density * 4, 1.0) + 0.4 * luminance_entropy, 0, 1))
    mirrored = np.abs(lightness - lightness[:, ::-1]).mean() / 100.0
    weight = chroma / 100.0 + np.abs(lightness - lightness.mean()) / 100.0 + 1e-9
    ys, xs = np.mgrid[0 : lightness.shape[0], 0 : lightness.shape[1]]
    mass_x = float((weight * xs).sum() / weight.sum() / max(lightness.shape[1] - 1, 1))
    mass_y = float((weight * ys).sum() / weight.sum() / max(lightness.shape[0] - 1, 1))
    hue = np.arctan2(b, a)
    # Warmth: chroma-weighted closeness of hue to orange (about 60° in Lab) versus blue (240°).
    warm = (np.cos(hue - np.radians(60)) * chroma).sum() / max(chroma.sum(), 1e-9)
    warmth = float(np.clip(warm * min(float(chroma.mean()) / 25.0, 1.0), -1, 1))

    points = lab.reshape(-1, 3)
    step = max(1, len(points) // 6000)
    centres, _ = _kmeans(points[::step], min(PALETTE_SIZE, len(points[::step])))
    labels = np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(axis=2), axis=1)
    shares = np.bincount(labels, minlength=len(centres)) / len(labels)
    order = np.argsort(-shares)
    palette = []
    for j in order:
        if shares[j] <= 0:
            continue
        mean_rgb = rgb.reshape(-1, 3)[labels == j].mean(axis=0)
        centre = tuple(float(v) for v in centres[j])
        palette.append(
            PaletteColour(
                rgb=(round(mean_rgb[0]), round(mean_rgb[1]), round(mean_rgb[2])),
                lab=(round(centre[0], 2), round(centre[1], 2), round(centre[2], 2)),
                share=round(float(shares[j]), 4),
                hue_degrees=round(float(np.degrees(np.arctan2(centre[2], centre[1])) % 360), 1),
                chroma=round(float(np.hypot(centre[1], centre[2])), 2),
                name=colour_name(centre),  # type: ignore[arg-type]
            )
        )
    cluster_map = np.zeros((len(centres), *lightness.shape))
    label_grid = labels.reshape(lightness.shape)
    for j in range(len(centres)):
        cluster_map[j] = label_grid == j
    return ImageAnalysis(
        brightness=float(lightness.mean() / 100),
        brightness_spread=float(lightness.std() / 100),
        contrast=float(np.clip(lightness.std() / 35.0, 0, 1)),
        saturation=float(np.clip(chroma.mean() / 60.0, 0, 1)),
        warmth=warmth,
        edge_density=edge_density,
        texture=float(np.clip(gradient.mean() / 12.0, 0, 1)),
        complexity=complexity,
        symmetry=float(np.clip(1 - mirrored * 4, 0, 1)),
        mass_x=mass_x,
        mass_y=mass_y,
        palette=tuple(palette),
        width=width,
        height=height,
        maps={
            "lightness": lightness / 100.0,
            "chroma": np.clip(chroma / 60.0, 0, 1),
            "edges": np.clip(gradient / 30.0, 0, 1),
            "weight": weight / weight.max(),
            "clusters": cluster_map[order],
        },
    )
