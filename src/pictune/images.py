"""Opening user pictures safely, for every backend and front end: size limits, EXIF
rotation, first frame, any colour mode."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from pictune.errors import InputError
from pictune.files import read_limited

# What pictune accepts as a picture: a file's path, the file's bytes, or a PIL image.
ImageInput = str | Path | bytes | Image.Image

MAX_PIXELS = 50_000_000
MAX_BYTES = 50 << 20
# Pillow's own bomb guard, set once for the process when pictune first opens a picture.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def image_file(source: ImageInput) -> str:
    """The picture's file as an absolute path; "" for a picture given in memory."""
    return str(Path(source).resolve()) if isinstance(source, (str, Path)) else ""


def load_image(source: ImageInput, max_side: int | None = None) -> Image.Image:
    """An RGB image, upright (EXIF orientation applied), first frame of an animation.

    With `max_side`, the image is brought down to fit that many pixels a side, and a JPEG is
    decoded at reduced scale to begin with (1/2 … 1/8: a fraction of the memory).
    Raises InputError with one line for: a missing, empty or non-image file, a truncated
    file, and an image over 50 megapixels (a decompression bomb is refused before decoding).
    """
    if isinstance(source, Image.Image):
        return _from_memory(source, max_side)
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), "image"
    elif not isinstance(source, (str, Path)):
        raise InputError(
            f"a picture is a file path, its bytes or a PIL image, not {type(source).__name__}"
        )
    else:
        path = Path(source)
        data, name = read_limited(path, MAX_BYTES, "image"), path.name
    if not data:
        raise InputError(f"{name} is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise InputError(f"{name} is {width}×{height}; images are limited to 50 megapixels")
            image.seek(0)
            if max_side and image.format == "JPEG":
                image.draft("RGB", (max_side, max_side))
            image.load()
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError(f"{name} is too large to decode safely (over 50 megapixels)") from exc
    except UnidentifiedImageError as exc:
        raise InputError(f"{name} is not an image pictune can read") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{name} is damaged or truncated: {exc}") from exc
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BOX)
    upright: Image.Image = ImageOps.exif_transpose(image) or image
    return _to_rgb(upright)


def _from_memory(image: Image.Image, max_side: int | None) -> Image.Image:
    """A PIL image the caller holds, as `load_image` would return it; the caller's image is
    not changed."""
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InputError(f"the image is {width}×{height}; images are limited to 50 megapixels")
    if width == 0 or height == 0:
        raise InputError("the image is empty (0 pixels)")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"the image is damaged or truncated: {exc}") from exc
    copy = image.copy()
    if max_side and max(copy.size) > max_side:
        copy.thumbnail((max_side, max_side), Image.Resampling.BOX)
    upright: Image.Image = ImageOps.exif_transpose(copy) or copy
    return _to_rgb(upright)


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16/32-bit grey: scale to 8 bits by the image's own range.
        import numpy as np

        array = np.asarray(image, dtype=np.float64)
        low, high = float(array.min()), float(array.max())
        scaled = (array - low) / (high - low) * 255 if high > low else np.zeros_like(array)
        return Image.fromarray(scaled.astype("uint8")).convert("RGB")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
        return background
    return image.convert("RGB")
