"""Small JPEG crops of an image around a shape's box, for the label QA grid.

A crop is cut from the display rendition (cached already, and small), not the original,
then shrunk to CROP_PX on its long side; crops are cached beside the renditions and
validated by an ETag that changes with the image and the region."""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Sequence

from PIL import Image

from storage.errors import UnreadableImage
from storage.image_service import RENDER_SLOTS, ImageService, Rendition

CROP_PX = 192  # long side of a crop: cards show it at ~150 CSS px, sharp on 1.25x screens
MARGIN = 0.2  # of the box's width (height) added on each side
MIN_MARGIN = 8  # pixels of context at least, for tiny boxes
JPEG_QUALITY = 80
CROP_SECONDS = 3600

Box = tuple[float, float, float, float]
Region = tuple[int, int, int, int]


def parse_box(text: str | None) -> Box:
    """x0,y0,x1,y1 from a query string, in original pixels; ValueError saying why not."""
    parts = (text or "").split(",")
    if len(parts) != 4:
        raise ValueError("box must be four numbers x0,y0,x1,y1")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise ValueError("box must be four numbers x0,y0,x1,y1") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError("box must be four finite numbers")
    x0, y0, x1, y1 = values
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def bounding_box(coords: Sequence[float], points: Sequence[tuple[float, float]]) -> Box:
    """The box around a shape's coords (x0, y0, x1, y1) or points."""
    xs = [*coords[0::2], *(p[0] for p in points)]
    ys = [*coords[1::2], *(p[1] for p in points)]
    if not xs or not ys:
        return 0.0, 0.0, 0.0, 0.0
    return min(xs), min(ys), max(xs), max(ys)


def crop_region(box: Box, width: int, height: int) -> Region:
    """The region a crop shows: the box with MARGIN (at least MIN_MARGIN px) each side,
    clamped to the image, whole pixels, never empty. ValueError when the box lies wholly
    outside the image."""
    x0, y0, x1, y1 = box
    if x1 < 0 or y1 < 0 or x0 > width or y0 > height:
        raise ValueError(f"box lies outside the {width}x{height} image")
    dx = max(MIN_MARGIN, (x1 - x0) * MARGIN)
    dy = max(MIN_MARGIN, (y1 - y0) * MARGIN)
    left = max(0, math.floor(x0 - dx))
    top = max(0, math.floor(y0 - dy))
    right = min(width, max(left + 1, math.ceil(x1 + dx)))
    bottom = min(height, max(top + 1, math.ceil(y1 + dy)))
    return left, top, right, bottom


def crop_etag(images: ImageService, key: str, region: Region) -> str:
    """A validator that changes with the image's content, the display limit and the region."""
    raw = f"{images.etag(key)}:{region}:{CROP_PX}".encode()
    return hashlib.blake2b(raw, digest_size=10).hexdigest()


def crop_tag(images: ImageService, key: str, box: Box) -> str:
    """The ETag the crop around `box` has (no pixels read); ValueError for a box outside."""
    info = images.info(key)
    return crop_etag(images, key, crop_region(box, info.width, info.height))


def crop(images: ImageService, key: str, box: Box) -> Rendition:
    """The JPEG crop around `box` on image `key` (cached); ValueError for a box outside the
    image; the source's errors (ImageNotFound, UnreadableImage...) as they are."""
    info = images.info(key)
    region = crop_region(box, info.width, info.height)
    etag = crop_etag(images, key, region)
    cache_key = f"crop:{key}:{etag}"
    cached = images.renditions.get(cache_key)
    if isinstance(cached, Rendition):
        return cached
    rendition = images.rendition(key)
    with RENDER_SLOTS:
        data = _cut(rendition.data, key, region, info.width)
    made = Rendition(data, "image/jpeg", etag)
    images.renditions.set(cache_key, made, timeout=CROP_SECONDS)
    return made


def _cut(display: bytes, key: str, region: Region, original_width: int) -> bytes:
    """Cut the region (original pixels) out of the display rendition's bytes."""
    try:
        with Image.open(io.BytesIO(display)) as image:
            scale = image.width / max(original_width, 1)
            left, top, right, bottom = region
            area = (
                math.floor(left * scale),
                math.floor(top * scale),
                max(math.floor(left * scale) + 1, math.ceil(right * scale)),
                max(math.floor(top * scale) + 1, math.ceil(bottom * scale)),
            )
            piece = image.crop(area)
            if piece.mode != "RGB":
                flat = Image.new("RGB", piece.size, "white")
                flat.paste(piece, mask=piece.getchannel("A") if "A" in piece.mode else None)
                piece = flat
            piece.thumbnail((CROP_PX, CROP_PX), Image.Resampling.LANCZOS)
            out = io.BytesIO()
            piece.save(out, "JPEG", quality=JPEG_QUALITY)
            return out.getvalue()
    except (OSError, ValueError) as exc:
        raise UnreadableImage(f"{key}: cannot cut a crop: {exc}") from None
