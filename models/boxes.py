"""Boxes of one kind of object that are really one: greedy non-maximum suppression."""

from __future__ import annotations

import numpy as np

IOU_THRESHOLD = 0.5  # a box overlapping a better one of its class more than this is dropped


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box (x0, y0, x1, y1) with each of boxes (N, 4)."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float = IOU_THRESHOLD) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the boxes kept, best score first; a box is
    dropped when its IoU with a kept, better one exceeds threshold."""
    order = np.argsort(-scores, kind="stable")
    kept: list[int] = []
    while order.size:
        first = int(order[0])
        kept.append(first)
        rest = order[1:]
        order = rest[iou(boxes[first], boxes[rest]) <= threshold]
    return np.array(kept, np.int64)


def multiclass_nms(
    boxes: np.ndarray,
    scores: np.ndarray,
    classes: np.ndarray,
    threshold: float = IOU_THRESHOLD,
) -> np.ndarray:
    """nms within each class (boxes of different classes never suppress each other):
    indices kept, best score first."""
    kept = [
        np.flatnonzero(classes == label)[
            nms(boxes[classes == label], scores[classes == label], threshold)
        ]
        for label in np.unique(classes)
    ]
    if not kept:
        return np.zeros(0, np.int64)
    merged = np.concatenate(kept)
    return merged[np.argsort(-scores[merged], kind="stable")]
