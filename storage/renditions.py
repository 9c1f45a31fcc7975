"""Read image dimensions from headers and make browser-ready display renditions."""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from storage.errors import UnreadableImage

# EXIF orientations that turn the image by 90 degrees, swapping width and height.
_TRANSPOSED = {5, 6, 7, 8}
DEFAULT_MAX_IMAGE_PIXELS = 100_000_000
# Formats and modes every browser shows as they are (no conversion needed).
BROWSER_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF"})
BROWSER_MODES = frozenset({"RGB", "RGBA", "L", "LA", "P", "1"})


@dataclass(frozen=True)
class ImageInfo:
    """Dimensions as displayed (after EXIF orientation), in original pixels; format facts."""

    width: int
    height: int
    format: str = ""
    mode: str = ""
    orientation: int = 1

    def browser_ready(self, max_px: int) -> bool:
        """True if a browser can show the original as it is, within the display limit."""
        return (
            self.format in BROWSER_FORMATS
            and self.mode in BROWSER_MODES
            and self.orientation == 1
            and max(self.width, self.height) <= max_px
        )


def set_pixel_limit(max_pixels: int) -> None:
    """Pillow's decompression-bomb limit: larger images are refused before decoding."""
    Image.MAX_IMAGE_PIXELS = max_pixels


def _open(data: bytes, key: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadableImage(
            f"{key} is too large to open safely (over {Image.MAX_IMAGE_PIXELS:,} pixels; "
            "raise MAX_IMAGE_PIXELS to allow it)"
        ) from None
    except UnidentifiedImageError:
        raise UnreadableImage(f"{key} is not an image Concord can read") from None
    except OSError as exc:
        raise UnreadableImage(f"{key} cannot be read as an image: {exc}") from None


def image_info(data: bytes, key: str) -> ImageInfo:
    """Size, format and orientation from the file header, without decoding the pixels."""
    image = _open(data, key)
    orientation = _orientation(image)
    width, height = image.size
    if orientation in _TRANSPOSED:
        width, height = height, width
    return ImageInfo(width, height, image.format or "", image.mode, orientation)


# A JPEG may be decoded at a reduced scale down to this share of DISPLAY_MAX_PX.
DRAFT_SHARE = 0.9

# How to turn each EXIF orientation upright (as ImageOps.exif_transpose does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block must not hide an otherwise good image
        return 1


def display_rendition(data: bytes, key: str, max_px: int) -> tuple[bytes, str]:
    """A JPEG (or PNG with transparency) no larger than max_px on the long side.

    Memory and time matter here (a worker makes several at once while the browser
    prefetches): JPEGs are decoded at a reduced scale where possible, the image is shrunk
    before it is turned upright, and nothing is copied that needs no change."""
    image = _open(data, key)
    try:
        orientation = _orientation(image)
        deep = image.mode in ("I;16", "I;16B", "I;16L", "I", "F")
        has_alpha = image.mode in ("RGBA", "LA") or (
            image.mode == "P" and "transparency" in image.info
        )
        target = "L" if deep else "RGBA" if has_alpha else "RGB"
        if image.format == "JPEG" and not has_alpha:
            # Decode at 1/2, 1/4 or 1/8 scale when that keeps DRAFT_SHARE of the display
            # size: a 4000x3000 photo decodes as 2000x1500, a quarter of the memory and time.
            share = max_px * DRAFT_SHARE / max(image.size)
            image.draft("RGB", (math.ceil(image.width * share), math.ceil(image.height * share)))
        image = _shrunk(image, max_px, target)
        if deep:
            image = ImageOps.autocontrast(image).convert("RGB")
        if orientation in _UPRIGHT:
            image = image.transpose(_UPRIGHT[orientation])
        out = io.BytesIO()
        if has_alpha:
            image.save(out, "PNG", optimize=False)
            return out.getvalue(), "image/png"
        image.save(out, "JPEG", quality=88)
        return out.getvalue(), "image/jpeg"
    except UnreadableImage:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableImage(f"{key} cannot be decoded: {exc}") from None


# Modes Pillow resizes as they are (with LANCZOS); others are converted first.
_RESIZABLE = frozenset({"L", "LA", "RGB", "RGBA"})
# Pixels converted at once when a big image is shrunk band by band.
BAND_PIXELS = 4_000_000


def _converted(image: Image.Image, target: str) -> Image.Image:
    if image.mode == target:
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return image.convert("F").convert(target)
    return image.convert(target)


def _shrunk(image: Image.Image, max_px: int, target: str) -> Image.Image:
    """The image in mode `target`, at most max_px on its long side.

    A PNG decodes at full size (Pillow has no reduced decode for it), so the full-size
    image is never copied: a resizable mode is shrunk first and converted after; any
    other mode (palette, 1-bit, 16-bit, CMYK) is converted and reduced band by band, so
    only one band exists in the (up to 4 bytes a pixel) target mode at a time."""
    width, height = image.size
    factor = max(width, height) // max_px  # reduced, it is still at least max_px
    if image.mode not in _RESIZABLE and factor >= 2:
        reduced = Image.new(target, (math.ceil(width / factor), math.ceil(height / factor)))
        rows = factor * max(1, BAND_PIXELS // (width * factor))
        for top in range(0, height, rows):
            band = image.crop((0, top, width, min(top + rows, height)))
            reduced.paste(_converted(band, target).reduce(factor), (0, top // factor))
        image = reduced
    if image.mode not in _RESIZABLE:
        image = _converted(image, target)
    if max(image.size) > max_px:
        # reduce() by an integer factor first, then LANCZOS on the smaller image.
        image.thumbnail((max_px, max_px), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return _converted(image, target)


def upright_rgb(data: bytes, key: str) -> np.ndarray:
    """The image's pixels as an upright (EXIF applied) RGB uint8 array (H, W, 3) in original
    pixels: what a detector looks at. 16-bit and float images are stretched to 8 bits,
    transparency is dropped."""
    image = _open(data, key)
    try:
        orientation = _orientation(image)
        if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
            image = ImageOps.autocontrast(image.convert("F").convert("L"))
        if image.mode != "RGB":
            image = image.convert("RGB")
        if orientation in _UPRIGHT:
            image = image.transpose(_UPRIGHT[orientation])
        return np.asarray(image, dtype=np.uint8)
    except (OSError, ValueError, SyntaxError) as exc:
        raise UnreadableImage(f"{key} cannot be decoded: {exc}") from None
