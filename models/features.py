"""What the label head looks at: cheap features of the image inside a box, the same for every
detector (the built-in one, a plug-in, an ML backend), so no model's internals are needed.

Per box, the crop (the box's pixels, at least one) is resized to 32 x 32 and described by
404 numbers:

- a colour histogram in HSV, 8 hue x 3 saturation x 3 value bins (72), as shares of the crop;
- the mean and standard deviation of R, G and B, over 255 (6);
- a histogram of oriented gradients of the grey crop (skimage.feature.hog: 9 orientations,
  8 x 8 px cells, 2 x 2 cell blocks, L2-Hys; 324): shape and texture;
- the box's shape: log of width over height (clipped to +-3) and the square root of its
  share of the image's area (2).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

SIDE = 32  # crops are resized to SIDE x SIDE
HUE_BINS, SATURATION_BINS, VALUE_BINS = 8, 3, 3
HOG_ORIENTATIONS, HOG_CELL, HOG_BLOCK = 9, 8, 2
_HOG_CELLS = SIDE // HOG_CELL
HOG_SIZE = (_HOG_CELLS - HOG_BLOCK + 1) ** 2 * HOG_BLOCK**2 * HOG_ORIENTATIONS
COLOUR_SIZE = HUE_BINS * SATURATION_BINS * VALUE_BINS + 6
SIZE = COLOUR_SIZE + HOG_SIZE + 2  # numbers per box
DESCRIPTION = (
    f"crop resized to {SIDE}x{SIDE}: HSV histogram {HUE_BINS}x{SATURATION_BINS}x{VALUE_BINS}, "
    f"RGB mean and std, HOG ({HOG_ORIENTATIONS} orientations, {HOG_CELL} px cells, "
    f"{HOG_BLOCK}x{HOG_BLOCK} blocks), log aspect ratio, sqrt area share; {SIZE} numbers"
)

Box = tuple[float, float, float, float]


def box_features(image: np.ndarray, boxes: Sequence[Box]) -> np.ndarray:
    """The features (len(boxes), SIZE) of each box (x0, y0, x1, y1, image pixels) of an RGB
    uint8 image (H, W, 3); a box is clipped to the image and keeps at least one pixel."""
    from skimage.feature import hog  # imported on first use: a web worker may never need it

    height, width = int(image.shape[0]), int(image.shape[1])
    picture = Image.fromarray(np.ascontiguousarray(image[:, :, :3]))
    rows = np.zeros((len(boxes), SIZE), np.float64)
    for row, box in enumerate(boxes):
        x0, y0, x1, y1 = _pixels(box, width, height)
        crop = picture.crop((x0, y0, x1, y1)).resize((SIDE, SIDE), Image.Resampling.BILINEAR)
        rgb = np.asarray(crop, np.float64)
        rows[row, :COLOUR_SIZE] = _colour(crop, rgb)
        grey = np.asarray(crop.convert("L"), np.float64) / 255.0
        rows[row, COLOUR_SIZE : COLOUR_SIZE + HOG_SIZE] = hog(
            grey,
            orientations=HOG_ORIENTATIONS,
            pixels_per_cell=(HOG_CELL, HOG_CELL),
            cells_per_block=(HOG_BLOCK, HOG_BLOCK),
            block_norm="L2-Hys",
            feature_vector=True,
        )
        rows[row, -2] = float(np.clip(np.log((x1 - x0) / (y1 - y0)), -3.0, 3.0))
        rows[row, -1] = float(np.sqrt((x1 - x0) * (y1 - y0) / (width * height)))
    return rows


def _pixels(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """The box as whole pixels inside the image, at least one wide and tall."""
    x0 = min(max(int(np.floor(min(box[0], box[2]))), 0), width - 1)
    y0 = min(max(int(np.floor(min(box[1], box[3]))), 0), height - 1)
    x1 = min(max(int(np.ceil(max(box[0], box[2]))), x0 + 1), width)
    y1 = min(max(int(np.ceil(max(box[1], box[3]))), y0 + 1), height)
    return x0, y0, x1, y1


def _colour(crop: Image.Image, rgb: np.ndarray) -> np.ndarray:
    hsv = np.asarray(crop.convert("HSV"), np.int64).reshape(-1, 3)
    hue = hsv[:, 0] * HUE_BINS // 256
    saturation = hsv[:, 1] * SATURATION_BINS // 256
    value = hsv[:, 2] * VALUE_BINS // 256
    codes = (hue * SATURATION_BINS + saturation) * VALUE_BINS + value
    histogram = np.bincount(codes, minlength=HUE_BINS * SATURATION_BINS * VALUE_BINS)
    pixels = rgb.reshape(-1, 3) / 255.0
    return np.concatenate([histogram / len(codes), pixels.mean(axis=0), pixels.std(axis=0)]).astype(
        np.float64
    )
